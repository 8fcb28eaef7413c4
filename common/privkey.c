/*
 * Private keys for `vendor sign` (the supplier's side): PEM PKCS#8
 * ("PRIVATE KEY", as `openssl genpkey` writes them) for RSA, ECDSA P-256/
 * P-384, Ed25519 and SM2, and signing with libgcrypt in the encodings
 * `check` verifies.  libksba has no private-key API, so PrivateKeyInfo
 * (RFC 5208) is read here with a strict DER reader over bounded spans: the
 * input is the supplier's own key, and every length is still checked.
 */
#include <string.h>

#include <gcrypt.h>
#include <ksba.h>

#include "crypto.h"
#include "encoding.h"
#include "privkey.h"

/* One DER TLV (definite, minimal lengths up to 4 bytes). */
static bool der(struct tg_span *s, uint8_t want, struct tg_span *ret)
{
	uint8_t tag, b;
	size_t len = 0;

	if (!tg_span_u8(s, &tag) || tag != want || !tg_span_u8(s, &b))
		return false;
	if (b & 0x80) {
		unsigned n = b & 0x7f;
		if (n == 0 || n > 4)
			return false;
		for (unsigned i = 0; i < n; i++) {
			if (!tg_span_u8(s, &b))
				return false;
			len = len << 8 | b;
		}
		if (len < 128)
			return false;
	} else {
		len = b;
	}
	return tg_span_take(s, len, ret);
}

/* Is the DER OID body o the dotted oid?  (libksba does the decoding.) */
static bool oid_is(struct tg_span o, const char *oid)
{
	char *dotted = o.len ? ksba_oid_to_str((const char *)o.p, o.len) : NULL;
	bool eq = dotted && strcmp(dotted, oid) == 0;

	ksba_free(dotted);
	return eq;
}

void tg_privkey_free(struct tg_privkey *k)
{
	if (!k)
		return;
	if (k->sexp)
		gcry_sexp_release(k->sexp);
	tg_key_free(k->pub);
	free(k);
}

static struct tg_span trim(struct tg_span s)
{
	while (s.len > 1 && s.p[0] == 0)
		tg_span_take(&s, 1, NULL);
	return s;
}

enum tg_err tg_privkey_parse(struct tg_span in, const char *what, struct tg_privkey **ret, struct tg_diag *d)
{
	_cleanup_free_ uint8_t *derb = NULL;
	_cleanup_free_ char *label = NULL;
	size_t dl = 0;
	struct tg_span s, pki, ver, alg, oid, params = { 0 }, pk;
	struct tg_privkey *k;
	enum tg_err r;

