/*
 * Crypto core: digests and signature verification on libgcrypt.
 *
 * This file is the only place gcry_error_t values are seen.  Rules kept
 * here (THREATS P1-P5, cases 27-34, 40):
 *  - data s-expressions always state their encoding: (flags pkcs1),
 *    (flags pss), (flags raw) for ECDSA over an explicit digest,
 *    (flags eddsa), (flags sm2); a raw RSA data s-expression is never built
 *    for verification;
 *  - every non-zero libgcrypt return is a rejection;
 *  - signature lengths are exact (RSA = modulus length, Ed25519 = 64, ECDSA
 *    strict DER with 0 < r, s < n);
 *  - Ed25519 S < L is checked here, libgcrypt 1.10 does not;
 *  - verification runs in a child process so an abort inside the library
 *    becomes a rejection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <gcrypt.h>

#include "crypto.h"
#include "encoding.h"

/* ---------------------------------------------------------------- init */

enum tg_err tg_crypto_init(struct tg_diag *d)
{
	if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
		return TG_OK;
	if (!gcry_check_version("1.10.0"))
		return tg_fail(d, TG_E_CRYPTO, "libgcrypt 1.10.0 or newer is required");
	gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	return TG_OK;
}

/* -------------------------------------------------------------- hashes */

static const struct {
	const char *name;
	int gcry;
	size_t len;
} hashes[TG_HASH__COUNT] = {
	[TG_HASH_NONE] = { "none", 0, 0 },
	[TG_HASH_SHA1] = { "sha1", GCRY_MD_SHA1, 20 },
	[TG_HASH_SHA256] = { "sha256", GCRY_MD_SHA256, 32 },
	[TG_HASH_SHA384] = { "sha384", GCRY_MD_SHA384, 48 },
	[TG_HASH_SHA512] = { "sha512", GCRY_MD_SHA512, 64 },
	[TG_HASH_SM3] = { "sm3", GCRY_MD_SM3, 32 },
};

const char *tg_hash_name(enum tg_hash h)
{
	return (unsigned)h < TG_HASH__COUNT ? hashes[h].name : "none";
}

enum tg_hash tg_hash_from_name(const char *name)
{
	for (unsigned i = 1; i < TG_HASH__COUNT; i++)
		if (strcmp(name, hashes[i].name) == 0)
			return (enum tg_hash)i;
	return TG_HASH_NONE;
}

size_t tg_hash_len(enum tg_hash h)
{
	return (unsigned)h < TG_HASH__COUNT ? hashes[h].len : 0;
}

bool tg_hash_parse_list(const char *list, unsigned *ret_mask)
{
	_cleanup_free_ char *copy = tg_strdup(list);
	unsigned mask = 0;
	char *save = NULL;

	if (!copy || !*copy)
		return false;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		enum tg_hash h = tg_hash_from_name(t);
		if (h == TG_HASH_NONE)
			return false;
		mask |= 1u << h;
	}
	*ret_mask = mask;
	return mask != 0;
}

struct tg_md {
	gcry_md_hd_t hd;
	enum tg_hash h;
};

enum tg_err tg_md_new(enum tg_hash h, struct tg_md **ret)
{
	struct tg_md *md;

	if (h == TG_HASH_NONE || (unsigned)h >= TG_HASH__COUNT)
		return TG_E_UNSUPPORTED;
	md = tg_calloc(1, sizeof(*md));
	if (!md)
		return TG_E_NOMEM;
	if (gcry_md_open(&md->hd, hashes[h].gcry, 0)) {
		free(md);
		return TG_E_CRYPTO;
	}
	md->h = h;
	*ret = md;
	return TG_OK;
}

void tg_md_reset(struct tg_md *md)
{
	gcry_md_reset(md->hd);
}

void tg_md_write(struct tg_md *md, const void *p, size_t n)
{
	gcry_md_write(md->hd, p, n);
}

void tg_md_final(struct tg_md *md, uint8_t *out)
{
	memcpy(out, gcry_md_read(md->hd, hashes[md->h].gcry), hashes[md->h].len);
}

void tg_md_free(struct tg_md *md)
{
	if (!md)
		return;
	gcry_md_close(md->hd);
	free(md);
}

enum tg_err tg_digest(enum tg_hash h, const void *p, size_t n, uint8_t *out)
{
	if (h == TG_HASH_NONE || (unsigned)h >= TG_HASH__COUNT)
		return TG_E_UNSUPPORTED;
	gcry_md_hash_buffer(hashes[h].gcry, out, p, n);
	return TG_OK;
}

/* ------------------------------------------------------------ helpers */

static void gcry_sexp_releasep(gcry_sexp_t *s)
{
	if (*s)
		gcry_sexp_release(*s);
}
#define _cleanup_sexp_ _cleanup_(gcry_sexp_releasep)

/* Strip leading zero bytes of a big-endian integer. */
static struct tg_span be_trim(struct tg_span s)
{
	while (s.len > 0 && s.p[0] == 0)
		tg_span_take(&s, 1, NULL);
	return s;
}

