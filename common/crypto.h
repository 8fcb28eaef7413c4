/*
 * Crypto core on libgcrypt (digests, signature verification) and libksba
 * (X.509 / SubjectPublicKeyInfo parsing).  Every gcry_error_t is converted
 * in crypto.c and nowhere else.
 */
#ifndef TG_CRYPTO_H
#define TG_CRYPTO_H

#include "tg.h"
#include "span.h"

enum tg_key_type {
	TG_KEY_NONE = 0,
	TG_KEY_RSA,
	TG_KEY_P256,
	TG_KEY_P384,
	TG_KEY_ED25519,
	TG_KEY_SM2,
};

enum tg_hash {
	TG_HASH_NONE = 0,
	TG_HASH_SHA1,
	TG_HASH_SHA256,
	TG_HASH_SHA384,
	TG_HASH_SHA512,
	TG_HASH_SM3,
	TG_HASH__COUNT,
};
#define TG_HASH_MAX_LEN 64

/* How a signature was made, as found by verification. */
enum tg_sig_scheme {
	TG_SCHEME_NONE = 0,
	TG_SCHEME_RSA_PKCS1,
	TG_SCHEME_RSA_PSS,
	TG_SCHEME_ECDSA,
	TG_SCHEME_ED25519,
	TG_SCHEME_SM2,
	TG_SCHEME_OPENPGP,      /* verified by gpgv */
};

/* A validated public key.  Owned by whoever got it from tg_key_*();
 * release with tg_key_free(). */
struct tg_key {
	enum tg_key_type type;
	unsigned bits;              /* RSA modulus bits; curve bits for EC */
	uint8_t *n, *e;             /* RSA, big-endian, minimal */
	size_t n_len, e_len;
	uint8_t q[97];              /* EC: 04||X||Y; Ed25519: 32-byte A */
	size_t q_len;
	uint8_t *spki;              /* canonical DER SubjectPublicKeyInfo */
	size_t spki_len;
	uint8_t *cert;              /* the X.509 DER it came from, if any */
	size_t cert_len;
	int64_t cert_not_before, cert_not_after; /* 0 when no certificate */
	char *cert_subject;         /* RFC 2253 subject, if a certificate */
	char fingerprint[65];       /* hex SHA-256 of spki */
};

/* One-time library initialisation (libgcrypt version check, secure memory
 * off: trustgate handles no secrets in the verifier). */
enum tg_err tg_crypto_init(struct tg_diag *d);

/* Parse a public key file: PEM "PUBLIC KEY", PEM "CERTIFICATE", or DER of
 * either.  The key is validated (THREATS P2/P4, cases 29, 33, 40): RSA of
 * exactly 2048/3072/4096 bits with odd e >= 65537; EC on P-256, P-384 or
 * SM2 with a point on the curve; Ed25519 canonical and not of small order.
 * A bare SPKI must be canonical DER with no trailing bytes.  `what` names
 * the file in diagnostics. */
enum tg_err tg_key_parse(struct tg_span in, const char *what, struct tg_key **ret,
			 struct tg_diag *d);
/* Rebuild a key from DER SPKI as stored in the records (validated again:
 * a key edited in the database is refused at use, not only at import). */
enum tg_err tg_key_from_spki(struct tg_span spki, struct tg_key **ret, struct tg_diag *d);
/* Keys from components (TPMT_PUBLIC): validated like imported keys. */
enum tg_err tg_key_from_rsa(struct tg_span n, struct tg_span e, const char *what, struct tg_key **ret,
			    struct tg_diag *d);
enum tg_err tg_key_from_ec(enum tg_key_type type, struct tg_span x, struct tg_span y, const char *what,
			   struct tg_key **ret, struct tg_diag *d);
void tg_key_free(struct tg_key *k);
static inline void tg_key_freep(struct tg_key **k) { tg_key_free(*k); }
#define _cleanup_key_ _cleanup_(tg_key_freep)

/* 0 for a canonical Ed25519 point encoding of large order, 1 when y >= p,
 * 2 for one of the small-order points (THREATS case 33). */
int tg_ed25519_point_check(const uint8_t a[32]);

/* "rsa2048", "ecdsa-p256", "ed25519", "sm2", ... (CLI.md key.algorithm). */
const char *tg_key_algorithm(const struct tg_key *k);
/* Hashes the key may be used with by default when the record pins none. */
const char *tg_key_default_hashes(const struct tg_key *k);

const char *tg_hash_name(enum tg_hash h);
enum tg_hash tg_hash_from_name(const char *name);
/* "ALG:HEX" with a known algorithm and exactly its length of hex (any
 * case): alg and lowercase hex out.  SHA-1 only when allow_sha1 (event-log
 * banks carry it; a release named by SHA-1 could be collided, THREATS 35). */
bool tg_digest_parse(const char *s, bool allow_sha1, char alg[16], char hex[2 * TG_HASH_MAX_LEN + 1]);
/* "rsa-pkcs1", "rsa-pss", "ecdsa", "ed25519", "sm2", "openpgp", "none";
 * and back (TG_SCHEME_NONE for an unknown name). */
const char *tg_scheme_name(enum tg_sig_scheme s);
enum tg_sig_scheme tg_scheme_from_name(const char *name);
size_t tg_hash_len(enum tg_hash h);
/* Parse "sha256,sha384" into a bitmask of (1 << enum tg_hash). */
bool tg_hash_parse_list(const char *list, unsigned *ret_mask);

