// Keccak-f[1600] absorb loop for Keccak-256 (rate 136 bytes), written for whisper-archive.
//
// The 25 lanes live in locals (lane i is x + 5y). Each loop iteration runs two rounds, the
// first from the `a` lanes into the `e` lanes and the second back, so no lanes are copied.
//
// Two chi forms share the same theta, rho and pi:
// - plain: e = b0 ^ (~b1 & b2), which x86-64 with BMI1 does in ANDN + XOR;
// - complemented: lanes 1, 2, 8, 12, 17 and 20 are kept inverted between rounds, which lets
//   chi use AND and OR with one NOT per row instead of five (for CPUs without ANDN).

#include "CPrimitives.h"

#include <string.h>

static const uint64_t keccak_round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808AULL, 0x8000000080008000ULL,
    0x000000000000808BULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008AULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000AULL,
    0x000000008000808BULL, 0x800000000000008BULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800AULL, 0x800000008000000AULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

static inline __attribute__((always_inline)) uint64_t keccak_load_le64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

#define ROL64(x, n) (((x) << (n)) | ((x) >> (64 - (n))))

// Theta, rho and pi from the lanes `A` into b0...b24 (b is chi's input, row by row).
#define KECCAK_THETA_RHO_PI(A)                                                        \
    c0 = A##0 ^ A##5 ^ A##10 ^ A##15 ^ A##20;                                         \
    c1 = A##1 ^ A##6 ^ A##11 ^ A##16 ^ A##21;                                         \
    c2 = A##2 ^ A##7 ^ A##12 ^ A##17 ^ A##22;                                         \
    c3 = A##3 ^ A##8 ^ A##13 ^ A##18 ^ A##23;                                         \
    c4 = A##4 ^ A##9 ^ A##14 ^ A##19 ^ A##24;                                         \
    d0 = c4 ^ ROL64(c1, 1);                                                           \
    d1 = c0 ^ ROL64(c2, 1);                                                           \
    d2 = c1 ^ ROL64(c3, 1);                                                           \
    d3 = c2 ^ ROL64(c4, 1);                                                           \
    d4 = c3 ^ ROL64(c0, 1);                                                           \
    b0 = A##0 ^ d0;                                                                   \
    t = A##6 ^ d1;  b1 = ROL64(t, 44);                                                \
    t = A##12 ^ d2; b2 = ROL64(t, 43);                                                \
    t = A##18 ^ d3; b3 = ROL64(t, 21);                                                \
    t = A##24 ^ d4; b4 = ROL64(t, 14);                                                \
    t = A##3 ^ d3;  b5 = ROL64(t, 28);                                                \
    t = A##9 ^ d4;  b6 = ROL64(t, 20);                                                \
    t = A##10 ^ d0; b7 = ROL64(t, 3);                                                 \
    t = A##16 ^ d1; b8 = ROL64(t, 45);                                                \
    t = A##22 ^ d2; b9 = ROL64(t, 61);                                                \
    t = A##1 ^ d1;  b10 = ROL64(t, 1);                                                \
    t = A##7 ^ d2;  b11 = ROL64(t, 6);                                                \
    t = A##13 ^ d3; b12 = ROL64(t, 25);                                               \
    t = A##19 ^ d4; b13 = ROL64(t, 8);                                                \
    t = A##20 ^ d0; b14 = ROL64(t, 18);                                               \
    t = A##4 ^ d4;  b15 = ROL64(t, 27);                                               \
    t = A##5 ^ d0;  b16 = ROL64(t, 36);                                               \
    t = A##11 ^ d1; b17 = ROL64(t, 10);                                               \
    t = A##17 ^ d2; b18 = ROL64(t, 15);                                               \
    t = A##23 ^ d3; b19 = ROL64(t, 56);                                               \
    t = A##2 ^ d2;  b20 = ROL64(t, 62);                                               \
    t = A##8 ^ d3;  b21 = ROL64(t, 55);                                               \
    t = A##14 ^ d4; b22 = ROL64(t, 39);                                               \
    t = A##15 ^ d0; b23 = ROL64(t, 41);                                               \
    t = A##21 ^ d1; b24 = ROL64(t, 2);