/* Copy big-endian s into out[0..n), left-padded; false if it does not fit. */
static bool be_fixed(struct tg_span s, uint8_t *out, size_t n)
{
	s = be_trim(s);
	if (s.len > n)
		return false;
	memset(out, 0, n - s.len);
	if (s.len)
		memcpy(out + n - s.len, s.p, s.len);
	return true;
}

/* Compare big-endian unsigned integers. */
static int be_cmp(struct tg_span a, struct tg_span b)
{
	a = be_trim(a);
	b = be_trim(b);
	if (a.len != b.len)
		return a.len < b.len ? -1 : 1;
	return a.len ? memcmp(a.p, b.p, a.len) : 0;
}

static const char *curve_gcry_name(enum tg_key_type t)
{
	switch (t) {
	case TG_KEY_P256: return "NIST P-256";
	case TG_KEY_P384: return "NIST P-384";
	case TG_KEY_SM2: return "sm2p256v1";
	case TG_KEY_ED25519: return "Ed25519";
	default: return NULL;
	}
}

static size_t curve_field_len(enum tg_key_type t)
{
	switch (t) {
	case TG_KEY_P256: case TG_KEY_SM2: case TG_KEY_ED25519: return 32;
	case TG_KEY_P384: return 48;
	default: return 0;
	}
}

/* Fetch a named curve parameter (p, a, b, g, n) as fixed-length bytes. */
static bool curve_param(enum tg_key_type t, const char *what, uint8_t *out, size_t n)
{
	_cleanup_sexp_ gcry_sexp_t params = gcry_pk_get_param(GCRY_PK_ECC, curve_gcry_name(t));
	_cleanup_sexp_ gcry_sexp_t item = NULL;
	size_t len = 0;
	const char *data;

	if (!params)
		return false;
	item = gcry_sexp_find_token(params, what, 0);
	if (!item)
		return false;
	data = gcry_sexp_nth_data(item, 1, &len);
	if (!data)
		return false;
	if (strcmp(what, "g") == 0) {
		if (len != n)
			return false;
		memcpy(out, data, n);
		return true;
	}
	return be_fixed(tg_span_make(data, len), out, n);
}

/* ---------------------------------------------------------- key names */

const char *tg_key_algorithm(const struct tg_key *k)
{
	switch (k->type) {
	case TG_KEY_RSA:
		switch (k->bits) {
		case 2048: return "rsa2048";
		case 3072: return "rsa3072";
		case 4096: return "rsa4096";
		}
		return "rsa";
	case TG_KEY_P256: return "ecdsa-p256";
	case TG_KEY_P384: return "ecdsa-p384";
	case TG_KEY_ED25519: return "ed25519";
	case TG_KEY_SM2: return "sm2";
	case TG_KEY_NONE: break;
	}
	return "unknown";
}

const char *tg_key_default_hashes(const struct tg_key *k)
{
	/* The hash is pinned by the key record (THREATS cases 22, 35, 40);
	 * these are the defaults when `key add --hash` is not given.  SHA-1
	 * is never a default. */
	switch (k->type) {
	case TG_KEY_RSA: return "sha256,sha384,sha512";
	case TG_KEY_P256: return "sha256";
	case TG_KEY_P384: return "sha384";
	case TG_KEY_ED25519: return "sha512";
	case TG_KEY_SM2: return "sm3";
	case TG_KEY_NONE: break;
	}
	return "";
}

/* --------------------------------------------------------------- SM2 */

enum tg_err tg_sm2_za(const struct tg_key *k, const char *id, uint8_t out[32])
{
	uint8_t a[32], b[32], g[65];
	size_t idlen = strlen(id);
	struct tg_md *md = NULL;
	uint8_t entl[2];

	if (k->type != TG_KEY_SM2 || k->q_len != 65 || idlen > 8191)
		return TG_E_UNSUPPORTED;
	if (!curve_param(TG_KEY_SM2, "a", a, 32) || !curve_param(TG_KEY_SM2, "b", b, 32) ||
	    !curve_param(TG_KEY_SM2, "g", g, 65))
		return TG_E_CRYPTO;
	if (tg_md_new(TG_HASH_SM3, &md) != TG_OK)
		return TG_E_CRYPTO;
	/* ZA = SM3(ENTL || ID || a || b || xG || yG || xA || yA), ENTL being
	 * the bit length of ID as 16 bits big-endian. */
	entl[0] = (uint8_t)((idlen * 8) >> 8);
	entl[1] = (uint8_t)(idlen * 8);
	tg_md_write(md, entl, 2);
	tg_md_write(md, id, idlen);
	tg_md_write(md, a, 32);
	tg_md_write(md, b, 32);
	tg_md_write(md, g + 1, 64);
	tg_md_write(md, k->q + 1, 64);
	tg_md_final(md, out);
	tg_md_free(md);
	return TG_OK;
}

