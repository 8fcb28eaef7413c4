/*
 * Public keys: X.509 certificates and SubjectPublicKeyInfo, parsed by
 * libksba (no hand-written ASN.1 for X.509), validated, and re-encoded as
 * canonical DER so the fingerprint is the one `openssl pkey -pubin -outform
 * DER | sha256sum` prints.
 *
 * A bare SPKI is parsed by wrapping it in a minimal certificate skeleton
 * and handing that to ksba_cert_init_from_mem(): libksba's key-info parser
 * then does the ASN.1 work.  The re-encoded SPKI must equal the input byte
 * for byte, which refuses BER, non-minimal lengths and trailing bytes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>
#include <ksba.h>

#include "crypto.h"
#include "encoding.h"


void tg_key_free(struct tg_key *k)
{
	if (!k)
		return;
	free(k->n);
	free(k->e);
	free(k->spki);
	free(k->cert);
	free(k->cert_subject);
	free(k);
}

static void ksba_cert_releasep(ksba_cert_t *c)
{
	ksba_cert_release(*c);
}

static void ksba_der_releasep(ksba_der_t *d)
{
	ksba_der_release(*d);
}

static void ksba_freep(void *p)
{
	ksba_free(*(void **)p);
}

/* libksba reports parse failures on stderr by itself; trustgate prints one
 * line per problem, so the library is muted while it parses untrusted
 * bytes.  Restored by the cleanup handler on every path. */
static int quiet_begin(void)
{
	int saved, null;

	fflush(stderr);
	saved = dup(STDERR_FILENO);
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (saved >= 0 && null >= 0)
		dup2(null, STDERR_FILENO);
	if (null >= 0)
		close(null);
	return saved;
}

static void quiet_end(int *saved)
{
	if (*saved < 0)
		return;
	fflush(stderr);
	dup2(*saved, STDERR_FILENO);
	close(*saved);
	*saved = -1;
}
#define _cleanup_quiet_ _cleanup_(quiet_end)

static void gcry_sexp_releasep(gcry_sexp_t *s)
{
	if (*s)
		gcry_sexp_release(*s);
}

/* Get the bytes of (name value) inside sexp. */
static bool sexp_bytes(gcry_sexp_t s, const char *name, struct tg_span *ret)
{
	gcry_sexp_t t = gcry_sexp_find_token(s, name, 0);
	size_t len = 0;
	const char *p;

	if (!t)
		return false;
	p = gcry_sexp_nth_data(t, 1, &len);
	/* the data stays owned by s: t is a copy we release, so point into
	 * s by searching again is not possible; copy instead via the caller */
	if (!p) {
		gcry_sexp_release(t);
		return false;
	}
	ret->p = malloc(len ? len : 1);
	if (!ret->p) {
		gcry_sexp_release(t);
		return false;
	}
	memcpy((void *)ret->p, p, len);
	ret->len = len;
	gcry_sexp_release(t);
	return true;
}

/* Build a certificate skeleton around spki for libksba to parse.  Nothing
 * in it but the SPKI is read back. */
static enum tg_err wrap_spki(struct tg_span spki, unsigned char **ret, size_t *ret_len)
{
	_cleanup_(ksba_der_releasep) ksba_der_t d = ksba_der_builder_new(0);
	static const char sigalg[] = "1.2.840.113549.1.1.11";

	if (!d)
		return TG_E_NOMEM;
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_tag(d, KSBA_CLASS_CONTEXT, 0);
	ksba_der_add_int(d, "\x02", 1, 0);
	ksba_der_add_end(d);
	ksba_der_add_int(d, "\x01", 1, 0);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_oid(d, sigalg);
	ksba_der_add_ptr(d, 0, KSBA_TYPE_NULL, "", 0);
	ksba_der_add_end(d);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_end(d);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_ptr(d, 0, KSBA_TYPE_UTC_TIME, "200101000000Z", 13);
	ksba_der_add_ptr(d, 0, KSBA_TYPE_UTC_TIME, "200101000000Z", 13);
	ksba_der_add_end(d);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_end(d);
	ksba_der_add_der(d, spki.p, spki.len);
	ksba_der_add_end(d);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_oid(d, sigalg);
	ksba_der_add_ptr(d, 0, KSBA_TYPE_NULL, "", 0);
	ksba_der_add_end(d);
	ksba_der_add_bts(d, "\0", 1, 0);
	ksba_der_add_end(d);
	if (ksba_der_builder_get(d, ret, ret_len))
		return TG_E_FORMAT;
	return TG_OK;
}