	r = tg_pem_decode(in, NULL, &label, &derb, &dl);
	if (r != TG_OK || strcmp(label, "PRIVATE KEY") != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: not a PEM PKCS#8 private key (\"PRIVATE KEY\"; encrypted keys "
					       "are not read)", what);
	s = tg_span_make(derb, dl);
	if (!der(&s, 0x30, &pki) || s.len != 0 || !der(&pki, 0x02, &ver) || !der(&pki, 0x30, &alg) ||
	    !der(&alg, 0x06, &oid) || !der(&pki, 0x04, &pk))
		return tg_fail(d, TG_E_FORMAT, "%s: malformed PKCS#8", what);
	if (alg.len && !der(&alg, 0x06, &params))
		params.len = 0;
	k = tg_calloc(1, sizeof(*k));
	if (!k)
		return TG_E_NOMEM;
	r = TG_OK;
	if (oid_is(oid, TG_OID_RSA)) {
		struct tg_span rk, v, n, e, dd, p, q, dp, dq, u;
		if (!der(&pk, 0x30, &rk) || !der(&rk, 0x02, &v) || !der(&rk, 0x02, &n) || !der(&rk, 0x02, &e) ||
		    !der(&rk, 0x02, &dd) || !der(&rk, 0x02, &p) || !der(&rk, 0x02, &q) || !der(&rk, 0x02, &dp) ||
		    !der(&rk, 0x02, &dq) || !der(&rk, 0x02, &u)) {
			r = tg_fail(d, TG_E_FORMAT, "%s: malformed RSA private key", what);
		} else {
			/* libgcrypt wants p < q and u = p^-1 mod q. */
			gcry_mpi_t mp = NULL, mq = NULL, mu = gcry_mpi_new(0);
			p = trim(p);
			q = trim(q);
			gcry_mpi_scan(&mp, GCRYMPI_FMT_USG, p.p, p.len, NULL);
			gcry_mpi_scan(&mq, GCRYMPI_FMT_USG, q.p, q.len, NULL);
			if (gcry_mpi_cmp(mp, mq) > 0) {
				gcry_mpi_t t = mp;
				mp = mq;
				mq = t;
			}
			gcry_mpi_invm(mu, mp, mq);
			n = trim(n);
			e = trim(e);
			dd = trim(dd);
			if (gcry_sexp_build(&k->sexp, NULL, "(private-key(rsa(n %b)(e %b)(d %b)(p %m)(q %m)(u %m)))",
					    (int)n.len, n.p, (int)e.len, e.p, (int)dd.len, dd.p, mp, mq, mu))
				r = tg_fail(d, TG_E_CRYPTO, "%s: unusable RSA key", what);
			else
				r = tg_key_from_rsa(n, e, what, &k->pub, d);
			gcry_mpi_release(mp);
			gcry_mpi_release(mq);
			gcry_mpi_release(mu);
		}
	} else if (oid_is(oid, TG_OID_EC)) {
		struct tg_span ek, v, dd, ctx, pub = { 0 };
		enum tg_key_type t = oid_is(params, TG_OID_P256) ? TG_KEY_P256 : oid_is(params, TG_OID_P384) ? TG_KEY_P384 :
				     oid_is(params, TG_OID_SM2) ? TG_KEY_SM2 : TG_KEY_NONE;
		const char *curve = t == TG_KEY_P256 ? "NIST P-256" : t == TG_KEY_P384 ? "NIST P-384" : "sm2p256v1";
		if (t == TG_KEY_NONE || !der(&pk, 0x30, &ek) || !der(&ek, 0x02, &v) || !der(&ek, 0x04, &dd)) {
			r = tg_fail(d, TG_E_UNSUPPORTED, "%s: EC private key on an unsupported curve or malformed", what);
		} else {
			struct tg_span bits, t0 = ek;
			/* [0] parameters are optional; [1] publicKey is required here. */
			if (!der(&t0, 0xa0, &ctx))
				t0 = ek;
			if (der(&t0, 0xa1, &ctx) && der(&ctx, 0x03, &bits) && bits.len > 1 && bits.p[0] == 0)
				pub = tg_span_make(bits.p + 1, bits.len - 1);
			if (!pub.len || pub.p[0] != 0x04 || pub.len % 2 != 1) {
				r = tg_fail(d, TG_E_FORMAT, "%s: EC private key without its public point", what);
			} else if (gcry_sexp_build(&k->sexp, NULL, "(private-key(ecc(curve %s)(q %b)(d %b)))", curve,
						   (int)pub.len, pub.p, (int)dd.len, dd.p)) {
				r = tg_fail(d, TG_E_CRYPTO, "%s: unusable EC key", what);
			} else {
				size_t fl = (pub.len - 1) / 2;
				r = tg_key_from_ec(t, tg_span_make(pub.p + 1, fl), tg_span_make(pub.p + 1 + fl, fl), what,
						   &k->pub, d);
			}
		}
	} else if (oid_is(oid, TG_OID_ED25519)) {
		struct tg_span seed;
		gcry_ctx_t ec = NULL;
		gcry_mpi_t qm = NULL;
		unsigned int nbits = 0;
		const uint8_t *qp = NULL;
		if (!der(&pk, 0x04, &seed) || seed.len != 32 ||
		    gcry_sexp_build(&k->sexp, NULL, "(private-key(ecc(curve Ed25519)(flags eddsa)(d %b)))", 32, seed.p))
			r = tg_fail(d, TG_E_FORMAT, "%s: malformed Ed25519 private key", what);
		else if (gcry_mpi_ec_new(&ec, k->sexp, NULL) != 0 || !(qm = gcry_mpi_ec_get_mpi("q@eddsa", ec, 1)) ||
			 !(qp = gcry_mpi_get_opaque(qm, &nbits)) || nbits != 256)
			r = tg_fail(d, TG_E_CRYPTO, "%s: cannot derive the Ed25519 public key", what);
		else {
			/* SubjectPublicKeyInfo for id-Ed25519 (RFC 8410), validated
			 * by the same reader as every other key. */
			uint8_t spki[44] = { 0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00 };
			memcpy(spki + 12, qp, 32);
			r = tg_key_from_spki(tg_span_make(spki, sizeof(spki)), &k->pub, d);
		}
		gcry_mpi_release(qm);
		gcry_ctx_release(ec);
	} else {
		r = tg_fail(d, TG_E_UNSUPPORTED, "%s: private key algorithm not supported", what);
	}
	/* The public half must belong to the private half (RSA: n = pq and
	 * the exponents agree; EC: Q = dG), or the supplier would ship
	 * signatures no record verifies. */
	if (r == TG_OK && k->pub->type != TG_KEY_ED25519 && gcry_pk_testkey(k->sexp) != 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: the private key is inconsistent with its public key", what);
	if (r != TG_OK) {
		tg_privkey_free(k);
		return r;
	}
	*ret = k;
	return TG_OK;
}

/* Sign msg as `openssl dgst -sign` / `pkeyutl -rawin` would: RSA PKCS#1
 * v1.5, ECDSA DER, Ed25519 raw 64 bytes, SM2 DER over SM3(ZA || msg). */
enum tg_err tg_privkey_sign(const struct tg_privkey *k, struct tg_span msg, uint8_t **ret, size_t *ret_len,
			    struct tg_diag *d)
{
	gcry_sexp_t data = NULL, sig = NULL, rs = NULL, ss = NULL;
	uint8_t digest[TG_HASH_MAX_LEN], out[600];
	size_t olen = 0;
	enum tg_hash h = k->pub->type == TG_KEY_P384 || (k->pub->type == TG_KEY_RSA && k->pub->bits >= 3072) ?
			 TG_HASH_SHA384 : TG_HASH_SHA256;
	enum tg_err r = TG_OK;