/* ----------------------------------------------------- DER ECDSA sigs */

/* Read one DER length (X.690 §8.1.3, DER §10.1: minimal form only). */
static bool der_len(struct tg_span *s, size_t *ret)
{
	uint8_t b, b2;

	if (!tg_span_u8(s, &b))
		return false;
	if (b < 0x80) {
		*ret = b;
		return true;
	}
	if (b != 0x81 || !tg_span_u8(s, &b2) || b2 < 0x80)
		return false; /* ECDSA signatures never need more than 0x81 */
	*ret = b2;
	return true;
}

/* A positive, minimally encoded DER INTEGER. */
static bool der_uint(struct tg_span *s, struct tg_span *ret)
{
	uint8_t tag;
	size_t len;
	struct tg_span v;

	if (!tg_span_u8(s, &tag) || tag != 0x02 || !der_len(s, &len) ||
	    !tg_span_take(s, len, &v) || v.len == 0)
		return false;
	if (v.p[0] & 0x80)
		return false; /* negative */
	if (v.len > 1 && v.p[0] == 0 && !(v.p[1] & 0x80))
		return false; /* non-minimal: a second encoding of one value */
	*ret = v;
	return true;
}

static bool der_ecdsa(struct tg_span sig, struct tg_span *r, struct tg_span *s)
{
	uint8_t tag;
	size_t len;
	struct tg_span body;

	if (!tg_span_u8(&sig, &tag) || tag != 0x30 || !der_len(&sig, &len) ||
	    !tg_span_take(&sig, len, &body) || sig.len != 0)
		return false; /* trailing bytes after the SEQUENCE are refused */
	if (!der_uint(&body, r) || !der_uint(&body, s) || body.len != 0)
		return false;
	return true;
}

bool tg_sig_is_der_ecdsa(struct tg_span sig)
{
	struct tg_span r, s;
	return der_ecdsa(sig, &r, &s);
}

/* ----------------------------------------------------- verification */

/* Ed25519 group order L, little-endian (RFC 8032 §5.1). */
static const uint8_t ed25519_l[32] = {
	0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2,
	0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* S (little-endian, 32 bytes) < L: RFC 8032 §5.1.7 step 1.  Without it
 * (S + L) is a second valid signature (THREATS P3, case 32). */
static bool ed25519_s_canonical(const uint8_t *s)
{
	for (int i = 31; i >= 0; i--) {
		if (s[i] < ed25519_l[i])
			return true;
		if (s[i] > ed25519_l[i])
			return false;
	}
	return false; /* S == L */
}

static bool gcry_verify(gcry_sexp_t sig, gcry_sexp_t data, gcry_sexp_t key)
{
	/* Any non-zero code — bad signature, invalid object, wrong length,
	 * out of memory — is a rejection (THREATS P5, case 27). */
	return gcry_pk_verify(sig, data, key) == 0;
}

static bool verify_rsa(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
		       struct tg_span sig, enum tg_sig_scheme *scheme)
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, s = NULL;
	size_t klen = (k->bits + 7) / 8;
	size_t hlen = tg_hash_len(h);

	/* The signature is an integer of exactly the modulus length
	 * (RFC 8017 §8.2.2 step 1). */
	if (sig.len != klen || h == TG_HASH_SM3 || h == TG_HASH_NONE)
		return false;
	if (gcry_sexp_build(&key, NULL, "(public-key(rsa(n %b)(e %b)))", (int)k->n_len, k->n,
			    (int)k->e_len, k->e))
		return false;
	if (gcry_sexp_build(&s, NULL, "(sig-val(rsa(s %b)))", (int)sig.len, sig.p))
		return false;

	{
		_cleanup_sexp_ gcry_sexp_t data = NULL;
		if (gcry_sexp_build(&data, NULL, "(data(flags pkcs1)(hash %s %b))", tg_hash_name(h),
				    (int)hlen, digest) == 0 &&
		    gcry_verify(s, data, key)) {
			*scheme = TG_SCHEME_RSA_PKCS1;
			return true;
		}
	}
	/* PSS with the two salt lengths openssl produces: the digest length
	 * (rsa_pss_saltlen:digest) and the maximum (openssl 3.0 default). */
	size_t emlen = (k->bits - 1 + 7) / 8;
	size_t salts[2] = { hlen, emlen >= hlen + 2 ? emlen - hlen - 2 : 0 };
	for (size_t i = 0; i < 2; i++) {
		_cleanup_sexp_ gcry_sexp_t data = NULL;
		if (i == 1 && salts[1] == salts[0])
			break;
		if (gcry_sexp_build(&data, NULL, "(data(flags pss)(salt-length %u)(hash %s %b))",
				    (unsigned)salts[i], tg_hash_name(h), (int)hlen, digest))
			continue;
		if (gcry_verify(s, data, key)) {
			*scheme = TG_SCHEME_RSA_PSS;
			return true;
		}
	}
	return false;
}