// Chi and iota into the lanes `E`, nothing complemented.
#define KECCAK_CHI_PLAIN(E, rc)                                                       \
    E##0 = b0 ^ (~b1 & b2) ^ (rc);                                                    \
    E##1 = b1 ^ (~b2 & b3);                                                           \
    E##2 = b2 ^ (~b3 & b4);                                                           \
    E##3 = b3 ^ (~b4 & b0);                                                           \
    E##4 = b4 ^ (~b0 & b1);                                                           \
    E##5 = b5 ^ (~b6 & b7);                                                           \
    E##6 = b6 ^ (~b7 & b8);                                                           \
    E##7 = b7 ^ (~b8 & b9);                                                           \
    E##8 = b8 ^ (~b9 & b5);                                                           \
    E##9 = b9 ^ (~b5 & b6);                                                           \
    E##10 = b10 ^ (~b11 & b12);                                                       \
    E##11 = b11 ^ (~b12 & b13);                                                       \
    E##12 = b12 ^ (~b13 & b14);                                                       \
    E##13 = b13 ^ (~b14 & b10);                                                       \
    E##14 = b14 ^ (~b10 & b11);                                                       \
    E##15 = b15 ^ (~b16 & b17);                                                       \
    E##16 = b16 ^ (~b17 & b18);                                                       \
    E##17 = b17 ^ (~b18 & b19);                                                       \
    E##18 = b18 ^ (~b19 & b15);                                                       \
    E##19 = b19 ^ (~b15 & b16);                                                       \
    E##20 = b20 ^ (~b21 & b22);                                                       \
    E##21 = b21 ^ (~b22 & b23);                                                       \
    E##22 = b22 ^ (~b23 & b24);                                                       \
    E##23 = b23 ^ (~b24 & b20);                                                       \
    E##24 = b24 ^ (~b20 & b21);

// Chi and iota into the lanes `E` when lanes 1, 2, 8, 12, 17 and 20 are held complemented.
// Theta then leaves lanes 0, 1, 2, 3, 5, 10, 12, 13, 15, 17, 18 and 23 complemented, so after
// rho and pi b0, b2, b3, b5, b7, b10, b12, b16, b18, b19, b20 and b23 are inverted here; each
// line below was derived from the plain form for those inputs and the output pattern.
#define KECCAK_CHI_COMPLEMENTED(E, rc)                                                \
    E##0 = b0 ^ (b1 | b2) ^ (rc);                                                     \
    E##1 = b1 ^ (~b2 | b3);                                                           \
    E##2 = b2 ^ (b3 & b4);                                                            \
    E##3 = b3 ^ (b4 | b0);                                                            \
    E##4 = b4 ^ (b0 & b1);                                                            \
    E##5 = b5 ^ (b6 | b7);                                                            \
    E##6 = b6 ^ (b7 & b8);                                                            \
    E##7 = b7 ^ (b8 | ~b9);                                                           \
    E##8 = b8 ^ (b9 | b5);                                                            \
    E##9 = b9 ^ (b5 & b6);                                                            \
    t = ~b13;                                                                         \
    E##10 = b10 ^ (b11 | b12);                                                        \
    E##11 = b11 ^ (b12 & b13);                                                        \
    E##12 = b12 ^ (t & b14);                                                          \
    E##13 = t ^ (b14 | b10);                                                          \
    E##14 = b14 ^ (b10 & b11);                                                        \
    t = ~b18;                                                                         \
    E##15 = b15 ^ (b16 & b17);                                                        \
    E##16 = b16 ^ (b17 | b18);                                                        \
    E##17 = b17 ^ (t | b19);                                                          \
    E##18 = t ^ (b19 & b15);                                                          \
    E##19 = b19 ^ (b15 | b16);                                                        \
    t = ~b21;                                                                         \
    E##20 = b20 ^ (t & b22);                                                          \
    E##21 = t ^ (b22 | b23);                                                          \
    E##22 = b22 ^ (b23 & b24);                                                        \
    E##23 = b23 ^ (b24 | b20);                                                        \
    E##24 = b24 ^ (b20 & b21);

#define KECCAK_LANES(X)                                                               \
    X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12)              \
    X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22) X(23) X(24)
