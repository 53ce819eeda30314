#ifndef CPRIMITIVES_H
#define CPRIMITIVES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// XORs each of the `blocks` 136-byte blocks at `input` (17 little-endian 64-bit lanes, no
/// alignment needed) into `state` (lane x + 5y at index x + 5y, native byte order) and applies
/// Keccak-f[1600] after each one: the Keccak-256 absorb loop. Uses BMI1/BMI2 when the CPU has them.
void cprim_keccak_f1600_absorb136(uint64_t state[25], const void *input, size_t blocks);

/// The portable Keccak absorb loop, whatever the machine supports (for tests and benchmarks).
void cprim_keccak_f1600_absorb136_portable(uint64_t state[25], const void *input, size_t blocks);

/// Extends a running CRC-32C (Castagnoli, reflected 0x82F63B78; start with 0) over `count`
/// bytes at `data`, with the SSE 4.2 crc32 instruction when the CPU has it.
uint32_t cprim_crc32c_update(uint32_t crc, const void *data, size_t count);

/// The portable slice-by-8 CRC-32C, whatever the machine supports (for tests and benchmarks).
uint32_t cprim_crc32c_update_portable(uint32_t crc, const void *data, size_t count);

/// Whether `cprim_crc32c_update` uses the SSE 4.2 crc32 instruction on this machine.
int cprim_crc32c_is_accelerated(void);

#ifdef __cplusplus
}
#endif

#endif