static bool verify_ec(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
		      struct tg_span sig, enum tg_sig_scheme *scheme)
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, s = NULL, data = NULL;
	size_t flen = curve_field_len(k->type);
	uint8_t order[48];
	struct tg_span r, ss;
	bool sm2 = k->type == TG_KEY_SM2;

	if (!der_ecdsa(sig, &r, &ss))
		return false;
	if (!curve_param(k->type, "n", order, flen))
		return false;
	/* 0 < r < n and 0 < s < n (SEC 1 §4.1.4 step 1): "psychic
	 * signatures" (r = s = 0) and r = n must never reach the library
	 * unchecked (THREATS case 30). */
	struct tg_span n = tg_span_make(order, flen), zero = tg_span_make("", 0);
	if (be_cmp(r, zero) <= 0 || be_cmp(ss, zero) <= 0 || be_cmp(r, n) >= 0 ||
	    be_cmp(ss, n) >= 0)
		return false;
	/* SM3 goes with SM2 only.  SM2 takes SM3 — or SHA-256 for TPM quotes:
	 * a TPM signs the digest it computed with the scheme's hash, and
	 * TPMs without SM3 use SHA-256.  Signature policy (the key record's
	 * digest pin, the GM profile) decides which of them a use accepts. */
	if ((h == TG_HASH_SM3 && !sm2) || (sm2 && h != TG_HASH_SM3 && h != TG_HASH_SHA256))
		return false;
	if (gcry_sexp_build(&key, NULL, "(public-key(ecc(curve %s)(q %b)))", curve_gcry_name(k->type),
			    (int)k->q_len, k->q))
		return false;
	if (sm2) {
		if (gcry_sexp_build(&s, NULL, "(sig-val(sm2(r %b)(s %b)))", (int)r.len, r.p,
				    (int)ss.len, ss.p) ||
		    gcry_sexp_build(&data, NULL, "(data(flags sm2)(hash %s %b))", tg_hash_name(h), 32, digest))
			return false;
	} else {
		/* ECDSA uses the leftmost order-length bytes of the digest
		 * (SEC 1 §4.1.4 step 5; P-256/P-384 orders are whole bytes). */
		size_t elen = tg_hash_len(h) < flen ? tg_hash_len(h) : flen;
		if (gcry_sexp_build(&s, NULL, "(sig-val(ecdsa(r %b)(s %b)))", (int)r.len, r.p,
				    (int)ss.len, ss.p) ||
		    gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", (int)elen, digest))
			return false;
	}
	if (!gcry_verify(s, data, key))
		return false;
	*scheme = sm2 ? TG_SCHEME_SM2 : TG_SCHEME_ECDSA;
	return true;
}

/* Little-endian bytes to an MPI (RFC 8032 encodes integers LE). */
static gcry_mpi_t mpi_from_le(const uint8_t *p, size_t n)
{
	uint8_t be[64];
	gcry_mpi_t m = NULL;

	if (n > sizeof(be))
		return NULL;
	for (size_t i = 0; i < n; i++)
		be[i] = p[n - 1 - i];
	if (gcry_mpi_scan(&m, GCRYMPI_FMT_USG, be, n, NULL))
		return NULL;
	return m;
}

/* Decode an encoded Ed25519 point through libgcrypt (which checks it is a
 * canonical point on the curve); the context is returned for arithmetic. */
static bool ed25519_decode(const uint8_t enc[32], gcry_ctx_t *ret_ctx, gcry_mpi_point_t *ret_pt)
{
	_cleanup_sexp_ gcry_sexp_t k = NULL;

	*ret_ctx = NULL;
	*ret_pt = NULL;
	if (gcry_sexp_build(&k, NULL, "(public-key(ecc(curve Ed25519)(flags eddsa)(q %b)))", 32, enc))
		return false;
	if (gcry_mpi_ec_new(ret_ctx, k, NULL))
		return false;
	*ret_pt = gcry_mpi_ec_get_point("q", *ret_ctx, 1);
	return *ret_pt != NULL;
}

/*
 * Pure Ed25519 (RFC 8032 §5.1.7) given k = SHA-512(R || A || M), computed by
 * the caller while streaming M: accept iff S < L and [S]B = R + [k]A.
 * gcry_pk_verify cannot be used for messages over 64 KiB (libgcrypt 1.10
 * S-expressions hold 16-bit lengths and abort beyond), so the equation is
 * checked with libgcrypt's EC arithmetic; tests cross-check it against
 * gcry_pk_verify on small messages.
 */
