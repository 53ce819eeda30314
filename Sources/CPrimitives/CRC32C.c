// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) for whisper-archive.
//
// x86-64 with SSE 4.2 uses the crc32 instruction, eight bytes at a time. It takes three cycles
// but a new one can start every cycle, so long buffers run as three independent streams over
// adjacent chunks whose CRCs are then joined: the CRC register is linear, so the register
// after chunks A then B is shift(register after A, |B|) ^ (register over B started from 0),
// where shift(x, n) is the register reached from x over n zero bytes, read from tables.
// Elsewhere a slice-by-8 table loop does the work.

#include "CPrimitives.h"

#include <pthread.h>
#include <string.h>

#define CRC32C_POLY 0x82F63B78u

static uint32_t crc32c_tables[8][256];
static pthread_once_t crc32c_tables_once = PTHREAD_ONCE_INIT;

static void crc32c_build_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int bit = 0; bit < 8; bit++) c = (c & 1) ? (c >> 1) ^ CRC32C_POLY : c >> 1;
        crc32c_tables[0][i] = c;
    }
    for (int k = 1; k < 8; k++) {
        for (int i = 0; i < 256; i++) {
            uint32_t prev = crc32c_tables[k - 1][i];
            crc32c_tables[k][i] = (prev >> 8) ^ crc32c_tables[0][prev & 0xFF];
        }
    }
}

static inline uint32_t crc32c_load_le32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

uint32_t cprim_crc32c_update_portable(uint32_t crc, const void *data, size_t count) {
    pthread_once(&crc32c_tables_once, crc32c_build_tables);
    const uint8_t *p = data;
    uint32_t c = ~crc;
    while (count >= 8) {
        uint32_t lo = crc32c_load_le32(p) ^ c;
        uint32_t hi = crc32c_load_le32(p + 4);
        c = crc32c_tables[7][lo & 0xFF] ^ crc32c_tables[6][(lo >> 8) & 0xFF]
            ^ crc32c_tables[5][(lo >> 16) & 0xFF] ^ crc32c_tables[4][lo >> 24]
            ^ crc32c_tables[3][hi & 0xFF] ^ crc32c_tables[2][(hi >> 8) & 0xFF]
            ^ crc32c_tables[1][(hi >> 16) & 0xFF] ^ crc32c_tables[0][hi >> 24];
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        c = crc32c_tables[0][(c ^ *p) & 0xFF] ^ (c >> 8);
        p++;
        count--;
    }
    return ~c;
}

#if defined(__x86_64__)

#include <nmmintrin.h>

// Chunk lengths of the three-stream loops (bytes per stream; multiples of 8).
#define CRC32C_LONG 4096
#define CRC32C_SHORT 256

// shift(x, n) = table[0][x & 0xFF] ^ table[1][(x >> 8) & 0xFF] ^ ... for n = LONG and SHORT.
static uint32_t crc32c_shift_long[4][256];
static uint32_t crc32c_shift_short[4][256];

__attribute__((target("sse4.2")))
static uint32_t crc32c_zeros(uint32_t x, size_t n) {
    uint64_t c = x;
    for (size_t i = 0; i < n; i += 8) c = _mm_crc32_u64(c, 0);
    return (uint32_t)c;
}

// The shift operator is linear, so its tables follow from its images of the 32 unit vectors.
static void crc32c_build_shift(uint32_t table[4][256], size_t n) {
    uint32_t unit[32];
    for (int i = 0; i < 32; i++) unit[i] = crc32c_zeros(1u << i, n);
    for (int k = 0; k < 4; k++) {
        for (int b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int j = 0; j < 8; j++) if (b & (1 << j)) v ^= unit[8 * k + j];
            table[k][b] = v;
        }
    }
}

static inline uint32_t crc32c_shift(const uint32_t table[4][256], uint32_t x) {
    return table[0][x & 0xFF] ^ table[1][(x >> 8) & 0xFF] ^ table[2][(x >> 16) & 0xFF] ^ table[3][x >> 24];
}

static inline uint64_t crc32c_load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

// Three streams over `chunk`-byte thirds of each 3 * chunk bytes, while they last.
#define CRC32C_THREE_STREAMS(chunk, table)                                            \
    while (count >= 3 * (chunk)) {                                                    \
        uint64_t c0 = c, c1 = 0, c2 = 0;                                              \
        for (size_t i = 0; i < (chunk); i += 8) {                                     \
            c0 = _mm_crc32_u64(c0, crc32c_load64(p + i));                             \
            c1 = _mm_crc32_u64(c1, crc32c_load64(p + (chunk) + i));                   \
            c2 = _mm_crc32_u64(c2, crc32c_load64(p + 2 * (chunk) + i));               \
        }                                                                             \
        c = crc32c_shift(table, crc32c_shift(table, (uint32_t)c0) ^ (uint32_t)c1)     \
            ^ (uint32_t)c2;                                                           \
        p += 3 * (chunk);                                                             \
        count -= 3 * (chunk);                                                         \
    }

__attribute__((target("sse4.2")))
static uint32_t crc32c_update_sse42(uint32_t crc, const void *data, size_t count) {
    const uint8_t *p = data;
    uint64_t c = ~crc;
    while (count > 0 && ((uintptr_t)p & 7) != 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        count--;
    }
    CRC32C_THREE_STREAMS(CRC32C_LONG, crc32c_shift_long)
    CRC32C_THREE_STREAMS(CRC32C_SHORT, crc32c_shift_short)
    while (count >= 8) {
        c = _mm_crc32_u64(c, crc32c_load64(p));
        p += 8;
        count -= 8;
    }
    while (count > 0) {
        c = _mm_crc32_u8((uint32_t)c, *p++);
        count--;
    }
    return ~(uint32_t)c;
}

typedef uint32_t (*crc32c_fn)(uint32_t, const void *, size_t);

static crc32c_fn crc32c_chosen;
static pthread_once_t crc32c_choose_once = PTHREAD_ONCE_INIT;

static void crc32c_choose(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        crc32c_build_shift(crc32c_shift_long, CRC32C_LONG);
        crc32c_build_shift(crc32c_shift_short, CRC32C_SHORT);
        crc32c_chosen = crc32c_update_sse42;
    } else {
        crc32c_chosen = cprim_crc32c_update_portable;
    }
}

uint32_t cprim_crc32c_update(uint32_t crc, const void *data, size_t count) {
    pthread_once(&crc32c_choose_once, crc32c_choose);
    return crc32c_chosen(crc, data, count);
}

int cprim_crc32c_is_accelerated(void) {
    pthread_once(&crc32c_choose_once, crc32c_choose);
    return crc32c_chosen != cprim_crc32c_update_portable;
}

#else

uint32_t cprim_crc32c_update(uint32_t crc, const void *data, size_t count) {
    return cprim_crc32c_update_portable(crc, data, count);
}

int cprim_crc32c_is_accelerated(void) { return 0; }

#endif