/* Canonical DER SPKI for a validated key (RFC 5280 §4.1.2.7, RFC 3279,
 * RFC 5480, RFC 8410; SM2 as GM/T 0006 / openssl encode it). */
static enum tg_err encode_spki(struct tg_key *k)
{
	_cleanup_(ksba_der_releasep) ksba_der_t d = ksba_der_builder_new(0);
	_cleanup_(ksba_freep) unsigned char *inner = NULL;
	unsigned char *der = NULL;
	size_t inner_len = 0, der_len = 0;

	if (!d)
		return TG_E_NOMEM;
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	switch (k->type) {
	case TG_KEY_RSA: {
		_cleanup_(ksba_der_releasep) ksba_der_t rd = ksba_der_builder_new(0);
		if (!rd)
			return TG_E_NOMEM;
		ksba_der_add_tag(rd, 0, KSBA_TYPE_SEQUENCE);
		ksba_der_add_int(rd, k->n, k->n_len, 1);
		ksba_der_add_int(rd, k->e, k->e_len, 1);
		ksba_der_add_end(rd);
		if (ksba_der_builder_get(rd, &inner, &inner_len))
			return TG_E_CRYPTO;
		ksba_der_add_oid(d, TG_OID_RSA);
		ksba_der_add_ptr(d, 0, KSBA_TYPE_NULL, "", 0);
		ksba_der_add_end(d);
		ksba_der_add_bts(d, inner, inner_len, 0);
		break;
	}
	case TG_KEY_P256: case TG_KEY_P384: case TG_KEY_SM2:
		ksba_der_add_oid(d, TG_OID_EC);
		ksba_der_add_oid(d, k->type == TG_KEY_P256 ? TG_OID_P256 :
				    k->type == TG_KEY_P384 ? TG_OID_P384 : TG_OID_SM2);
		ksba_der_add_end(d);
		ksba_der_add_bts(d, k->q, k->q_len, 0);
		break;
	case TG_KEY_ED25519:
		ksba_der_add_oid(d, TG_OID_ED25519);
		ksba_der_add_end(d);
		ksba_der_add_bts(d, k->q, k->q_len, 0);
		break;
	default:
		return TG_E_UNSUPPORTED;
	}
	ksba_der_add_end(d);
	if (ksba_der_builder_get(d, &der, &der_len))
		return TG_E_CRYPTO;
	k->spki = malloc(der_len);
	if (!k->spki) {
		ksba_free(der);
		return TG_E_NOMEM;
	}
	memcpy(k->spki, der, der_len);
	k->spki_len = der_len;
	ksba_free(der);

	uint8_t fp[32];
	tg_digest(TG_HASH_SHA256, k->spki, k->spki_len, fp);
	tg_hex_encode(fp, 32, k->fingerprint);
	return TG_OK;
}

/* y-coordinates (little-endian, sign bit cleared) of the eight points of
 * small order on edwards25519: the identity, the point of order 2, the two
 * of order 4 (y = 0) and the four of order 8.  A public key among them lets
 * one signature verify for many messages, and libgcrypt 1.10 aborts on the
 * identity (THREATS P4, case 33). */
static const uint8_t ed25519_small_order_y[5][32] = {
	{ 0 },
	{ 1 },
	{ 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98,
	  0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53,
	  0xfc, 0x05 },
	{ 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67,
	  0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac,
	  0x03, 0x7a },
	{ 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	  0xff, 0x7f },
};

int tg_ed25519_point_check(const uint8_t a[32])
{
	uint8_t y[32];

	memcpy(y, a, 32);
	y[31] &= 0x7f;
	/* Canonical: y < p = 2^255 - 19 (RFC 8032 §5.1.3 step 1). */
	bool ge_p = y[31] == 0x7f && y[0] >= 0xed;
	for (int i = 1; i < 31 && ge_p; i++)
		if (y[i] != 0xff)
			ge_p = false;
	if (ge_p)
		return 1;
	for (size_t i = 0; i < TG_ARRAY_SIZE(ed25519_small_order_y); i++)
		if (memcmp(y, ed25519_small_order_y[i], 32) == 0)
			return 2;
	return 0;
}