static bool verify_eddsa_hram(const struct tg_key *k, struct tg_span sig, const uint8_t hram[64])
{
	gcry_ctx_t actx = NULL, rctx = NULL;
	gcry_mpi_point_t A = NULL, R = NULL, G = NULL, P1 = NULL, P2 = NULL, P3 = NULL;
	gcry_mpi_t kk = NULL, S = NULL, L = NULL, x1 = NULL, y1 = NULL, x3 = NULL, y3 = NULL;
	bool ok = false;

	if (k->type != TG_KEY_ED25519 || k->q_len != 32 || sig.len != 64)
		return false;
	if (!ed25519_s_canonical(sig.p + 32))
		return false;
	/* Checked again here, not only at import: with A and R of small order
	 * and S = 0 the equation holds for every message. */
	if (tg_ed25519_point_check(k->q) != 0 || tg_ed25519_point_check(sig.p) != 0)
		return false;
	if (!ed25519_decode(k->q, &actx, &A) || !ed25519_decode(sig.p, &rctx, &R))
		goto out;
	kk = mpi_from_le(hram, 64);
	S = mpi_from_le(sig.p + 32, 32);
	L = gcry_mpi_ec_get_mpi("n", actx, 1);
	G = gcry_mpi_ec_get_point("g", actx, 1);
	if (!kk || !S || !L || !G)
		goto out;
	gcry_mpi_mod(kk, kk, L);
	P1 = gcry_mpi_point_new(0);
	P2 = gcry_mpi_point_new(0);
	P3 = gcry_mpi_point_new(0);
	x1 = gcry_mpi_new(0);
	y1 = gcry_mpi_new(0);
	x3 = gcry_mpi_new(0);
	y3 = gcry_mpi_new(0);
	gcry_mpi_ec_mul(P1, S, G, actx);
	gcry_mpi_ec_mul(P2, kk, A, actx);
	gcry_mpi_ec_add(P3, R, P2, actx);
	if (gcry_mpi_ec_get_affine(x1, y1, P1, actx) || gcry_mpi_ec_get_affine(x3, y3, P3, actx))
		goto out;
	ok = gcry_mpi_cmp(x1, x3) == 0 && gcry_mpi_cmp(y1, y3) == 0;
out:
	gcry_mpi_point_release(A);
	gcry_mpi_point_release(R);
	gcry_mpi_point_release(G);
	gcry_mpi_point_release(P1);
	gcry_mpi_point_release(P2);
	gcry_mpi_point_release(P3);
	gcry_mpi_release(kk);
	gcry_mpi_release(S);
	gcry_mpi_release(L);
	gcry_mpi_release(x1);
	gcry_mpi_release(y1);
	gcry_mpi_release(x3);
	gcry_mpi_release(y3);
	gcry_ctx_release(actx);
	gcry_ctx_release(rctx);
	return ok;
}

bool tg_verify_eddsa_message_inproc(const struct tg_key *k, struct tg_span msg, struct tg_span sig)
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, s = NULL, data = NULL;

	if (k->type != TG_KEY_ED25519 || k->q_len != 32 || sig.len != 64 || msg.len > 60000)
		return false;
	if (!ed25519_s_canonical(sig.p + 32))
		return false;
	if (gcry_sexp_build(&key, NULL, "(public-key(ecc(curve Ed25519)(flags eddsa)(q %b)))", 32,
			    k->q) ||
	    gcry_sexp_build(&s, NULL, "(sig-val(eddsa(r %b)(s %b)))", 32, sig.p, 32, sig.p + 32) ||
	    gcry_sexp_build(&data, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))",
			    (int)msg.len, msg.p))
		return false;
	return gcry_verify(s, data, key);
}

bool tg_verify_eddsa_hram_inproc(const struct tg_key *k, struct tg_span sig, const uint8_t hram[64])
{
	return verify_eddsa_hram(k, sig, hram);
}

enum tg_err tg_eddsa_hram_start(const struct tg_key *k, struct tg_span sig, struct tg_md **ret)
{
	enum tg_err r;

	if (k->type != TG_KEY_ED25519 || sig.len != 64)
		return TG_E_UNSUPPORTED;
	r = tg_md_new(TG_HASH_SHA512, ret);
	if (r != TG_OK)
		return r;
	tg_md_write(*ret, sig.p, 32);  /* R */
	tg_md_write(*ret, k->q, 32);   /* A */
	return TG_OK;
}

bool tg_verify_inproc(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
		      struct tg_span sig, enum tg_sig_scheme *ret_scheme)
{
	enum tg_sig_scheme scheme = TG_SCHEME_NONE;
	bool ok = false;

	switch (k->type) {
	case TG_KEY_RSA:
		ok = verify_rsa(k, h, digest, sig, &scheme);
		break;
	case TG_KEY_P256: case TG_KEY_P384: case TG_KEY_SM2:
		ok = verify_ec(k, h, digest, sig, &scheme);
		break;
	default:
		ok = false; /* Ed25519 signs messages, not digests */
		break;
	}
	if (ok && ret_scheme)
		*ret_scheme = scheme;
	return ok;
}

/* Run fn in a child; the answer comes back as one byte on a pipe.  A child
 * that dies, is killed or says anything unexpected means "not valid". */