#define KECCAK_DECLARE(i) uint64_t a##i = state[i], e##i;
#define KECCAK_STORE(i) state[i] = a##i;
#define KECCAK_COMPLEMENT_PATTERN(X) X(1) X(2) X(8) X(12) X(17) X(20)
#define KECCAK_INVERT(i) a##i = ~a##i;
#define KECCAK_ABSORB_LANE(i) a##i ^= keccak_load_le64(input + 8 * (i));

// The whole absorb loop; `complemented` is a constant, so each caller gets one chi form.
static inline __attribute__((always_inline)) void keccak_absorb(uint64_t state[25], const uint8_t *input,
                                                                size_t blocks, const int complemented) {
    KECCAK_LANES(KECCAK_DECLARE)
    uint64_t b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11, b12, b13, b14, b15, b16, b17, b18, b19,
        b20, b21, b22, b23, b24, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, t;
    if (complemented) { KECCAK_COMPLEMENT_PATTERN(KECCAK_INVERT) }
    for (; blocks > 0; blocks--, input += 136) {
        KECCAK_ABSORB_LANE(0) KECCAK_ABSORB_LANE(1) KECCAK_ABSORB_LANE(2) KECCAK_ABSORB_LANE(3)
        KECCAK_ABSORB_LANE(4) KECCAK_ABSORB_LANE(5) KECCAK_ABSORB_LANE(6) KECCAK_ABSORB_LANE(7)
        KECCAK_ABSORB_LANE(8) KECCAK_ABSORB_LANE(9) KECCAK_ABSORB_LANE(10) KECCAK_ABSORB_LANE(11)
        KECCAK_ABSORB_LANE(12) KECCAK_ABSORB_LANE(13) KECCAK_ABSORB_LANE(14) KECCAK_ABSORB_LANE(15)
        KECCAK_ABSORB_LANE(16)
        for (int round = 0; round < 24; round += 2) {
            if (complemented) {
                KECCAK_THETA_RHO_PI(a)
                KECCAK_CHI_COMPLEMENTED(e, keccak_round_constants[round])
                KECCAK_THETA_RHO_PI(e)
                KECCAK_CHI_COMPLEMENTED(a, keccak_round_constants[round + 1])
            } else {
                KECCAK_THETA_RHO_PI(a)
                KECCAK_CHI_PLAIN(e, keccak_round_constants[round])
                KECCAK_THETA_RHO_PI(e)
                KECCAK_CHI_PLAIN(a, keccak_round_constants[round + 1])
            }
        }
    }
    if (complemented) { KECCAK_COMPLEMENT_PATTERN(KECCAK_INVERT) }
    KECCAK_LANES(KECCAK_STORE)
}

void cprim_keccak_f1600_absorb136_portable(uint64_t state[25], const void *input, size_t blocks) {
    keccak_absorb(state, input, blocks, 1);
}

#if defined(__x86_64__)

// BMI1 gives ANDN (chi in two instructions a lane) and BMI2 gives RORX (a rotate that does
// not overwrite its source), so the plain chi form wins.
__attribute__((target("bmi,bmi2")))
static void keccak_absorb_bmi(uint64_t state[25], const void *input, size_t blocks) {
    keccak_absorb(state, input, blocks, 0);
}

typedef void (*keccak_absorb_fn)(uint64_t *, const void *, size_t);

static keccak_absorb_fn keccak_chosen; // resolved on first use; every thread resolves the same

void cprim_keccak_f1600_absorb136(uint64_t state[25], const void *input, size_t blocks) {
    keccak_absorb_fn f = __atomic_load_n(&keccak_chosen, __ATOMIC_RELAXED);
    if (f == NULL) {
        __builtin_cpu_init();
        f = (__builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2"))
            ? keccak_absorb_bmi : cprim_keccak_f1600_absorb136_portable;
        __atomic_store_n(&keccak_chosen, f, __ATOMIC_RELAXED);
    }
    f(state, input, blocks);
}

#else

void cprim_keccak_f1600_absorb136(uint64_t state[25], const void *input, size_t blocks) {
    keccak_absorb(state, input, blocks, 1);
}

#endif
