// Keccak-f[1600] absorb loop for Keccak-256 (rate 136 bytes), written for whisper-archive.
//
// The 25 lanes live in locals (lane i is x + 5y). Each loop iteration runs two rounds, the
// first from the `a` lanes into the `e` lanes and the second back, so no lanes are copied.
// A round works one output row (plane) at a time: the five rho-pi inputs of the row, then chi
// on them, so only five b values are live; and chi accumulates the column parities that the
// next round's theta needs while the new lanes are still in registers.
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

// Rho and pi: b`k` of the current row is lane `lane` of A after theta, rotated by `rot`.
#define KECCAK_B(k, A, lane, d, rot) t = A##lane ^ d; b##k = ROL64(t, rot);

// Chi, nothing complemented, from b0...b4 into lanes i0...i4 of E.
#define KECCAK_CHI_PLAIN(E, i0, i1, i2, i3, i4)                                       \
    E##i0 = b0 ^ (~b1 & b2);                                                          \
    E##i1 = b1 ^ (~b2 & b3);                                                          \
    E##i2 = b2 ^ (~b3 & b4);                                                          \
    E##i3 = b3 ^ (~b4 & b0);                                                          \
    E##i4 = b4 ^ (~b0 & b1);
#define KECCAK_PLAIN_ROW0(E) KECCAK_CHI_PLAIN(E, 0, 1, 2, 3, 4)
#define KECCAK_PLAIN_ROW1(E) KECCAK_CHI_PLAIN(E, 5, 6, 7, 8, 9)
#define KECCAK_PLAIN_ROW2(E) KECCAK_CHI_PLAIN(E, 10, 11, 12, 13, 14)
#define KECCAK_PLAIN_ROW3(E) KECCAK_CHI_PLAIN(E, 15, 16, 17, 18, 19)
#define KECCAK_PLAIN_ROW4(E) KECCAK_CHI_PLAIN(E, 20, 21, 22, 23, 24)

// Chi when lanes 1, 2, 8, 12, 17 and 20 are held complemented. Theta then leaves lanes 0, 1,
// 2, 3, 5, 10, 12, 13, 15, 17, 18 and 23 complemented, which rho and pi send to b0, b2, b3
// of row 0; b0, b2 of row 1; b0, b2 of row 2; b1, b3, b4 of row 3; and b0, b3 of row 4. Each
// line was derived from the plain form for those inputs and the complemented outputs.
#define KECCAK_COMPLEMENTED_ROW0(E)                                                   \
    E##0 = b0 ^ (b1 | b2);                                                            \
    E##1 = b1 ^ (~b2 | b3);                                                           \
    E##2 = b2 ^ (b3 & b4);                                                            \
    E##3 = b3 ^ (b4 | b0);                                                            \
    E##4 = b4 ^ (b0 & b1);
#define KECCAK_COMPLEMENTED_ROW1(E)                                                   \
    E##5 = b0 ^ (b1 | b2);                                                            \
    E##6 = b1 ^ (b2 & b3);                                                            \
    E##7 = b2 ^ (b3 | ~b4);                                                           \
    E##8 = b3 ^ (b4 | b0);                                                            \
    E##9 = b4 ^ (b0 & b1);
#define KECCAK_COMPLEMENTED_ROW2(E)                                                   \
    t = ~b3;                                                                          \
    E##10 = b0 ^ (b1 | b2);                                                           \
    E##11 = b1 ^ (b2 & b3);                                                           \
    E##12 = b2 ^ (t & b4);                                                            \
    E##13 = t ^ (b4 | b0);                                                            \
    E##14 = b4 ^ (b0 & b1);
#define KECCAK_COMPLEMENTED_ROW3(E)                                                   \
    t = ~b3;                                                                          \
    E##15 = b0 ^ (b1 & b2);                                                           \
    E##16 = b1 ^ (b2 | b3);                                                           \
    E##17 = b2 ^ (t | b4);                                                            \
    E##18 = t ^ (b4 & b0);                                                            \
    E##19 = b4 ^ (b0 | b1);
#define KECCAK_COMPLEMENTED_ROW4(E)                                                   \
    t = ~b1;                                                                          \
    E##20 = b0 ^ (t & b2);                                                            \
    E##21 = t ^ (b2 | b3);                                                            \
    E##22 = b2 ^ (b3 & b4);                                                           \
    E##23 = b3 ^ (b4 | b0);                                                           \
    E##24 = b4 ^ (b0 & b1);

