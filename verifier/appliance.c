/* The appliance's signing key (appliance.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gcrypt.h>

#include "appliance.h"
#include "../common/encoding.h"
#include "../common/file.h"

/* PKCS#8 (RFC 5958) DER for a new key.  Ed25519 (RFC 8410): the 32-byte
 * seed.  SM2: id-ecPublicKey with the SM2 curve, an ECPrivateKey carrying d
 * and the public point (the form `openssl genpkey -algorithm SM2` writes). */
static const uint8_t ed25519_prefix[] = { 0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
					  0x04, 0x22, 0x04, 0x20 };
static const uint8_t sm2_prefix[] = { 0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86,
				      0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55,
				      0x01, 0x82, 0x2d, 0x04, 0x6d, 0x30, 0x6b, 0x02, 0x01, 0x01, 0x04, 0x20 };
static const uint8_t sm2_mid[] = { 0xa1, 0x44, 0x03, 0x42, 0x00 };

static char *pem(const char *label, const uint8_t *der, size_t n)
{
	_cleanup_free_ char *b64 = tg_base64_encode(der, n);
	char *out = NULL;
	size_t len, o = 0;

	if (!b64)
		return NULL;
	len = strlen(b64);
	out = malloc(len + len / 64 + 100);
	if (!out)
		return NULL;
	o += (size_t)sprintf(out, "-----BEGIN %s-----\n", label);
	for (size_t i = 0; i < len; i += 64) {
		size_t k = len - i < 64 ? len - i : 64;
		memcpy(out + o, b64 + i, k);
		o += k;
		out[o++] = '\n';
	}
	sprintf(out + o, "-----END %s-----\n", label);
	return out;
}

/* A fresh SM2 key: d and Q = dG from libgcrypt. */
static enum tg_err sm2_generate(uint8_t der[138], struct tg_diag *d)
{
	gcry_sexp_t parms = NULL, key = NULL, qs = NULL, ds = NULL;
	size_t ql = 0, dl = 0;
	const uint8_t *qp, *dp;
	enum tg_err r = TG_OK;

	if (gcry_sexp_build(&parms, NULL, "(genkey(ecc(curve sm2p256v1)))") || gcry_pk_genkey(&key, parms))
		r = tg_fail(d, TG_E_CRYPTO, "SM2 key generation failed");
	if (r == TG_OK) {
		qs = gcry_sexp_find_token(key, "q", 0);
		ds = gcry_sexp_find_token(key, "d", 0);
		qp = qs ? (const uint8_t *)gcry_sexp_nth_data(qs, 1, &ql) : NULL;
		dp = ds ? (const uint8_t *)gcry_sexp_nth_data(ds, 1, &dl) : NULL;
		if (!qp || !dp || ql != 65 || qp[0] != 0x04 || dl > 33 || dl == 0) {
			r = tg_fail(d, TG_E_CRYPTO, "SM2 key generation gave an unexpected key");
		} else {
			/* d as exactly 32 bytes (an MPI may carry a sign byte or
			 * lose leading zeros) */
			uint8_t dd[32] = { 0 };
			if (dl == 33)
				memcpy(dd, dp + 1, 32);
			else
				memcpy(dd + 32 - dl, dp, dl);
			memcpy(der, sm2_prefix, sizeof(sm2_prefix));
			memcpy(der + sizeof(sm2_prefix), dd, 32);
			memcpy(der + sizeof(sm2_prefix) + 32, sm2_mid, sizeof(sm2_mid));
			memcpy(der + sizeof(sm2_prefix) + 32 + sizeof(sm2_mid), qp, 65);
			explicit_bzero(dd, sizeof(dd));
		}
	}
	gcry_sexp_release(qs);
	gcry_sexp_release(ds);
	gcry_sexp_release(key);
	gcry_sexp_release(parms);
	return r;
}

static char *key_path(struct tg_db *db)
{
	return tg_db_local_file(db, ".appliance.pem");
}

char *tg_appliance_pub_pem(const struct tg_privkey *k)
{
	return pem("PUBLIC KEY", k->pub->spki, k->pub->spki_len);
}

enum tg_err tg_appliance_key_init(struct tg_ctx *ctx, struct tg_db *db, bool gm, struct json_object **ret_info,
				  struct tg_diag *d)
{
	_cleanup_free_ char *path = key_path(db), *text = NULL, *old = NULL, *pubpem = NULL;
	struct tg_privkey *k = NULL;
	uint8_t der[138];
	size_t dl;
	enum tg_err r;