struct verify_job {
	const struct tg_key *k;
	enum tg_hash h;
	const uint8_t *digest;
	struct tg_span sig;
	const uint8_t *hram;
	bool eddsa;
};

static bool isolate = true;

void tg_crypto_set_isolation(bool on)
{
	isolate = on;
}

static enum tg_err run_isolated(const struct verify_job *job, bool *ret_valid,
				enum tg_sig_scheme *ret_scheme)
{
	int fds[2];
	pid_t pid;
	uint8_t answer[2] = { 0, 0 };
	ssize_t got = 0;
	int status = 0;

	*ret_valid = false;
	if (!isolate) {
		/* The caller is itself an isolated worker process. */
		enum tg_sig_scheme sc = TG_SCHEME_NONE;
		bool ok = job->eddsa ? verify_eddsa_hram(job->k, job->sig, job->hram)
				     : tg_verify_inproc(job->k, job->h, job->digest, job->sig, &sc);
		*ret_valid = ok;
		if (ok && ret_scheme)
			*ret_scheme = job->eddsa ? TG_SCHEME_ED25519 : sc;
		return TG_OK;
	}
	if (pipe2(fds, O_CLOEXEC) < 0)
		return TG_E_IO;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return TG_E_NOMEM;
	}
	if (pid == 0) {
		enum tg_sig_scheme sc = TG_SCHEME_NONE;
		bool ok;
		close(fds[0]);
		if (job->eddsa) {
			ok = verify_eddsa_hram(job->k, job->sig, job->hram);
			sc = TG_SCHEME_ED25519;
		} else {
			ok = tg_verify_inproc(job->k, job->h, job->digest, job->sig, &sc);
		}
		uint8_t out[2] = { ok ? 'V' : 'I', (uint8_t)sc };
		if (write(fds[1], out, 2) != 2)
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	while (got < 2) {
		ssize_t n = read(fds[0], answer + got, (size_t)(2 - got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got != 2 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return TG_E_CRYPTO; /* the library crashed: fail closed */
	if (answer[0] == 'V') {
		*ret_valid = true;
		if (ret_scheme)
			*ret_scheme = (enum tg_sig_scheme)answer[1];
	}
	return TG_OK;
}

enum tg_err tg_verify_digest(const struct tg_key *k, enum tg_hash h, const uint8_t *digest,
			     struct tg_span sig, bool *ret_valid, enum tg_sig_scheme *ret_scheme)
{
	struct verify_job job = { .k = k, .h = h, .digest = digest, .sig = sig };
	return run_isolated(&job, ret_valid, ret_scheme);
}

enum tg_err tg_verify_eddsa(const struct tg_key *k, struct tg_span sig, const uint8_t hram[64],
			    bool *ret_valid)
{
	struct verify_job job = { .k = k, .sig = sig, .hram = hram, .eddsa = true };
	return run_isolated(&job, ret_valid, NULL);
}

/* DigestInfo prefixes of RFC 8017 §9.2 note 1. */
static const struct {
	enum tg_hash h;
	uint8_t prefix[19];
	size_t len;
} digest_info[] = {
	{ TG_HASH_SHA1, { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05,
			  0x00, 0x04, 0x14 }, 15 },
	{ TG_HASH_SHA256, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			    0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20 }, 19 },
	{ TG_HASH_SHA384, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			    0x04, 0x02, 0x02, 0x05, 0x00, 0x04, 0x30 }, 19 },
	{ TG_HASH_SHA512, { 0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03,
			    0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40 }, 19 },
};

enum tg_hash tg_rsa_peek_hash(const struct tg_key *k, struct tg_span sig, bool *ret_maybe_pss)
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, data = NULL, res = NULL, a = NULL;
	size_t klen = (k->bits + 7) / 8, alen = 0;
	uint8_t em[TG_RSA_MAX_BITS / 8];
	const char *p;

	*ret_maybe_pss = false;
	if (k->type != TG_KEY_RSA || sig.len != klen || klen > sizeof(em))
		return TG_HASH_NONE;
	/* s^e mod n, only to learn which digest the signer named; the
	 * decision is taken later by verify_rsa() with explicit padding. */
	if (gcry_sexp_build(&key, NULL, "(public-key(rsa(n %b)(e %b)))", (int)k->n_len, k->n,
			    (int)k->e_len, k->e) ||
	    gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", (int)sig.len, sig.p) ||
	    gcry_pk_encrypt(&res, data, key))
		return TG_HASH_NONE;
	a = gcry_sexp_find_token(res, "a", 0);
	if (!a || !(p = gcry_sexp_nth_data(a, 1, &alen)) ||
	    !be_fixed(tg_span_make(p, alen), em, klen))
		return TG_HASH_NONE;
	if (em[klen - 1] == 0xbc)
		*ret_maybe_pss = true;
	if (em[0] != 0x00 || em[1] != 0x01)
		return TG_HASH_NONE;
	for (size_t i = 0; i < TG_ARRAY_SIZE(digest_info); i++) {
		size_t tail = digest_info[i].len + tg_hash_len(digest_info[i].h);
		if (tail + 11 > klen)
			continue;
		if (em[klen - tail - 1] == 0x00 &&
		    memcmp(em + klen - tail, digest_info[i].prefix, digest_info[i].len) == 0)
			return digest_info[i].h;
	}
	return TG_HASH_NONE;
}

