#include <string.h>
#include <secp256k1.h>
#include <secp256k1_ecdh.h>
#include <secp256k1_recovery.h>

/// A context able to sign and verify.
static inline secp256k1_context *csecp256k1_context_create(void) {
    return secp256k1_context_create(SECP256K1_CONTEXT_SIGN | SECP256K1_CONTEXT_VERIFY);
}

/// Serializes a public key uncompressed (65 bytes, 0x04 prefix).
static inline int csecp256k1_serialize_uncompressed(const secp256k1_context *ctx, unsigned char *out65,
                                                   const secp256k1_pubkey *pub) {
    size_t len = 65;
    return secp256k1_ec_pubkey_serialize(ctx, out65, &len, pub, SECP256K1_EC_UNCOMPRESSED);
}

static int csecp256k1_copy_x(unsigned char *output, const unsigned char *x32, const unsigned char *y32, void *data) {
    (void)y32; (void)data;
    memcpy(output, x32, 32);
    return 1;
}

/// ECDH that returns the raw x coordinate (libsecp256k1's default hashes the point).
static inline int csecp256k1_ecdh_raw_x(const secp256k1_context *ctx, unsigned char *out32,
                                        const secp256k1_pubkey *pub, const unsigned char *priv32) {
    return secp256k1_ecdh(ctx, out32, pub, priv32, csecp256k1_copy_x, NULL);
}