	if (!path)
		return TG_E_NOMEM;
	r = tg_db_meta_get(db, "appliance_key_fpr", &old, d);
	if (r != TG_OK)
		return r;
	if (old)
		return tg_fail(d, TG_E_EXISTS, "these records already have an appliance key (%.16s...); a new one would "
					       "orphan every VSA, EAR and export signed so far", old);
	if (gm) {
		r = sm2_generate(der, d);
		dl = 138;
	} else {
		memcpy(der, ed25519_prefix, sizeof(ed25519_prefix));
		gcry_randomize(der + sizeof(ed25519_prefix), 32, GCRY_VERY_STRONG_RANDOM);
		dl = sizeof(ed25519_prefix) + 32;
	}
	if (r == TG_OK && !(text = pem("PRIVATE KEY", der, dl)))
		r = TG_E_NOMEM;
	explicit_bzero(der, sizeof(der));
	/* What is written must read back as a key of ours. */
	if (r == TG_OK)
		r = tg_privkey_parse(tg_span_make((const uint8_t *)text, strlen(text)), "the new appliance key", &k, d);
	if (r == TG_OK && !(pubpem = tg_appliance_pub_pem(k)))
		r = TG_E_NOMEM;
	/* 0600: the private key is readable by this appliance's user only */
	if (r == TG_OK)
		r = tg_file_write_new(path, text, strlen(text), 0600, d);
	if (text)
		explicit_bzero(text, strlen(text));
	struct json_object *info = NULL;
	if (r == TG_OK) {
		info = json_object_new_object();
		tg_json_str(info, "fingerprint", k->pub->fingerprint);
		tg_json_str(info, "algorithm", gm ? "sm2" : "ed25519");
		tg_json_str(info, "private_key", path);
		tg_json_str(info, "public_key", pubpem);
		r = tg_db_begin(db, d);
		if (r == TG_OK)
			r = tg_db_meta_set(db, "appliance_key_fpr", k->pub->fingerprint, d);
		if (r == TG_OK)
			r = tg_db_meta_set(db, "appliance_key_pub", pubpem, d);
		if (r == TG_OK)
			r = tg_cli_audit_commit(ctx, db, "appliance.key", k->pub->fingerprint, info, d);
		if (r != TG_OK)
			unlink(path);
	}
	tg_privkey_free(k);
	if (r != TG_OK) {
		json_object_put(info);
		return r;
	}
	*ret_info = info;
	return TG_OK;
}

enum tg_err tg_appliance_key_load(struct tg_db *db, struct tg_privkey **ret, struct tg_diag *d)
{
	_cleanup_free_ char *path = key_path(db), *fpr = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0;
	enum tg_err r = tg_db_meta_get(db, "appliance_key_fpr", &fpr, d);

	if (r != TG_OK)
		return r;
	if (!fpr)
		return tg_fail(d, TG_E_NOTFOUND, "these records have no appliance key (run 'trustgate appliance-key init')");
	r = tg_file_read(path, 16384, &buf, &len, d);
	if (r == TG_OK)
		r = tg_privkey_parse(tg_span_make(buf, len), path, ret, d);
	if (buf)
		explicit_bzero(buf, len);
	/* The key file beside the records must be the one they recorded. */
	if (r == TG_OK && strcmp((*ret)->pub->fingerprint, fpr) != 0) {
		tg_privkey_free(*ret);
		*ret = NULL;
		r = tg_fail(d, TG_E_DB, "%s is not the appliance key these records recorded (%.16s...)", path, fpr);
	}
	return r;
}

