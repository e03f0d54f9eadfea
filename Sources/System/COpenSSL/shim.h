/* The low-level SHA256_* calls are deprecated in OpenSSL 3 but still its
 * fastest path: the one-shot SHA256() goes through EVP_Q_digest, which looks
 * the algorithm up by name under a lock and allocates a context on every
 * call; token verification hashes on every request. */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* SHA-256 of `len` bytes into `out` (32 bytes); the context, which held
 * some of the input, is wiped. */
static inline void vouch_sha256(const void *data, size_t len, unsigned char *out) {
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, data, len);
    SHA256_Final(out, &ctx);
    OPENSSL_cleanse(&ctx, sizeof ctx);
}