static enum tg_err check_ed25519(const uint8_t a[32], const char *what, struct tg_diag *d)
{
	switch (tg_ed25519_point_check(a)) {
	case 1:
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: Ed25519 key is not canonically encoded", what);
	case 2:
		return tg_fail(d, TG_E_UNSUPPORTED,
			       "%s: Ed25519 key is a point of small order (forgeable)", what);
	}
	return TG_OK;
}

/* A point on the named curve, checked with libgcrypt's EC context. */
static bool ec_point_on_curve(const struct tg_key *k, const char *curve)
{
	_cleanup_(gcry_sexp_releasep) gcry_sexp_t key = NULL;
	gcry_ctx_t ctx = NULL;
	gcry_mpi_point_t q = NULL;
	bool ok = false;

	if (gcry_sexp_build(&key, NULL, "(public-key(ecc(curve %s)(q %b)))", curve, (int)k->q_len,
			    k->q))
		return false;
	if (gcry_mpi_ec_new(&ctx, key, NULL))
		return false;
	q = gcry_mpi_ec_get_point("q", ctx, 1);
	if (q)
		ok = gcry_mpi_ec_curve_point(q, ctx) != 0;
	gcry_mpi_point_release(q);
	gcry_ctx_release(ctx);
	return ok;
}

/* Fill k from libksba's canonical S-expression and validate it. */
static enum tg_err key_from_sexp(ksba_const_sexp_t ks, struct tg_key *k, const char *what,
				 struct tg_diag *d)
{
	_cleanup_(gcry_sexp_releasep) gcry_sexp_t s = NULL, alg = NULL;
	size_t slen = gcry_sexp_canon_len(ks, 0, NULL, NULL);
	struct tg_span n = { 0 }, e = { 0 }, curve = { 0 }, q = { 0 };
	enum tg_err r = TG_OK;