// One round from lanes A into lanes E with chi form CHI (PLAIN or COMPLEMENTED). On entry
// c0...c4 are the column parities of A; on exit, those of E.
#define KECCAK_ROUND(A, E, rc, CHI)                                                   \
    d0 = c4 ^ ROL64(c1, 1);                                                           \
    d1 = c0 ^ ROL64(c2, 1);                                                           \
    d2 = c1 ^ ROL64(c3, 1);                                                           \
    d3 = c2 ^ ROL64(c4, 1);                                                           \
    d4 = c3 ^ ROL64(c0, 1);                                                           \
    b0 = A##0 ^ d0;                                                                   \
    KECCAK_B(1, A, 6, d1, 44) KECCAK_B(2, A, 12, d2, 43)                              \
    KECCAK_B(3, A, 18, d3, 21) KECCAK_B(4, A, 24, d4, 14)                             \
    KECCAK_##CHI##_ROW0(E)                                                            \
    E##0 ^= (rc);                                                                     \
    c0 = E##0; c1 = E##1; c2 = E##2; c3 = E##3; c4 = E##4;                           \
    KECCAK_B(0, A, 3, d3, 28) KECCAK_B(1, A, 9, d4, 20) KECCAK_B(2, A, 10, d0, 3)     \
    KECCAK_B(3, A, 16, d1, 45) KECCAK_B(4, A, 22, d2, 61)                             \
    KECCAK_##CHI##_ROW1(E)                                                            \
    c0 ^= E##5; c1 ^= E##6; c2 ^= E##7; c3 ^= E##8; c4 ^= E##9;                      \
    KECCAK_B(0, A, 1, d1, 1) KECCAK_B(1, A, 7, d2, 6) KECCAK_B(2, A, 13, d3, 25)      \
    KECCAK_B(3, A, 19, d4, 8) KECCAK_B(4, A, 20, d0, 18)                              \
    KECCAK_##CHI##_ROW2(E)                                                            \
    c0 ^= E##10; c1 ^= E##11; c2 ^= E##12; c3 ^= E##13; c4 ^= E##14;                 \
    KECCAK_B(0, A, 4, d4, 27) KECCAK_B(1, A, 5, d0, 36) KECCAK_B(2, A, 11, d1, 10)    \
    KECCAK_B(3, A, 17, d2, 15) KECCAK_B(4, A, 23, d3, 56)                             \
    KECCAK_##CHI##_ROW3(E)                                                            \
    c0 ^= E##15; c1 ^= E##16; c2 ^= E##17; c3 ^= E##18; c4 ^= E##19;                 \
    KECCAK_B(0, A, 2, d2, 62) KECCAK_B(1, A, 8, d3, 55) KECCAK_B(2, A, 14, d4, 39)    \
    KECCAK_B(3, A, 15, d0, 41) KECCAK_B(4, A, 21, d1, 2)                              \
    KECCAK_##CHI##_ROW4(E)                                                            \
    c0 ^= E##20; c1 ^= E##21; c2 ^= E##22; c3 ^= E##23; c4 ^= E##24;

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
    uint64_t b0, b1, b2, b3, b4, c0, c1, c2, c3, c4, d0, d1, d2, d3, d4, t;
    if (complemented) { KECCAK_COMPLEMENT_PATTERN(KECCAK_INVERT) }
    for (; blocks > 0; blocks--, input += 136) {
        KECCAK_ABSORB_LANE(0) KECCAK_ABSORB_LANE(1) KECCAK_ABSORB_LANE(2) KECCAK_ABSORB_LANE(3)
        KECCAK_ABSORB_LANE(4) KECCAK_ABSORB_LANE(5) KECCAK_ABSORB_LANE(6) KECCAK_ABSORB_LANE(7)
        KECCAK_ABSORB_LANE(8) KECCAK_ABSORB_LANE(9) KECCAK_ABSORB_LANE(10) KECCAK_ABSORB_LANE(11)
        KECCAK_ABSORB_LANE(12) KECCAK_ABSORB_LANE(13) KECCAK_ABSORB_LANE(14) KECCAK_ABSORB_LANE(15)
        KECCAK_ABSORB_LANE(16)
        c0 = a0 ^ a5 ^ a10 ^ a15 ^ a20;
        c1 = a1 ^ a6 ^ a11 ^ a16 ^ a21;
        c2 = a2 ^ a7 ^ a12 ^ a17 ^ a22;
        c3 = a3 ^ a8 ^ a13 ^ a18 ^ a23;
        c4 = a4 ^ a9 ^ a14 ^ a19 ^ a24;
        for (int round = 0; round < 24; round += 2) {
            if (complemented) {
                KECCAK_ROUND(a, e, keccak_round_constants[round], COMPLEMENTED)
                KECCAK_ROUND(e, a, keccak_round_constants[round + 1], COMPLEMENTED)
            } else {
                KECCAK_ROUND(a, e, keccak_round_constants[round], PLAIN)
                KECCAK_ROUND(e, a, keccak_round_constants[round + 1], PLAIN)
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
