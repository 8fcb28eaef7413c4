/* DSSE envelopes with in-toto statements: parsing and verification. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "archive.h"
#include "cli.h"
#include "dsse.h"
#include "../common/crypto.h"
#include "../common/encoding.h"

void tg_envelope_release(struct tg_envelope *e)
{
	free(e->pae);
	for (size_t i = 0; i < e->st.n; i++) {
		free(e->st.s[i].name);
		free(e->st.s[i].link);
	}
	free(e->st.s);
	free(e->st.supplier);
	free(e->st.product);
	free(e->st.version);
	for (size_t i = 0; i < e->nsig; i++)
		free(e->sig[i]);
	memset(e, 0, sizeof(*e));
}

/* A JSON document that is exactly one object and nothing else. */
static struct json_object *parse_one(const char *text, size_t len)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;

	if (!tok)
		return NULL;
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o && (json_tokener_get_error(tok) != json_tokener_success || (size_t)tok->char_offset != len ||
		  !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool hex64(const char *s)
{
	if (!s || strlen(s) != 64)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
			return false;
	return true;
}

/* A link subject's annotations: exactly the two keys, a known type, a
 * target without control bytes (a hard link's must be a normalised path),
 * and digests that are the target's, so the signed bytes say what the
 * link is and nothing can ride along unsigned. */
static const char *link_annotations(struct json_object *an, struct tg_subject *s)
{
	const char *type = get_str(an, TG_ANNOT_LINK), *target = get_str(an, TG_ANNOT_TARGET);
	uint8_t dg[TG_HASH_MAX_LEN];
	char hex[2 * TG_HASH_MAX_LEN + 1], norm[4096];

	if (!json_object_is_type(an, json_type_object) || json_object_object_length(an) != 2 || !type || !target)
		return "annotations must be exactly trustgate.link and trustgate.target";
	if (strcmp(type, "symlink") != 0 && strcmp(type, "hardlink") != 0)
		return "trustgate.link is neither symlink nor hardlink";
	struct json_object *t = NULL;
	json_object_object_get_ex(an, TG_ANNOT_TARGET, &t);
	if (!tg_cli_text_ok(target, sizeof(norm) - 1) || (size_t)json_object_get_string_len(t) != strlen(target))
		return "link target empty, too long or with control characters";
	if (strcmp(type, "hardlink") == 0 &&
	    (tg_archive_normalize(target, norm, sizeof(norm)) || strcmp(norm, target) != 0))
		return "hard link target is not a normalised member path";
	tg_digest(TG_HASH_SHA256, target, strlen(target), dg);
	tg_hex_encode(dg, 32, hex);
	if (strcmp(hex, s->sha256) != 0)
		return "sha256 is not the digest of the link target";
	if (s->sm3[0]) {
		tg_digest(TG_HASH_SM3, target, strlen(target), dg);
		tg_hex_encode(dg, 32, hex);
		if (strcmp(hex, s->sm3) != 0)
			return "sm3 is not the digest of the link target";
	}
	snprintf(s->link_type, sizeof(s->link_type), "%s", type);
	return (s->link = strdup(target)) ? NULL : "out of memory";
}

static int name_casecmp(const void *a, const void *b)
{
	return strcasecmp(*(const char *const *)a, *(const char *const *)b);
}

static enum tg_err statement_parse(const uint8_t *p, size_t len, const char *what, struct tg_statement *st,
				   struct tg_diag *d)
{
	_cleanup_free_ char *text = strndup((const char *)p, len);
	struct json_object *o = text ? parse_one(text, len) : NULL, *subj, *pred;
	enum tg_err r = TG_OK;
	char norm[4096];

	if (!o)
		return tg_fail(d, TG_E_FORMAT, "%s: statement is not one JSON object", what);
	if (!get_str(o, "_type") || strcmp(get_str(o, "_type"), TG_INTOTO_STATEMENT) != 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: statement _type is not %s", what, TG_INTOTO_STATEMENT);
	else if (!get_str(o, "predicateType") || strcmp(get_str(o, "predicateType"), TG_PACKAGE_PREDICATE) != 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: predicateType is not %s", what, TG_PACKAGE_PREDICATE);
	else if (!json_object_object_get_ex(o, "subject", &subj) || !json_object_is_type(subj, json_type_array) ||
		 json_object_array_length(subj) == 0 || json_object_array_length(subj) > TG_MAX_ARCHIVE_ENTRIES)
		r = tg_fail(d, TG_E_FORMAT, "%s: statement subject is not a list of members", what);
	else if (!json_object_object_get_ex(o, "predicate", &pred) || !json_object_is_type(pred, json_type_object) ||
		 !get_str(pred, "supplier") || !get_str(pred, "product") || !get_str(pred, "version"))
		r = tg_fail(d, TG_E_FORMAT, "%s: predicate must name supplier, product and version", what);
	if (r != TG_OK) {
		json_object_put(o);
		return r;
	}
	size_t n = json_object_array_length(subj);
	st->s = tg_calloc(n, sizeof(*st->s));
	st->supplier = strdup(get_str(pred, "supplier"));
	st->product = strdup(get_str(pred, "product"));
	st->version = strdup(get_str(pred, "version"));
	if (!st->s || !st->supplier || !st->product || !st->version) {
		json_object_put(o);
		return TG_E_NOMEM;
	}
	for (size_t i = 0; i < n && r == TG_OK; i++) {
		struct json_object *e = json_object_array_get_idx(subj, i), *dg;
		const char *name = json_object_is_type(e, json_type_object) ? get_str(e, "name") : NULL;
		const char *problem = name ? tg_archive_normalize(name, norm, sizeof(norm)) : "no name";
		if (problem) {
			r = tg_fail(d, TG_E_FORMAT, "%s: subject %zu: %s", what, i, problem);
			break;
		}
		if (!json_object_object_get_ex(e, "digest", &dg) || !json_object_is_type(dg, json_type_object) ||
		    !hex64(get_str(dg, "sha256")) || (get_str(dg, "sm3") && !hex64(get_str(dg, "sm3")))) {
			r = tg_fail(d, TG_E_FORMAT, "%s: subject %s: digest needs a lowercase sha256 (and optional sm3)",
				    what, name);
			break;
		}
		st->s[i].name = strdup(norm);
		if (!st->s[i].name) {
			r = TG_E_NOMEM;
			break;
		}
		memcpy(st->s[i].sha256, get_str(dg, "sha256"), 65);
		if (get_str(dg, "sm3"))
			memcpy(st->s[i].sm3, get_str(dg, "sm3"), 65);
		st->n++;
		struct json_object *an;
		const char *why;
		if (json_object_object_get_ex(e, "annotations", &an) && (why = link_annotations(an, &st->s[i]))) {
			r = tg_fail(d, TG_E_FORMAT, "%s: subject %s: %s", what, name, why);
			break;
		}
	}
	json_object_put(o);
	/* One name, one digest (THREATS case 6), case folded like members. */
	if (r == TG_OK && st->n > 1) {
		_cleanup_free_ const char **names = tg_calloc(st->n, sizeof(*names));
		if (!names)
			return TG_E_NOMEM;
		for (size_t i = 0; i < st->n; i++)
			names[i] = st->s[i].name;
		qsort(names, st->n, sizeof(*names), name_casecmp);
		for (size_t i = 1; i < st->n && r == TG_OK; i++)
			if (strcasecmp(names[i - 1], names[i]) == 0)
				r = tg_fail(d, TG_E_FORMAT, "%s: subject %s listed twice", what, names[i]);
	}
	return r;
}

enum tg_err tg_envelope_parse(struct tg_span text, const char *what, struct tg_envelope *ret,
			      struct tg_diag *d)
{
	struct tg_span t = text;
	struct json_object *o, *sigs;
	_cleanup_free_ uint8_t *payload = NULL;
	size_t plen = 0;
	enum tg_err r = TG_OK;

	memset(ret, 0, sizeof(*ret));
	while (t.len && (t.p[t.len - 1] == '\n' || t.p[t.len - 1] == '\r' || t.p[t.len - 1] == ' '))
		t.len--;
	if (t.len == 0 || t.len > TG_MAX_MANIFEST)
		return tg_fail(d, TG_E_FORMAT, "%s: manifest is empty or over %u bytes", what, TG_MAX_MANIFEST);
	for (size_t i = 0; i < t.len; i++)
		if (t.p[i] == '\n')
			return tg_fail(d, TG_E_FORMAT, "%s: more than one envelope (one line expected)", what);
	_cleanup_free_ char *s = strndup((const char *)t.p, t.len);
	if (!s)
		return TG_E_NOMEM;
	o = parse_one(s, t.len);
	if (!o)
		return tg_fail(d, TG_E_FORMAT, "%s: envelope is not one JSON object", what);
	const char *type = get_str(o, "payloadType"), *pl = get_str(o, "payload");
	if (!type || strcmp(type, TG_INTOTO_PAYLOAD_TYPE) != 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: payloadType is not %s", what, TG_INTOTO_PAYLOAD_TYPE);
	else if (!pl || tg_base64_decode(tg_span_make(pl, strlen(pl)), false, &payload, &plen) != TG_OK)
		r = tg_fail(d, TG_E_FORMAT, "%s: payload is not canonical base64", what);
	else if (!json_object_object_get_ex(o, "signatures", &sigs) || !json_object_is_type(sigs, json_type_array) ||
		 json_object_array_length(sigs) == 0 || json_object_array_length(sigs) > 8)
		r = tg_fail(d, TG_E_FORMAT, "%s: envelope needs 1 to 8 signatures", what);
	for (size_t i = 0; r == TG_OK && i < json_object_array_length(sigs); i++) {
		struct json_object *e = json_object_array_get_idx(sigs, i);
		const char *sg = json_object_is_type(e, json_type_object) ? get_str(e, "sig") : NULL;
		if (!sg || tg_base64_decode(tg_span_make(sg, strlen(sg)), false, &ret->sig[i], &ret->sig_len[i]) != TG_OK) {
			r = tg_fail(d, TG_E_FORMAT, "%s: signature %zu is not canonical base64", what, i);
			break;
		}
		ret->nsig++;
	}
	if (r == TG_OK) {
		/* PAE (DSSE protocol): the signature covers the type too, so a
		 * payload cannot be replayed as another kind of document. */
		char *pae = NULL;
		int hl = asprintf(&pae, "DSSEv1 %zu %s %zu ", strlen(TG_INTOTO_PAYLOAD_TYPE), TG_INTOTO_PAYLOAD_TYPE, plen);
		if (hl < 0 || !(ret->pae = malloc((size_t)hl + plen))) {
			free(pae);
			r = TG_E_NOMEM;
		} else {
			memcpy(ret->pae, pae, (size_t)hl);
			memcpy(ret->pae + hl, payload, plen);
			ret->pae_len = (size_t)hl + plen;
			free(pae);
		}
	}
	json_object_put(o);
	if (r == TG_OK)
		r = statement_parse(payload, plen, what, &ret->st, d);
	if (r != TG_OK)
		tg_envelope_release(ret);
	return r;
}

/* Try one key against one signature over the PAE. */
static enum tg_err try_key(const struct tg_key *k, unsigned pinned, struct tg_span pae, struct tg_span sig,
			   bool *ok, enum tg_hash *ret_h, enum tg_sig_scheme *ret_s)
{
	uint8_t digest[TG_HASH_MAX_LEN];
	enum tg_err r = TG_OK;

	*ok = false;
	if (k->type == TG_KEY_ED25519) {
		struct tg_md *md = NULL;
		uint8_t hram[64];
		if (sig.len != 64 || tg_eddsa_hram_start(k, sig, &md) != TG_OK)
			return TG_OK;
		tg_md_write(md, pae.p, pae.len);
		tg_md_final(md, hram);
		tg_md_free(md);
		r = tg_verify_eddsa(k, sig, hram, ok);
		*ret_h = TG_HASH_SHA512;
		*ret_s = TG_SCHEME_ED25519;
		return r;
	}
	if (k->type == TG_KEY_SM2) {
		uint8_t za[32];
		struct tg_md *md = NULL;
		if (tg_sm2_za(k, TG_SM2_DEFAULT_ID, za) != TG_OK || tg_md_new(TG_HASH_SM3, &md) != TG_OK)
			return TG_E_CRYPTO;
		tg_md_write(md, za, 32);
		tg_md_write(md, pae.p, pae.len);
		tg_md_final(md, digest);
		tg_md_free(md);
		*ret_h = TG_HASH_SM3;
		return tg_verify_digest(k, TG_HASH_SM3, digest, sig, ok, ret_s);
	}
	unsigned tryset = pinned & ~(1u << TG_HASH_SM3);
	if (k->type == TG_KEY_RSA) {
		bool maybe_pss = false;
		enum tg_hash h = tg_rsa_peek_hash(k, sig, &maybe_pss);
		tryset = h != TG_HASH_NONE ? 1u << h : maybe_pss ? tryset : 0;
	}
	for (int h = 1; h < TG_HASH__COUNT && !*ok && r == TG_OK; h++) {
		if (!(tryset & (1u << h)))
			continue;
		tg_digest((enum tg_hash)h, pae.p, pae.len, digest);
		r = tg_verify_digest(k, (enum tg_hash)h, digest, sig, ok, ret_s);
		*ret_h = (enum tg_hash)h;
	}
	return r;
}

enum tg_err tg_envelope_verify(const struct tg_envelope *e, const struct tg_keyrec *keys, size_t nkeys,
			       struct tg_signer_match *ret, struct tg_diag *d)
{
	ret->index = -1;
	for (size_t s = 0; s < e->nsig; s++)
		for (size_t i = 0; i < nkeys; i++) {
			_cleanup_key_ struct tg_key *k = NULL;
			unsigned pinned = 0;
			bool ok = false;
			enum tg_hash h = TG_HASH_NONE;
			enum tg_sig_scheme sc = TG_SCHEME_NONE;
			if (strncmp(keys[i].algorithm, "openpgp-", 8) == 0)
				continue;  /* OpenPGP keys sign OpenPGP signatures only */
			if (tg_key_from_spki(tg_span_make(keys[i].spki, keys[i].spki_len), &k, d) != TG_OK ||
			    strcmp(k->fingerprint, keys[i].fingerprint) != 0)
				return tg_fail(d, TG_E_DB, "records: key %s fails validation", keys[i].fingerprint);
			tg_hash_parse_list(keys[i].hashes, &pinned);
			enum tg_err r = try_key(k, pinned, tg_span_make(e->pae, e->pae_len),
						tg_span_make(e->sig[s], e->sig_len[s]), &ok, &h, &sc);
			if (r != TG_OK)
				return tg_fail(d, r, "manifest signature verification failed to run");
			if (ok) {
				ret->index = (int)i;
				ret->hash = h;
				ret->scheme = sc;
				return TG_OK;
			}
		}
	return TG_OK;
}