enum tg_err tg_appliance_dsse(const struct tg_privkey *k, const char *payload_type, const char *payload,
			      char **ret, struct tg_diag *d)
{
	_cleanup_free_ char *pae = NULL, *b64p = NULL, *b64s = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	_cleanup_json_ struct json_object *env = json_object_new_object();
	struct json_object *sigs = json_object_new_array(), *s = json_object_new_object();
	size_t siglen = 0;
	int n = asprintf(&pae, "DSSEv1 %zu %s %zu %s", strlen(payload_type), payload_type, strlen(payload), payload);
	enum tg_err r;

	json_object_object_add(env, "payloadType", json_object_new_string(payload_type));
	json_object_object_add(env, "signatures", sigs);
	json_object_array_add(sigs, s);
	if (n < 0) {
		pae = NULL;
		return TG_E_NOMEM;
	}
	r = tg_privkey_sign(k, tg_span_make((const uint8_t *)pae, (size_t)n), &sig, &siglen, d);
	if (r != TG_OK)
		return r;
	b64p = tg_base64_encode((const uint8_t *)payload, strlen(payload));
	b64s = tg_base64_encode(sig, siglen);
	if (!b64p || !b64s)
		return TG_E_NOMEM;
	json_object_object_add(env, "payload", json_object_new_string(b64p));
	tg_json_str(s, "keyid", k->pub->fingerprint);
	tg_json_str(s, "sig", b64s);
	*ret = strdup(json_object_to_json_string_ext(env, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	return *ret ? TG_OK : TG_E_NOMEM;
}

/* base64url without padding (RFC 7515 §2). */
static char *b64url(const uint8_t *p, size_t n)
{
	char *s = tg_base64_encode(p, n);

	if (!s)
		return NULL;
	for (char *c = s; *c; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
		else if (*c == '=')
			*c = '\0';
	}
	return s;
}

enum tg_err tg_appliance_jwt(const struct tg_privkey *k, const char *claims, char **ret, struct tg_diag *d)
{
	const char *hdr = k->pub->type == TG_KEY_SM2 ? "{\"alg\":\"SM2SM3\",\"typ\":\"JWT\"}" :
						       "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}";
	_cleanup_free_ char *h = b64url((const uint8_t *)hdr, strlen(hdr));
	_cleanup_free_ char *c = b64url((const uint8_t *)claims, strlen(claims));
	_cleanup_free_ char *signing = NULL, *s64 = NULL;
	_cleanup_free_ uint8_t *sig = NULL;
	size_t siglen = 0;
	enum tg_err r;

	if (k->pub->type != TG_KEY_ED25519 && k->pub->type != TG_KEY_SM2)
		return tg_fail(d, TG_E_UNSUPPORTED, "the appliance key must be Ed25519 or SM2");
	if (!h || !c || asprintf(&signing, "%s.%s", h, c) < 0) {
		signing = NULL;
		return TG_E_NOMEM;
	}
	r = tg_privkey_sign(k, tg_span_make((const uint8_t *)signing, strlen(signing)), &sig, &siglen, d);
	if (r != TG_OK)
		return r;
	if (!(s64 = b64url(sig, siglen)) || asprintf(ret, "%s.%s", signing, s64) < 0)
		return TG_E_NOMEM;
	return TG_OK;
}

enum tg_err tg_appliance_verify(const struct tg_key *k, struct tg_span msg, struct tg_span sig, bool *ret_valid,
				struct tg_diag *d)
{
	uint8_t h[64];
	struct tg_md *md = NULL;
	enum tg_err r;

	*ret_valid = false;
	if (k->type == TG_KEY_ED25519) {
		r = tg_eddsa_hram_start(k, sig, &md);
		/* a signature of another shape (an SM2 one) does not verify */
		if (r != TG_OK)
			return r == TG_E_NOMEM || r == TG_E_CRYPTO ? r : TG_OK;
		tg_md_write(md, msg.p, msg.len);
		tg_md_final(md, h);
		tg_md_free(md);
		return tg_verify_eddsa(k, sig, h, ret_valid);
	}
	if (k->type == TG_KEY_SM2) {
		uint8_t za[32];
		if (tg_sm2_za(k, TG_SM2_DEFAULT_ID, za) != TG_OK || tg_md_new(TG_HASH_SM3, &md) != TG_OK)
			return TG_E_CRYPTO;
		tg_md_write(md, za, 32);
		tg_md_write(md, msg.p, msg.len);
		tg_md_final(md, h);
		tg_md_free(md);
		return tg_verify_digest(k, TG_HASH_SM3, h, sig, ret_valid, NULL);
	}
	return tg_fail(d, TG_E_UNSUPPORTED, "an appliance key is Ed25519 or SM2");
}

enum tg_err tg_appliance_pub_load(const char *path, struct tg_key **ret, struct tg_diag *d)
{
	_cleanup_free_ uint8_t *kb = NULL, *der = NULL;
	_cleanup_free_ char *label = NULL;
	size_t kl = 0, dl = 0;
	enum tg_err r = tg_file_read(path, 16384, &kb, &kl, d);

	if (r == TG_OK && (tg_pem_decode(tg_span_make(kb, kl), "PUBLIC KEY", &label, &der, &dl) != TG_OK ||
			   tg_key_from_spki(tg_span_make(der, dl), ret, d) != TG_OK))
		r = tg_fail(d, TG_E_FORMAT, "%s: not a PEM public key", path);
	return r;
}