	if (!slen || gcry_sexp_new(&s, ks, slen, 0))
		return tg_fail(d, TG_E_FORMAT, "%s: cannot read the public key", what);
	if ((alg = gcry_sexp_find_token(s, "rsa", 0))) {
		if (!sexp_bytes(alg, "n", &n) || !sexp_bytes(alg, "e", &e)) {
			r = tg_fail(d, TG_E_FORMAT, "%s: RSA key without modulus or exponent", what);
			goto out;
		}
		struct tg_span tn = n, te = e;
		while (tn.len && tn.p[0] == 0)
			tg_span_take(&tn, 1, NULL);
		while (te.len && te.p[0] == 0)
			tg_span_take(&te, 1, NULL);
		k->type = TG_KEY_RSA;
		k->bits = tn.len ? (unsigned)(tn.len * 8) : 0;
		if (tn.len)
			for (uint8_t top = tn.p[0]; !(top & 0x80); top <<= 1)
				k->bits--;
		/* THREATS P2/case 29: libgcrypt verifies with e = 1 and tiny
		 * moduli outside FIPS mode, so the key is checked here. */
		if (k->bits != 2048 && k->bits != 3072 && k->bits != 4096) {
			r = tg_fail(d, TG_E_UNSUPPORTED,
				    "%s: RSA modulus of %u bits refused (2048, 3072 or 4096 only)",
				    what, k->bits);
			goto out;
		}
		if (!(tn.p[tn.len - 1] & 1)) {
			r = tg_fail(d, TG_E_UNSUPPORTED, "%s: RSA modulus is even", what);
			goto out;
		}
		bool e_small = te.len < 3 || (te.len == 3 && (te.p[0] << 16 | te.p[1] << 8 | te.p[2]) < 65537);
		if (te.len == 0 || e_small || !(te.p[te.len - 1] & 1) || te.len > 32) {
			r = tg_fail(d, TG_E_UNSUPPORTED,
				    "%s: RSA public exponent refused (must be odd, >= 65537)", what);
			goto out;
		}
		k->n = malloc(tn.len);
		k->e = malloc(te.len);
		if (!k->n || !k->e) {
			r = TG_E_NOMEM;
			goto out;
		}
		memcpy(k->n, tn.p, tn.len);
		memcpy(k->e, te.p, te.len);
		k->n_len = tn.len;
		k->e_len = te.len;
	} else if ((alg = gcry_sexp_find_token(s, "ecc", 0))) {
		if (!sexp_bytes(alg, "curve", &curve) || !sexp_bytes(alg, "q", &q)) {
			r = tg_fail(d, TG_E_FORMAT, "%s: EC key without curve or point", what);
			goto out;
		}
		char cname[64] = "";
		snprintf(cname, sizeof(cname), "%.*s", (int)curve.len, (const char *)curve.p);
		size_t want;
		if (strcmp(cname, TG_OID_P256) == 0) {
			k->type = TG_KEY_P256; k->bits = 256; want = 65;
		} else if (strcmp(cname, TG_OID_P384) == 0) {
			k->type = TG_KEY_P384; k->bits = 384; want = 97;
		} else if (strcmp(cname, TG_OID_SM2) == 0) {
			k->type = TG_KEY_SM2; k->bits = 256; want = 65;
		} else if (strcmp(cname, TG_OID_ED25519) == 0 || strcmp(cname, "Ed25519") == 0) {
			k->type = TG_KEY_ED25519; k->bits = 256; want = 32;
		} else {
			/* THREATS case 40: P-224, brainpool, P-521 ... */
			r = tg_fail(d, TG_E_UNSUPPORTED, "%s: elliptic curve %s is not accepted", what,
				    cname);
			goto out;
		}
		if (q.len != want || (want != 32 && q.p[0] != 0x04)) {
			r = tg_fail(d, TG_E_UNSUPPORTED,
				    "%s: EC point must be uncompressed (%zu bytes), got %zu bytes", what,
				    want, q.len);
			goto out;
		}
		memcpy(k->q, q.p, q.len);
		k->q_len = q.len;
		if (k->type == TG_KEY_ED25519) {
			r = check_ed25519(k->q, what, d);
			if (r != TG_OK)
				goto out;
		} else if (!ec_point_on_curve(k, k->type == TG_KEY_P256 ? "NIST P-256" :
						 k->type == TG_KEY_P384 ? "NIST P-384" : "sm2p256v1")) {
			r = tg_fail(d, TG_E_UNSUPPORTED, "%s: EC point is not on the curve", what);
			goto out;
		}
	} else {
		r = tg_fail(d, TG_E_UNSUPPORTED, "%s: public key algorithm not accepted", what);
		goto out;
	}
	r = encode_spki(k);
	if (r != TG_OK)
		tg_fail(d, r, "%s: cannot encode the public key", what);
out:
	free((void *)n.p);
	free((void *)e.p);
	free((void *)curve.p);
	free((void *)q.p);
	return r;
}

static bool isotime_epoch(const ksba_isotime_t t, int64_t *ret)
{
	struct tm tm = { 0 };

	if (!t[0])
		return false;
	if (!strptime(t, "%Y%m%dT%H%M%S", &tm))
		return false;
	*ret = (int64_t)timegm(&tm);
	return true;
}

/* Parse a DER certificate with libksba. */
static enum tg_err key_from_cert(struct tg_span der, const char *what, struct tg_key **ret,
				 struct tg_diag *d)
{
	_cleanup_(ksba_cert_releasep) ksba_cert_t cert = NULL;
	_cleanup_(ksba_freep) ksba_sexp_t pk = NULL;
	_cleanup_key_ struct tg_key *k = NULL;
	ksba_isotime_t nb, na;
	size_t imglen = 0;
	enum tg_err r;