/* A streaming digest.  Lifecycle: _new, _write..., _final, _free. */
struct tg_md;
enum tg_err tg_md_new(enum tg_hash h, struct tg_md **ret);
void tg_md_write(struct tg_md *md, const void *p, size_t n);
/* Copies the digest into out (tg_hash_len bytes). */
void tg_md_final(struct tg_md *md, uint8_t *out);
void tg_md_free(struct tg_md *md);
/* Start over with the same algorithm (no allocation). */
void tg_md_reset(struct tg_md *md);
enum tg_err tg_digest(enum tg_hash h, const void *p, size_t n, uint8_t *out);

/* SM2 ZA (GB/T 32918.2 §5.5 / GM/T 0009) for this key and user id. */
enum tg_err tg_sm2_za(const struct tg_key *k, const char *id, uint8_t out[32]);
#define TG_SM2_DEFAULT_ID "1234567812345678"

/* Verify sig over a precomputed digest.  RSA tries PKCS#1 v1.5 then PSS
 * (salt = hash length, then the maximum, which openssl 3.0 uses by
 * default); ECDSA and SM2 take a DER SEQUENCE{r,s}.  For SM2, digest is
 * e = SM3(ZA || M).  *ret_valid is set true only when libgcrypt returned
 * success on an explicitly padded encoding; every other outcome is false.
 * The verification itself runs in a child process, so a library abort on a
 * hostile key or signature (THREATS P4) is a rejection, not a crash. */
enum tg_err tg_verify_digest(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
			     struct tg_span sig, bool *ret_valid, enum tg_sig_scheme *ret_scheme);
/* Off only inside a worker process that is itself the isolation boundary
 * (attest --batch): then verification runs in that process. */
void tg_crypto_set_isolation(bool on);

/* Pure Ed25519 (RFC 8032), streamed: start a SHA-512 over R || A with
 * tg_eddsa_hram_start(), feed it the message, and pass its 64-byte result
 * to tg_verify_eddsa() (isolated like tg_verify_digest). */
enum tg_err tg_eddsa_hram_start(const struct tg_key *k, struct tg_span sig, struct tg_md **ret);
enum tg_err tg_verify_eddsa(const struct tg_key *k, struct tg_span sig, const uint8_t hram[64],
			    bool *ret_valid);

/* Signature-shape helpers used to pick candidate keys without deciding. */
bool tg_sig_is_der_ecdsa(struct tg_span sig);
/* DER SEQUENCE { INTEGER r, INTEGER s } of big-endian r and s (minimal
 * integers) into out (at least 2 * (rl + sl) + 8 bytes): its length, or 0
 * when it would not fit a short-form length (r, s of curves we accept
 * always do). */
/* Object identifiers of the key types we accept (dotted, as libksba
 * prints them). */
#define TG_OID_RSA "1.2.840.113549.1.1.1"
#define TG_OID_EC "1.2.840.10045.2.1"
#define TG_OID_P256 "1.2.840.10045.3.1.7"
#define TG_OID_P384 "1.3.132.0.34"
#define TG_OID_SM2 "1.2.156.10197.1.301"
#define TG_OID_ED25519 "1.3.101.112"

/* TPM credential primitives (MakeCredential done in software). */
void tg_random(uint8_t *p, size_t n);
enum tg_err tg_hmac(enum tg_hash h, const uint8_t *key, size_t kl, const struct tg_span *parts, size_t n, uint8_t *out);
/* AES-128 in CFB-128 mode with a zero IV, in place (TPM symmetric protection). */
enum tg_err tg_aes128_cfb(bool encrypt, const uint8_t key[16], uint8_t *buf, size_t n);
/* RSA-OAEP with hash h and label (its length including any NUL). */
enum tg_err tg_rsa_oaep_encrypt(const struct tg_key *k, enum tg_hash h, const uint8_t *label, size_t ll,
				const uint8_t *in, size_t inl, uint8_t *out, size_t outcap, size_t *outl);

/* ECDH on P-256 with a fresh ephemeral key: the shared point's x, and the
 * ephemeral public point. */
enum tg_err tg_ecdh_p256(const struct tg_key *peer, uint8_t z_x[32], uint8_t eph_x[32], uint8_t eph_y[32]);

/* A control DTB's rsa,r-squared and rsa,n0-inverse agree with the key. */
bool tg_rsa_uboot_params_ok(const struct tg_key *k, struct tg_span rr, uint32_t n0inv);

size_t tg_ecdsa_der_encode(const uint8_t *r, size_t rl, const uint8_t *s, size_t sl, uint8_t *out);
/* For an RSA key and a signature of its modulus length: the hash named by
 * the PKCS#1 v1.5 DigestInfo under that key, or TG_HASH_NONE (PSS, other
 * key, garbage).  This only chooses which digest to compute; acceptance is
 * decided by tg_verify_digest(). */
enum tg_hash tg_rsa_peek_hash(const struct tg_key *k, struct tg_span sig, bool *ret_maybe_pss);

/* Used by tests: the raw verification call, in-process, returning the
 * libgcrypt outcome converted to a verdict.  Not for production paths. */
bool tg_verify_inproc(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
		      struct tg_span sig, enum tg_sig_scheme *ret_scheme);
bool tg_verify_eddsa_hram_inproc(const struct tg_key *k, struct tg_span sig, const uint8_t hram[64]);
/* gcry_pk_verify on a whole (small, <= 60000 bytes) message: the reference
 * the streamed Ed25519 path is tested against. */
bool tg_verify_eddsa_message_inproc(const struct tg_key *k, struct tg_span msg, struct tg_span sig);

#endif
