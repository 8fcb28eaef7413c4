/* Detached CMS SignedData verification (see cms.h). */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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

/* libksba prints some BER decoding errors on stderr itself ("ksba:
 * ERROR: ..."): while it parses untrusted bytes, stderr goes to /dev/null,
 * so trustgate's own one-line diagnostic stays the only output. */
static int quiet_begin(void)
{
	int saved = dup(2), dn = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (saved >= 0 && dn >= 0)
		dup2(dn, 2);
	if (dn >= 0)
		close(dn);
	return saved;
}

static void quiet_end(int saved)
{
	if (saved >= 0) {
		dup2(saved, 2);
		close(saved);
	}
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

static enum tg_hash hash_of_sigalg(const char *oid)
{
	static const struct {
		const char *oid;
		enum tg_hash h;
	} t[] = {
		{ "1.2.840.113549.1.1.5", TG_HASH_SHA1 },    { "1.2.840.113549.1.1.11", TG_HASH_SHA256 },
		{ "1.2.840.113549.1.1.12", TG_HASH_SHA384 }, { "1.2.840.113549.1.1.13", TG_HASH_SHA512 },
		{ "1.2.840.10045.4.3.2", TG_HASH_SHA256 },   { "1.2.840.10045.4.3.3", TG_HASH_SHA384 },
	};
	for (size_t i = 0; oid && i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(oid, t[i].oid) == 0)
			return t[i].h;
	return TG_HASH_NONE;
}

/* Verify sig-val sv over digest (of hash h) with key k. */
static enum tg_err verify_sigval(const struct tg_key *k, enum tg_hash h, const uint8_t *digest, ksba_const_sexp_t sv,
				 bool *ok)
{
	uint8_t sig[1024], padded[1024];
	size_t sl = 0;
	bool ecdsa = false;
	enum tg_sig_scheme scheme = TG_SCHEME_NONE;
	struct tg_span s;
	enum tg_err r;

	*ok = false;
	if (!sv || !sigval_bytes(sv, sig, sizeof(sig), &sl, &ecdsa) ||
	    ecdsa != (k->type == TG_KEY_P256 || k->type == TG_KEY_P384))
		return TG_OK;
	s = tg_span_make(sig, sl);
	if (k->type == TG_KEY_RSA) {
		if (sl > k->n_len)
			return TG_OK;
		memset(padded, 0, k->n_len - sl);
		memcpy(padded + k->n_len - sl, sig, sl);
		s = tg_span_make(padded, k->n_len);
	}
	r = tg_verify_digest(k, h, digest, s, ok, &scheme);
	if (r == TG_OK && *ok && scheme != TG_SCHEME_RSA_PKCS1 && scheme != TG_SCHEME_ECDSA)
		*ok = false;
	return r;
}

/* Did issuer's key sign cert?  (TBSCertificate hashed by libksba.) */
static enum tg_err cert_signed_by(ksba_cert_t cert, const struct tg_key *issuer, bool *ok)
{
	enum tg_hash h = hash_of_sigalg(ksba_cert_get_digest_algo(cert));
	uint8_t dg[TG_HASH_MAX_LEN];
	struct tg_md *md = NULL;
	ksba_sexp_t sv;
	enum tg_err r;

	*ok = false;
	if (h == TG_HASH_NONE || h == TG_HASH_SHA1)
		return TG_OK;
	if ((r = tg_md_new(h, &md)) != TG_OK)
		return r;
	if (ksba_cert_hash(cert, 1, md_write_cb, md)) {
		tg_md_free(md);
		return TG_OK;
	}
	tg_md_final(md, dg);
	tg_md_free(md);
	sv = ksba_cert_get_sig_val(cert);
	r = verify_sigval(issuer, h, dg, sv, ok);
	ksba_free(sv);
	return r;
}

static struct tg_key *cert_key(ksba_cert_t c)
{
	struct tg_diag d = { { 0 } };
	struct tg_key *k = NULL;
	size_t len = 0;
	const unsigned char *img = ksba_cert_get_image(c, &len);

	if (!img || tg_key_parse(tg_span_make(img, len), "certificate", &k, &d) != TG_OK)
		return NULL;
	return k;
}

static bool same_serial(ksba_const_sexp_t a, ksba_const_sexp_t b)
{
	size_t la = a ? gcry_sexp_canon_len(a, 0, NULL, NULL) : 0, lb = b ? gcry_sexp_canon_len(b, 0, NULL, NULL) : 0;
	return la && la == lb && memcmp(a, b, la) == 0;
}

static void noop_hash(void *arg, const void *p, size_t n)
{
	(void)arg, (void)p, (void)n;
}

/* The digest a signature over signed attributes covers (libksba
 * re-encodes them as the SET OF the signer hashed).  *ok false when they
 * cannot be read. */
static enum tg_err signed_attrs_digest(ksba_cms_t cms, enum tg_hash h, uint8_t *tbs, bool *ok)
{
	struct tg_md *md = NULL;
	enum tg_err r = tg_md_new(h, &md);

	*ok = false;
	if (r != TG_OK)
		return r;
	ksba_cms_set_hash_function(cms, md_write_cb, md);
	*ok = ksba_cms_hash_signed_attrs(cms, 0) == 0;
	tg_md_final(md, tbs);
	tg_md_free(md);
	return TG_OK;
}

struct cms_ctx {
	ksba_cms_t cms;
	ksba_reader_t rd;
	ksba_writer_t wr;
};

static void cms_ctx_release(struct cms_ctx *c)
{
	ksba_cms_release(c->cms);
	ksba_reader_release(c->rd);
	ksba_writer_release(c->wr);
}

/* Parse der as CMS with libksba.  An embedded content goes to a memory
 * writer when `embedded`, and is refused otherwise (a detached signature
 * is expected).  TG_OK; TG_E_FORMAT with why; TG_E_NOMEM. */
static enum tg_err cms_load(struct tg_span der, bool embedded, struct cms_ctx *c, char *why, size_t n)
{
	ksba_stop_reason_t sr = KSBA_SR_NONE;
	gpg_error_t err;

	memset(c, 0, sizeof(*c));
	if (ksba_cms_new(&c->cms) || ksba_reader_new(&c->rd) || ksba_reader_set_mem(c->rd, der.p, der.len) ||
	    (embedded && (ksba_writer_new(&c->wr) || ksba_writer_set_mem(c->wr, 0))) ||
	    ksba_cms_set_reader_writer(c->cms, c->rd, c->wr))
		return TG_E_NOMEM;
	do {
		int q = quiet_begin();
		err = ksba_cms_parse(c->cms, &sr);
		quiet_end(q);
		if (err) {
			snprintf(why, n, "PKCS#7 SignedData does not parse: %s", gpg_strerror(err));
			return TG_E_FORMAT;
		}
		/* Embedded content where a detached signature belongs would be
		 * a second thing signed. */
		if (sr == KSBA_SR_BEGIN_DATA && !embedded) {
			snprintf(why, n, "PKCS#7 SignedData carries content; a detached signature was expected");
			return TG_E_FORMAT;
		}
		if (sr == KSBA_SR_BEGIN_DATA || sr == KSBA_SR_NEED_HASH)
			ksba_cms_set_hash_function(c->cms, noop_hash, NULL);
	} while (sr != KSBA_SR_READY);
	return TG_OK;
}

enum tg_err tg_cms_verify_detached(struct tg_span der, const struct tg_span *parts, size_t nparts,
				   struct tg_key *const *keys, size_t nkeys, struct tg_cms_result *res)
{
	struct cms_ctx c;
	ksba_sexp_t sv = NULL, serial = NULL;
	char *issuer = NULL, *mdg = NULL;
	size_t mdg_len = 0;
	struct tg_md *md = NULL;
	uint8_t content_digest[TG_HASH_MAX_LEN], tbs[TG_HASH_MAX_LEN];
	gpg_error_t err;
	enum tg_err r;

	memset(res, 0, sizeof(*res));
	r = cms_load(der, false, &c, res->why, sizeof(res->why));
	if (r == TG_E_FORMAT) {
		res->malformed = true;
		r = TG_OK;
		goto out;
	}
	if (r != TG_OK)
		goto out;
	if (ksba_cms_get_content_type(c.cms, 0) != KSBA_CT_SIGNED_DATA || ksba_cms_get_content_type(c.cms, 1) != KSBA_CT_DATA) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "not a PKCS#7 SignedData over data");
		goto out;
	}
	/* Exactly one signer: a second one could be anybody's. */
	if (ksba_cms_get_issuer_serial(c.cms, 0, &issuer, &serial) ||
	    ksba_cms_get_issuer_serial(c.cms, 1, NULL, NULL) != (gpg_error_t)-1) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "PKCS#7 SignedData must have exactly one signer");
		goto out;
	}
	res->hash = hash_of_oid(ksba_cms_get_digest_algo(c.cms, 0));
	if (res->hash == TG_HASH_NONE) {
		snprintf(res->why, sizeof(res->why), "unsupported digest algorithm %s",
			 ksba_cms_get_digest_algo(c.cms, 0) ? ksba_cms_get_digest_algo(c.cms, 0) : "(none)");
		goto out;
	}
	if ((r = tg_md_new(res->hash, &md)) != TG_OK)
		goto out;
	for (size_t i = 0; i < nparts; i++)
		tg_md_write(md, parts[i].p, parts[i].len);
	tg_md_final(md, content_digest);
	tg_md_free(md);
	md = NULL;
	err = ksba_cms_get_message_digest(c.cms, 0, &mdg, &mdg_len);
	if (err == 0) {
		/* Signed attributes: their messageDigest must be the content's,
		 * and the signature covers the attributes. */
		res->signed_attrs = true;
		if (mdg_len != tg_hash_len(res->hash) || memcmp(mdg, content_digest, mdg_len) != 0) {
			snprintf(res->why, sizeof(res->why), "messageDigest does not match the signed content");
			goto out;
		}
		bool ok = false;
		if ((r = signed_attrs_digest(c.cms, res->hash, tbs, &ok)) != TG_OK)
			goto out;
		if (!ok) {
			res->malformed = true;
			snprintf(res->why, sizeof(res->why), "signed attributes unreadable");
			goto out;
		}
	} else if (gpg_err_code(err) == GPG_ERR_NO_DATA) {
		memcpy(tbs, content_digest, tg_hash_len(res->hash));
	} else {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "signed attributes malformed: %s", gpg_strerror(err));
		goto out;
	}
	sv = ksba_cms_get_sig_val(c.cms, 0);
	if (!sv) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "signature value unreadable");
		goto out;
	}
	for (size_t k = 0; k < nkeys && !res->ok; k++) {
		bool ok = false;
		if ((r = verify_sigval(keys[k], res->hash, tbs, sv, &ok)) != TG_OK)
			goto out;
		if (ok) {
			res->ok = true;
			res->signer = k;
			res->scheme = keys[k]->type == TG_KEY_RSA ? TG_SCHEME_RSA_PKCS1 : TG_SCHEME_ECDSA;
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
	cms_ctx_release(&c);
	return r;
}

/* ------------------------------------------------------------ Authenticode */

/* SpcIndirectDataContent as libksba delivers it (the content octets):
 * SpcAttributeTypeAndOptionalValue naming SPC_PE_IMAGE_DATA, then the
 * DigestInfo of the image.  Matched against the fixed DER encodings, as
 * PKCS#1 DigestInfo is: nothing else may be there. */
static bool spc_digest(const uint8_t *c, size_t n, enum tg_hash *h, uint8_t *out)
{
	static const uint8_t pe_oid[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x01, 0x0f };
	static const struct {
		enum tg_hash h;
		uint8_t len;
		uint8_t p[19];
	} di[] = {
		{ TG_HASH_SHA256, 19, { 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					0x01, 0x05, 0x00, 0x04, 0x20 } },
		{ TG_HASH_SHA256, 17, { 0x30, 0x2f, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					0x01, 0x04, 0x20 } },
		{ TG_HASH_SHA384, 19, { 0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
					0x02, 0x05, 0x00, 0x04, 0x30 } },
		{ TG_HASH_SHA1, 15, { 0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
				      0x14 } },
	};
	size_t hdr, l1;

	if (n < 4 || c[0] != 0x30)
		return false;
	if (c[1] < 0x80)
		hdr = 2, l1 = c[1];
	else if (c[1] == 0x81)
		hdr = 3, l1 = c[2];
	else if (c[1] == 0x82)
		hdr = 4, l1 = (size_t)c[2] << 8 | c[3];
	else
		return false;
	if (hdr + l1 > n || l1 < sizeof(pe_oid) || memcmp(c + hdr, pe_oid, sizeof(pe_oid)) != 0)
		return false;
	const uint8_t *t = c + hdr + l1;
	size_t tl = n - hdr - l1;
	for (size_t i = 0; i < sizeof(di) / sizeof(di[0]); i++)
		if (tl == di[i].len + tg_hash_len(di[i].h) && memcmp(t, di[i].p, di[i].len) == 0) {
			*h = di[i].h;
			memcpy(out, t + di[i].len, tg_hash_len(di[i].h));
			return true;
		}
	return false;
}

enum tg_err tg_cms_authenticode_verify(struct tg_span der, struct tg_key *const *anchors, size_t nanchors,
				       struct tg_cms_authenticode *res)
{
	struct cms_ctx cc;
	ksba_sexp_t sv = NULL, serial = NULL;
	ksba_cert_t signer = NULL, cur = NULL;
	char *issuer = NULL, *mdg = NULL;
	size_t mdg_len = 0, clen = 0;
	const unsigned char *content;
	struct tg_md *md = NULL;
	struct tg_key *skey = NULL;
	uint8_t cd[TG_HASH_MAX_LEN], tbs[TG_HASH_MAX_LEN];
	bool ok = false;
	enum tg_err r = TG_OK;

	memset(res, 0, sizeof(*res));
	r = cms_load(der, true, &cc, res->why, sizeof(res->why));
	if (r == TG_E_FORMAT) {
		res->malformed = true;
		r = TG_OK;
		goto out;
	}
	if (r != TG_OK)
		goto out;
	const char *inner = ksba_cms_get_content_oid(cc.cms, 1);
	if (ksba_cms_get_content_type(cc.cms, 0) != KSBA_CT_SIGNED_DATA || !inner ||
	    strcmp(inner, "1.3.6.1.4.1.311.2.1.4") != 0) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "not an Authenticode SignedData (SpcIndirectDataContent)");
		goto out;
	}
	content = ksba_writer_snatch_mem(cc.wr, &clen);
	if (!content || !spc_digest(content, clen, &res->image_hash, res->image_digest)) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "SpcIndirectDataContent is not a PE image digest");
		ksba_free((void *)content);
		goto out;
	}
	if (ksba_cms_get_issuer_serial(cc.cms, 0, &issuer, &serial) ||
	    ksba_cms_get_issuer_serial(cc.cms, 1, NULL, NULL) != (gpg_error_t)-1) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "Authenticode SignedData must have exactly one signer");
		ksba_free((void *)content);
		goto out;
	}
	res->hash = hash_of_oid(ksba_cms_get_digest_algo(cc.cms, 0));
	if (res->hash == TG_HASH_NONE || (r = tg_md_new(res->hash, &md)) != TG_OK) {
		snprintf(res->why, sizeof(res->why), "unsupported digest algorithm");
		ksba_free((void *)content);
		goto out;
	}
	tg_md_write(md, content, clen);
	tg_md_final(md, cd);
	tg_md_free(md);
	md = NULL;
	ksba_free((void *)content);
	/* Authenticode signs the attributes, whose messageDigest is the
	 * content's. */
	if (ksba_cms_get_message_digest(cc.cms, 0, &mdg, &mdg_len) || mdg_len != tg_hash_len(res->hash) ||
	    memcmp(mdg, cd, mdg_len) != 0) {
		snprintf(res->why, sizeof(res->why), "messageDigest missing or not the signed content's");
		goto out;
	}
	if ((r = signed_attrs_digest(cc.cms, res->hash, tbs, &ok)) != TG_OK)
		goto out;
	if (!ok) {
		res->malformed = true;
		snprintf(res->why, sizeof(res->why), "signed attributes unreadable");
		goto out;
	}
	/* The signer's certificate, by issuer and serial, from the SignedData. */
	for (int i = 0; !signer; i++) {
		ksba_cert_t c = ksba_cms_get_cert(cc.cms, i);
		if (!c)
			break;
		char *ci = ksba_cert_get_issuer(c, 0);
		ksba_sexp_t cs = ksba_cert_get_serial(c);
		if (ci && strcmp(ci, issuer) == 0 && same_serial(cs, serial))
			signer = c;
		else
			ksba_cert_release(c);
		ksba_free(ci);
		ksba_free(cs);
	}
	if (!signer || !(skey = cert_key(signer))) {
		snprintf(res->why, sizeof(res->why), "the signer's certificate is missing or its key is refused");
		goto out;
	}
	char *subj = ksba_cert_get_subject(signer, 0);
	snprintf(res->signer_subject, sizeof(res->signer_subject), "%s", subj ? subj : "");
	ksba_free(subj);
	sv = ksba_cms_get_sig_val(cc.cms, 0);
	if ((r = verify_sigval(skey, res->hash, tbs, sv, &ok)) != TG_OK)
		goto out;
	if (!ok) {
		snprintf(res->why, sizeof(res->why), "the Authenticode signature does not verify with its signer's certificate");
		goto out;
	}
	/* The chain: the signer is an anchor, or anchors issued it, maybe
	 * through certificates carried in the SignedData (depth 4). */
	cur = signer;
	signer = NULL;
	for (int depth = 0; depth < 5 && !res->ok; depth++) {
		struct tg_key *ck = cert_key(cur);
		for (size_t a = 0; ck && a < nanchors && !res->ok; a++)
			if (strcmp(ck->fingerprint, anchors[a]->fingerprint) == 0)
				res->ok = true, res->signer = a;
		tg_key_free(ck);
		for (size_t a = 0; a < nanchors && !res->ok; a++) {
			if ((r = cert_signed_by(cur, anchors[a], &ok)) != TG_OK)
				goto out;
			if (ok)
				res->ok = true, res->signer = a;
		}
		if (res->ok)
			break;
		/* Up one level, through a CA certificate of the SignedData. */
		char *ci = ksba_cert_get_issuer(cur, 0);
		ksba_cert_t next = NULL;
		for (int i = 0; ci && !next; i++) {
			ksba_cert_t c = ksba_cms_get_cert(cc.cms, i);
			if (!c)
				break;
			char *cs = ksba_cert_get_subject(c, 0);
			int is_ca = 0;
			struct tg_key *ik = NULL;
			if (cs && strcmp(cs, ci) == 0 && c != cur && !ksba_cert_is_ca(c, &is_ca, NULL) && is_ca &&
			    (ik = cert_key(c))) {
				if ((r = cert_signed_by(cur, ik, &ok)) == TG_OK && ok)
					next = c;
			}
			tg_key_free(ik);
			ksba_free(cs);
			if (next != c)
				ksba_cert_release(c);
			if (r != TG_OK) {
				ksba_free(ci);
				goto out;
			}
		}
		ksba_free(ci);
		if (!next)
			break;
		ksba_cert_release(cur);
		cur = next;
	}
	if (!res->ok)
		snprintf(res->why, sizeof(res->why), "signed by \"%s\", whose certificate chains to no key in the records",
			 res->signer_subject);
out:
	tg_md_free(md);
	tg_key_free(skey);
	ksba_cert_release(signer);
	ksba_cert_release(cur);
	ksba_free(sv);
	ksba_free(issuer);
	ksba_free(serial);
	ksba_free(mdg);
	cms_ctx_release(&cc);
	return r;
}

enum tg_err tg_cert_signed_by_key(struct tg_span cert_der, const struct tg_key *issuer, bool *ok)
{
	ksba_cert_t c = NULL;
	enum tg_err r = TG_OK;

	*ok = false;
	if (ksba_cert_new(&c))
		return TG_E_NOMEM;
	if (ksba_cert_init_from_mem(c, cert_der.p, cert_der.len) == 0)
		r = cert_signed_by(c, issuer, ok);
	ksba_cert_release(c);
	return r;
}
