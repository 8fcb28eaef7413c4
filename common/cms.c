/* Detached CMS SignedData verification (see cms.h). */
#include <stdio.h>
#include <string.h>

#include <gcrypt.h>
#include <ksba.h>

#include "cms.h"

static enum tg_hash hash_of_oid(const char *oid)
{
	if (!oid)
		return TG_HASH_NONE;
	if (strcmp(oid, "2.16.840.1.101.3.4.2.1") == 0)
		return TG_HASH_SHA256;
	if (strcmp(oid, "2.16.840.1.101.3.4.2.2") == 0)
		return TG_HASH_SHA384;
	if (strcmp(oid, "2.16.840.1.101.3.4.2.3") == 0)
		return TG_HASH_SHA512;
	if (strcmp(oid, "1.3.14.3.2.26") == 0)
		return TG_HASH_SHA1;
	return TG_HASH_NONE;
}

static void md_write_cb(void *arg, const void *p, size_t n)
{
	tg_md_write(arg, p, n);
}

/* The raw signature for our verifier from libksba's sig-val S-expression:
 * RSA s left-padded to the modulus, ECDSA as DER SEQUENCE { r, s }. */
static bool sigval_bytes(ksba_const_sexp_t sv, uint8_t *out, size_t cap, size_t *out_len, bool *ecdsa)
{
	gcry_sexp_t sx = NULL, t = NULL, r = NULL, s = NULL;
	size_t len = gcry_sexp_canon_len(sv, 0, NULL, NULL), rl = 0, sl = 0;
	const char *rp, *sp;
	bool ok = false;

	if (!len || gcry_sexp_new(&sx, sv, len, 0))
		return false;
	if ((t = gcry_sexp_find_token(sx, "rsa", 0))) {
		*ecdsa = false;
		if ((s = gcry_sexp_find_token(t, "s", 0)) && (sp = gcry_sexp_nth_data(s, 1, &sl)) && sl && sl <= cap) {
			memcpy(out, sp, sl);
			*out_len = sl;
			ok = true;
		}
	} else if ((t = gcry_sexp_find_token(sx, "ecdsa", 0))) {
		*ecdsa = true;
		if ((r = gcry_sexp_find_token(t, "r", 0)) && (s = gcry_sexp_find_token(t, "s", 0)) &&
		    (rp = gcry_sexp_nth_data(r, 1, &rl)) && (sp = gcry_sexp_nth_data(s, 1, &sl)) && rl <= 66 &&
		    sl <= 66 && cap >= 2 * (rl + sl) + 8) {
			*out_len = tg_ecdsa_der_encode((const uint8_t *)rp, rl, (const uint8_t *)sp, sl, out);
			ok = *out_len != 0;
		}
	}
	gcry_sexp_release(r);
	gcry_sexp_release(s);
	gcry_sexp_release(t);
	gcry_sexp_release(sx);
	return ok;
}

enum tg_err tg_cms_verify_detached(struct tg_span der, const struct tg_span *parts, size_t nparts,
				   struct tg_key *const *keys, size_t nkeys, struct tg_cms_result *res)
{
	ksba_cms_t cms = NULL;
	ksba_reader_t rd = NULL;
	ksba_stop_reason_t why = KSBA_SR_NONE;
	ksba_sexp_t sv = NULL;
	char *issuer = NULL, *mdg = NULL;
	ksba_sexp_t serial = NULL;
	size_t mdg_len = 0;
	struct tg_md *md = NULL;
	uint8_t content_digest[TG_HASH_MAX_LEN], tbs[TG_HASH_MAX_LEN], sig[1024];
	size_t sig_len = 0;
	bool ecdsa = false;
	gpg_error_t err;
	enum tg_err r = TG_OK;