size_t tg_ecdsa_der_encode(const uint8_t *r, size_t rl, const uint8_t *s, size_t sl, uint8_t *out)
{
	const uint8_t *v[2] = { r, s };
	size_t l[2] = { rl, sl }, o = 2;

	for (int i = 0; i < 2; i++)
		while (l[i] > 1 && v[i][0] == 0) {
			v[i]++;
			l[i]--;
		}
	if (l[0] + l[1] + 6 > 127)
		return 0;
	for (int i = 0; i < 2; i++) {
		bool pad = l[i] && (v[i][0] & 0x80);
		out[o++] = 0x02;
		out[o++] = (uint8_t)(l[i] + pad);
		if (pad)
			out[o++] = 0;
		memcpy(out + o, v[i], l[i]);
		o += l[i];
	}
	out[0] = 0x30;
	out[1] = (uint8_t)(o - 2);
	return o;
}

/* U-Boot's precomputed Montgomery values for an RSA key in a control DTB:
 * rr = 2^(2 * bits) mod n and n0inv = -n^-1 mod 2^32.  U-Boot verifies with
 * these, trustgate with n and e: a DTB whose values disagree with its
 * modulus would make the two verifiers disagree, so it is refused. */
bool tg_rsa_uboot_params_ok(const struct tg_key *k, struct tg_span rr, uint32_t n0inv)
{
	gcry_mpi_t n = NULL, x = NULL, want = NULL;
	uint32_t n0, inv = 1;
	bool ok = false;

	if (k->type != TG_KEY_RSA || k->n_len < 4)
		return false;
	n0 = (uint32_t)k->n[k->n_len - 4] << 24 | (uint32_t)k->n[k->n_len - 3] << 16 |
	     (uint32_t)k->n[k->n_len - 2] << 8 | k->n[k->n_len - 1];
	for (int i = 0; i < 5; i++)   /* Newton: 5 steps reach 32 bits */
		inv *= 2 - n0 * inv;
	if ((uint32_t)(0u - inv) != n0inv)
		return false;
	if (gcry_mpi_scan(&n, GCRYMPI_FMT_USG, k->n, k->n_len, NULL) ||
	    gcry_mpi_scan(&want, GCRYMPI_FMT_USG, rr.p, rr.len, NULL))
		goto out;
	x = gcry_mpi_new(0);
	gcry_mpi_set_bit(x, 2 * k->bits);
	gcry_mpi_mod(x, x, n);
	ok = gcry_mpi_cmp(x, want) == 0;
out:
	gcry_mpi_release(n);
	gcry_mpi_release(x);
	gcry_mpi_release(want);
	return ok;
}

/* ------------------------------------------------ TPM credential primitives */

void tg_random(uint8_t *p, size_t n)
{
	gcry_randomize(p, n, GCRY_STRONG_RANDOM);
}

enum tg_err tg_hmac(enum tg_hash h, const uint8_t *key, size_t kl, const struct tg_span *parts, size_t n, uint8_t *out)
{
	gcry_md_hd_t hd;

	if (h == TG_HASH_NONE || h >= TG_HASH__COUNT || gcry_md_open(&hd, hashes[h].gcry, GCRY_MD_FLAG_HMAC))
		return TG_E_CRYPTO;
	if (gcry_md_setkey(hd, key, kl)) {
		gcry_md_close(hd);
		return TG_E_CRYPTO;
	}
	for (size_t i = 0; i < n; i++)
		gcry_md_write(hd, parts[i].p, parts[i].len);
	memcpy(out, gcry_md_read(hd, 0), tg_hash_len(h));
	gcry_md_close(hd);
	return TG_OK;
}

enum tg_err tg_aes128_cfb(bool encrypt, const uint8_t key[16], uint8_t *buf, size_t n)
{
	gcry_cipher_hd_t c;
	uint8_t iv[16] = { 0 };
	gcry_error_t e;

	if (gcry_cipher_open(&c, GCRY_CIPHER_AES128, GCRY_CIPHER_MODE_CFB, 0))
		return TG_E_CRYPTO;
	e = gcry_cipher_setkey(c, key, 16);
	if (!e)
		e = gcry_cipher_setiv(c, iv, sizeof(iv));
	if (!e)
		e = encrypt ? gcry_cipher_encrypt(c, buf, n, NULL, 0) : gcry_cipher_decrypt(c, buf, n, NULL, 0);
	gcry_cipher_close(c);
	return e ? TG_E_CRYPTO : TG_OK;
}