	switch (k->pub->type) {
	case TG_KEY_RSA:
		tg_digest(h, msg.p, msg.len, digest);
		if (gcry_sexp_build(&data, NULL, "(data(flags pkcs1)(hash %s %b))", tg_hash_name(h),
				    (int)tg_hash_len(h), digest))
			r = TG_E_CRYPTO;
		break;
	case TG_KEY_P256:
	case TG_KEY_P384:
		tg_digest(h, msg.p, msg.len, digest);
		if (gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", (int)tg_hash_len(h), digest))
			r = TG_E_CRYPTO;
		break;
	case TG_KEY_SM2: {
		uint8_t za[32];
		struct tg_md *md = NULL;
		if (tg_sm2_za(k->pub, TG_SM2_DEFAULT_ID, za) != TG_OK || tg_md_new(TG_HASH_SM3, &md) != TG_OK) {
			r = TG_E_CRYPTO;
			break;
		}
		tg_md_write(md, za, 32);
		tg_md_write(md, msg.p, msg.len);
		tg_md_final(md, digest);
		tg_md_free(md);
		if (gcry_sexp_build(&data, NULL, "(data(flags sm2)(hash sm3 %b))", 32, digest))
			r = TG_E_CRYPTO;
		break;
	}
	case TG_KEY_ED25519:
		if (gcry_sexp_build(&data, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))", (int)msg.len, msg.p))
			r = TG_E_CRYPTO;
		break;
	default:
		r = TG_E_UNSUPPORTED;
	}
	if (r == TG_OK && gcry_pk_sign(&sig, data, k->sexp))
		r = TG_E_CRYPTO;
	if (r == TG_OK) {
		if (k->pub->type == TG_KEY_RSA) {
			gcry_sexp_t s = gcry_sexp_find_token(sig, "s", 0);
			size_t l = 0;
			const char *p = s ? gcry_sexp_nth_data(s, 1, &l) : NULL;
			size_t kl = (k->pub->bits + 7) / 8;
			if (!p || l > kl)
				r = TG_E_CRYPTO;
			else {
				memset(out, 0, kl - l);
				memcpy(out + kl - l, p, l);
				olen = kl;
			}
			gcry_sexp_release(s);
		} else {
			rs = gcry_sexp_find_token(sig, "r", 0);
			ss = gcry_sexp_find_token(sig, "s", 0);
			size_t rl = 0, sl = 0;
			const uint8_t *rp = rs ? (const uint8_t *)gcry_sexp_nth_data(rs, 1, &rl) : NULL;
			const uint8_t *sp = ss ? (const uint8_t *)gcry_sexp_nth_data(ss, 1, &sl) : NULL;
			if (!rp || !sp || rl > 64 || sl > 64) {
				r = TG_E_CRYPTO;
			} else if (k->pub->type == TG_KEY_ED25519) {
				if (rl > 32 || sl > 32)
					r = TG_E_CRYPTO;
				else {
					memset(out, 0, 64);
					memcpy(out + 32 - rl, rp, rl);
					memcpy(out + 64 - sl, sp, sl);
					olen = 64;
				}
			} else if (!(olen = tg_ecdsa_der_encode(rp, rl, sp, sl, out))) {
				r = TG_E_CRYPTO;
			}
		}
	}
	gcry_sexp_release(data);
	gcry_sexp_release(sig);
	gcry_sexp_release(rs);
	gcry_sexp_release(ss);
	if (r != TG_OK)
		return tg_fail(d, r, "signing failed");
	*ret = malloc(olen);
	if (!*ret)
		return TG_E_NOMEM;
	memcpy(*ret, out, olen);
	*ret_len = olen;
	return TG_OK;
}