	if (ksba_cert_new(&cert))
		return TG_E_NOMEM;
	_cleanup_quiet_ int quiet = quiet_begin();
	if (ksba_cert_init_from_mem(cert, der.p, der.len))
		return tg_fail(d, TG_E_FORMAT, "%s: not a valid X.509 certificate", what);
	/* libksba stops at the end of the certificate: bytes after it would
	 * be data no one checked. */
	if (!ksba_cert_get_image(cert, &imglen) || imglen != der.len)
		return tg_fail(d, TG_E_FORMAT, "%s: trailing bytes after the certificate", what);
	pk = ksba_cert_get_public_key(cert);
	if (!pk)
		return tg_fail(d, TG_E_FORMAT, "%s: certificate has no readable public key", what);
	k = tg_calloc(1, sizeof(*k));
	if (!k)
		return TG_E_NOMEM;
	r = key_from_sexp(pk, k, what, d);
	if (r != TG_OK)
		return r;
	k->cert = malloc(der.len);
	if (!k->cert)
		return TG_E_NOMEM;
	memcpy(k->cert, der.p, der.len);
	k->cert_len = der.len;
	if (ksba_cert_get_validity(cert, 0, nb) || ksba_cert_get_validity(cert, 1, na) ||
	    !isotime_epoch(nb, &k->cert_not_before) || !isotime_epoch(na, &k->cert_not_after))
		return tg_fail(d, TG_E_FORMAT, "%s: certificate validity unreadable", what);
	char *subj = ksba_cert_get_subject(cert, 0);
	if (subj) {
		k->cert_subject = strdup(subj);
		ksba_free(subj);
	}
	*ret = TAKE_PTR(k);
	return TG_OK;
}

static enum tg_err key_from_spki(struct tg_span spki, const char *what, struct tg_key **ret,
				 struct tg_diag *d)
{
	_cleanup_(ksba_cert_releasep) ksba_cert_t cert = NULL;
	_cleanup_(ksba_freep) unsigned char *wrapped = NULL;
	_cleanup_(ksba_freep) ksba_sexp_t pk = NULL;
	_cleanup_key_ struct tg_key *k = NULL;
	size_t wlen = 0;
	enum tg_err r;

	if (spki.len < 2 || spki.p[0] != 0x30)
		return tg_fail(d, TG_E_FORMAT, "%s: not a DER public key", what);
	r = wrap_spki(spki, &wrapped, &wlen);
	if (r != TG_OK)
		return tg_fail(d, r, "%s: not a DER public key", what);
	if (ksba_cert_new(&cert))
		return TG_E_NOMEM;
	_cleanup_quiet_ int quiet = quiet_begin();
	if (ksba_cert_init_from_mem(cert, wrapped, wlen))
		return tg_fail(d, TG_E_FORMAT, "%s: not a valid SubjectPublicKeyInfo", what);
	pk = ksba_cert_get_public_key(cert);
	if (!pk)
		return tg_fail(d, TG_E_FORMAT, "%s: not a valid SubjectPublicKeyInfo", what);
	k = tg_calloc(1, sizeof(*k));
	if (!k)
		return TG_E_NOMEM;
	r = key_from_sexp(pk, k, what, d);
	if (r != TG_OK)
		return r;
	/* Exactly one encoding per key: BER, padding or trailing data would
	 * give one key two fingerprints. */
	if (k->spki_len != spki.len || memcmp(k->spki, spki.p, spki.len) != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: public key is not in canonical DER form", what);
	*ret = TAKE_PTR(k);
	return TG_OK;
}

/* Build a key from components (TPMT_PUBLIC and the like) through the same
 * validation and canonical SPKI as an imported key. */
static enum tg_err key_from_gcry(gcry_sexp_t s, const char *what, struct tg_key **ret,
				 struct tg_diag *d)
{
	_cleanup_free_ char *canon = NULL;
	_cleanup_key_ struct tg_key *k = NULL;
	size_t n = gcry_sexp_sprint(s, GCRYSEXP_FMT_CANON, NULL, 0);
	enum tg_err r;

	canon = malloc(n ? n : 1);
	if (!canon)
		return TG_E_NOMEM;
	gcry_sexp_sprint(s, GCRYSEXP_FMT_CANON, canon, n);
	k = tg_calloc(1, sizeof(*k));
	if (!k)
		return TG_E_NOMEM;
	r = key_from_sexp((ksba_const_sexp_t)canon, k, what, d);
	if (r != TG_OK)
		return r;
	*ret = TAKE_PTR(k);
	return TG_OK;
}

enum tg_err tg_key_from_rsa(struct tg_span n, struct tg_span e, const char *what, struct tg_key **ret,
			    struct tg_diag *d)
{
	_cleanup_(gcry_sexp_releasep) gcry_sexp_t s = NULL;