enum tg_err tg_rsa_oaep_encrypt(const struct tg_key *k, enum tg_hash h, const uint8_t *label, size_t ll,
				const uint8_t *in, size_t inl, uint8_t *out, size_t outcap, size_t *outl)
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, data = NULL, res = NULL, a = NULL;
	size_t klen = (k->bits + 7) / 8, alen = 0;
	const char *p;

	if (k->type != TG_KEY_RSA || outcap < klen)
		return TG_E_CRYPTO;
	if (gcry_sexp_build(&key, NULL, "(public-key(rsa(n %b)(e %b)))", (int)k->n_len, k->n, (int)k->e_len, k->e) ||
	    gcry_sexp_build(&data, NULL, "(data(flags oaep)(hash-algo %s)(label %b)(value %b))", hashes[h].name,
			    (int)ll, label, (int)inl, in) ||
	    gcry_pk_encrypt(&res, data, key))
		return TG_E_CRYPTO;
	a = gcry_sexp_find_token(res, "a", 0);
	if (!a || !(p = gcry_sexp_nth_data(a, 1, &alen)) || alen > klen)
		return TG_E_CRYPTO;
	/* Left-pad to the modulus length, as the TPM expects. */
	memset(out, 0, klen - alen);
	memcpy(out + klen - alen, p, alen);
	*outl = klen;
	return TG_OK;
}

enum tg_err tg_ecdh_p256(const struct tg_key *peer, uint8_t z_x[32], uint8_t eph_x[32], uint8_t eph_y[32])
{
	_cleanup_sexp_ gcry_sexp_t key = NULL, data = NULL, res = NULL, s = NULL, e = NULL;
	uint8_t k[32];
	size_t sl = 0, el = 0;
	const char *sp, *ep;

	if (peer->type != TG_KEY_P256 || peer->q_len != 65)
		return TG_E_CRYPTO;
	/* An ephemeral scalar below the group order (top bit clear), not 0. */
	do {
		gcry_randomize(k, sizeof(k), GCRY_STRONG_RANDOM);
		k[0] &= 0x7f;
	} while (!k[0] && !k[1]);
	/* libgcrypt's ECC "encryption" is ECDH: s = k*Q, e = k*G. */
	if (gcry_sexp_build(&key, NULL, "(public-key(ecc(curve \"NIST P-256\")(q %b)))", (int)peer->q_len, peer->q) ||
	    gcry_sexp_build(&data, NULL, "(data(value %b))", (int)sizeof(k), k) || gcry_pk_encrypt(&res, data, key))
		return TG_E_CRYPTO;
	s = gcry_sexp_find_token(res, "s", 0);
	e = gcry_sexp_find_token(res, "e", 0);
	if (!s || !e || !(sp = gcry_sexp_nth_data(s, 1, &sl)) || !(ep = gcry_sexp_nth_data(e, 1, &el)) || sl != 65 ||
	    el != 65 || sp[0] != 4 || ep[0] != 4)
		return TG_E_CRYPTO;
	memcpy(z_x, sp + 1, 32);
	memcpy(eph_x, ep + 1, 32);
	memcpy(eph_y, ep + 33, 32);
	return TG_OK;
}

static const char *const scheme_names[] = {
	[TG_SCHEME_NONE] = "none",       [TG_SCHEME_RSA_PKCS1] = "rsa-pkcs1", [TG_SCHEME_RSA_PSS] = "rsa-pss",
	[TG_SCHEME_ECDSA] = "ecdsa",     [TG_SCHEME_ED25519] = "ed25519",     [TG_SCHEME_SM2] = "sm2",
	[TG_SCHEME_OPENPGP] = "openpgp",
};

const char *tg_scheme_name(enum tg_sig_scheme s)
{
	return (size_t)s < TG_ARRAY_SIZE(scheme_names) && scheme_names[s] ? scheme_names[s] : "none";
}

enum tg_sig_scheme tg_scheme_from_name(const char *name)
{
	for (size_t i = 0; name && i < TG_ARRAY_SIZE(scheme_names); i++)
		if (scheme_names[i] && strcmp(scheme_names[i], name) == 0)
			return (enum tg_sig_scheme)i;
	return TG_SCHEME_NONE;
}

bool tg_digest_parse(const char *s, bool allow_sha1, char alg[16], char hex[2 * TG_HASH_MAX_LEN + 1])
{
	const char *colon = strchr(s, ':');
	uint8_t raw[TG_HASH_MAX_LEN];
	size_t n = 0;

	if (!colon || colon - s >= 16)
		return false;
	memcpy(alg, s, (size_t)(colon - s));
	alg[colon - s] = '\0';
	enum tg_hash h = tg_hash_from_name(alg);
	if (h == TG_HASH_NONE || (h == TG_HASH_SHA1 && !allow_sha1))
		return false;
	if (!tg_hex_decode(colon + 1, raw, sizeof(raw), &n) || n != tg_hash_len(h))
		return false;
	tg_hex_encode(raw, n, hex);
	return true;
}
