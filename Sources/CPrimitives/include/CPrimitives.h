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

#ifdef __cplusplus
}
#endif

#endif