	if (gcry_sexp_build(&s, NULL, "(public-key(rsa(n %b)(e %b)))", (int)n.len, n.p, (int)e.len, e.p))
		return tg_fail(d, TG_E_FORMAT, "%s: unusable RSA key", what);
	return key_from_gcry(s, what, ret, d);
}

enum tg_err tg_key_from_ec(enum tg_key_type type, struct tg_span x, struct tg_span y, const char *what,
			   struct tg_key **ret, struct tg_diag *d)
{
	_cleanup_(gcry_sexp_releasep) gcry_sexp_t s = NULL;
	uint8_t q[97];
	size_t flen = type == TG_KEY_P384 ? 48 : 32;
	const char *oid = type == TG_KEY_P256 ? TG_OID_P256 : type == TG_KEY_P384 ? TG_OID_P384 :
			  type == TG_KEY_SM2 ? TG_OID_SM2 : NULL;

	if (!oid || x.len > flen || y.len > flen)
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: unsupported EC key", what);
	/* Coordinates are fixed-length big-endian, left-padded. */
	memset(q, 0, sizeof(q));
	q[0] = 0x04;
	memcpy(q + 1 + flen - x.len, x.p, x.len);
	memcpy(q + 1 + 2 * flen - y.len, y.p, y.len);
	if (gcry_sexp_build(&s, NULL, "(public-key(ecc(curve %s)(q %b)))", oid, (int)(1 + 2 * flen), q))
		return tg_fail(d, TG_E_FORMAT, "%s: unusable EC key", what);
	return key_from_gcry(s, what, ret, d);
}

enum tg_err tg_key_from_spki(struct tg_span spki, struct tg_key **ret, struct tg_diag *d)
{
	return key_from_spki(spki, "stored key", ret, d);
}

/* Skip one DER tag and length header; false when it is not a SEQUENCE. */
static bool der_enter_seq(struct tg_span *s)
{
	uint8_t tag, len, b;

	if (!tg_span_u8(s, &tag) || tag != 0x30 || !tg_span_u8(s, &len))
		return false;
	if (len & 0x80) {
		for (unsigned i = 0; i < (len & 0x7fu); i++)
			if (!tg_span_u8(s, &b))
				return false;
	}
	return true;
}

static int der_inner_tag(struct tg_span in)
{
	uint8_t tag;

	if (!der_enter_seq(&in) || !der_enter_seq(&in) || !tg_span_u8(&in, &tag))
		return -1;
	return tag;
}

enum tg_err tg_key_parse(struct tg_span in, const char *what, struct tg_key **ret,
			 struct tg_diag *d)
{
	_cleanup_free_ char *label = NULL;
	_cleanup_free_ uint8_t *der = NULL;
	size_t der_len = 0;
	enum tg_err r;

	if (in.len == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: key file is empty", what);
	r = tg_pem_decode(in, NULL, &label, &der, &der_len);
	if (r == TG_OK) {
		struct tg_span body = tg_span_make(der, der_len);
		if (strcmp(label, "PUBLIC KEY") == 0)
			return key_from_spki(body, what, ret, d);
		if (strcmp(label, "CERTIFICATE") == 0)
			return key_from_cert(body, what, ret, d);
		if (strstr(label, "PRIVATE KEY"))
			return tg_fail(d, TG_E_USAGE,
				       "%s: this is a private key; give the public key or certificate",
				       what);
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: PEM block \"%s\" is not a public key or certificate",
			       what, label);
	}
	if (r == TG_E_NOMEM)
		return r;
	if (r != TG_E_NOTFOUND)
		return tg_fail(d, TG_E_FORMAT, "%s: malformed PEM", what);
	/* DER: a certificate is SEQUENCE { SEQUENCE tbs { [0] version |
	 * INTEGER serial, ... } ... }, an SPKI is SEQUENCE { SEQUENCE algid
	 * { OID, ... }, BIT STRING }: the tag of the first element inside the
	 * inner SEQUENCE tells them apart; libksba then parses either. */
	switch (der_inner_tag(in)) {
	case 0xa0: case 0x02:
		return key_from_cert(in, what, ret, d);
	case 0x06:
		return key_from_spki(in, what, ret, d);
	default:
		return tg_fail(d, TG_E_FORMAT, "%s: not a PEM or DER public key or certificate", what);
	}
}