	memset(res, 0, sizeof(*res));
	if (ksba_cms_new(&cms) || ksba_reader_new(&rd) || ksba_reader_set_mem(rd, der.p, der.len) ||
	    ksba_cms_set_reader_writer(cms, rd, NULL)) {
		r = TG_E_NOMEM;
		goto out;
	}
	do {
		err = ksba_cms_parse(cms, &why);
		if (err) {
			res->malformed = true;
			snprintf(res->why, sizeof(res->why), "PKCS#7 SignedData does not parse: %s", gpg_strerror(err));
			goto out;
		}
		/* Embedded content would be a second thing signed: the content
		 * here is detached, always. */
		if (why == KSBA_SR_BEGIN_DATA) {
			res->malformed = true;
			snprintf(res->why, sizeof(res->why), "PKCS#7 SignedData carries content; a detached signature was expected");
			goto out;
		}
	} while (why != KSBA_SR_READY);
	if (ksba_cms_get_content_type(cms, 0) != KSBA_CT_SIGNED_DATA || ksba_cms_get_content_type(cms, 1) != KSBA_CT_DATA) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "not a PKCS#7 SignedData over data");
		goto out;
	}
	/* Exactly one signer: a second one could be anybody's. */
	if (ksba_cms_get_issuer_serial(cms, 0, &issuer, &serial) ||
	    ksba_cms_get_issuer_serial(cms, 1, NULL, NULL) != (gpg_error_t)-1) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "PKCS#7 SignedData must have exactly one signer");
		goto out;
	}
	res->hash = hash_of_oid(ksba_cms_get_digest_algo(cms, 0));
	if (res->hash == TG_HASH_NONE) {
		snprintf(res->why, sizeof(res->why), "unsupported digest algorithm %s", ksba_cms_get_digest_algo(cms, 0) ?
			 ksba_cms_get_digest_algo(cms, 0) : "(none)");
		goto out;
	}
	if ((r = tg_md_new(res->hash, &md)) != TG_OK)
		goto out;
	for (size_t i = 0; i < nparts; i++)
		tg_md_write(md, parts[i].p, parts[i].len);
	tg_md_final(md, content_digest);
	tg_md_free(md);
	md = NULL;
	err = ksba_cms_get_message_digest(cms, 0, &mdg, &mdg_len);
	if (err == 0) {
		/* Signed attributes: their messageDigest must be the content's,
		 * and the signature covers the attributes. */
		res->signed_attrs = true;
		if (mdg_len != tg_hash_len(res->hash) || memcmp(mdg, content_digest, mdg_len) != 0) {
			snprintf(res->why, sizeof(res->why), "messageDigest does not match the signed content");
			goto out;
		}
		if ((r = tg_md_new(res->hash, &md)) != TG_OK)
			goto out;
		ksba_cms_set_hash_function(cms, md_write_cb, md);
		if (ksba_cms_hash_signed_attrs(cms, 0)) {
			res->malformed = true;
			snprintf(res->why, sizeof(res->why), "signed attributes unreadable");
			goto out;
		}
		tg_md_final(md, tbs);
	} else if (gpg_err_code(err) == GPG_ERR_NO_DATA) {
		memcpy(tbs, content_digest, tg_hash_len(res->hash));
	} else {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "signed attributes malformed: %s", gpg_strerror(err));
		goto out;
	}
	sv = ksba_cms_get_sig_val(cms, 0);
	if (!sv || !sigval_bytes(sv, sig, sizeof(sig), &sig_len, &ecdsa)) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "signature value unreadable");
		goto out;
	}
	for (size_t k = 0; k < nkeys && !res->ok; k++) {
		uint8_t padded[1024];
		struct tg_span s = tg_span_make(sig, sig_len);
		bool ok = false;
		enum tg_sig_scheme scheme = TG_SCHEME_NONE;
		if (ecdsa != (keys[k]->type == TG_KEY_P256 || keys[k]->type == TG_KEY_P384))
			continue;
		if (keys[k]->type == TG_KEY_RSA) {
			if (sig_len > keys[k]->n_len)
				continue;
			memset(padded, 0, keys[k]->n_len - sig_len);
			memcpy(padded + keys[k]->n_len - sig_len, sig, sig_len);
			s = tg_span_make(padded, keys[k]->n_len);
		}
		r = tg_verify_digest(keys[k], res->hash, tbs, s, &ok, &scheme);
		if (r != TG_OK)
			goto out;
		/* CMS rsaEncryption is PKCS#1 v1.5. */
		if (ok && (scheme == TG_SCHEME_RSA_PKCS1 || scheme == TG_SCHEME_ECDSA)) {
			res->ok = true;
			res->signer = k;
			res->scheme = scheme;
		}
	}
	if (!res->ok)
		snprintf(res->why, sizeof(res->why), "the PKCS#7 signature verifies with no key in the records");
out:
	tg_md_free(md);
	ksba_free(sv);
	ksba_free(issuer);
	ksba_free(serial);
	ksba_free(mdg);
	ksba_cms_release(cms);
	ksba_reader_release(rd);
	return r;
}
