/* trustgate host challenge|respond|enroll|list|show|set|retire */
#include <stdio.h>
#include <string.h>


#include "cli.h"
#include "../common/cms.h"
#include "../measure/tpm.h"
#include "../measure/credential.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/records.h"
#include "../measure/quote.h"

struct json_object *tg_host_json(const struct tg_host *h)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", h->name);
	json_object_object_add(o, "tier", json_object_new_int(h->tier));
	tg_json_str(o, "model", h->model);
	tg_json_str(o, "ak_name", h->ak_name);
	tg_json_str(o, "ak_fingerprint", h->ak_fingerprint);
	tg_json_str(o, "status", h->status);
	tg_json_str(o, "enrolled_at", h->enrolled_at);
	json_object_object_add(o, "ek", json_object_new_boolean(h->ek_public != NULL));
	json_object_object_add(o, "ek_certificate", json_object_new_boolean(h->ek_cert != NULL));
	return o;
}

/* The latest credential challenge issued for this host (audit detail), or
 * NULL. */
static enum tg_err last_challenge(struct tg_db *db, const char *host, struct json_object **ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT detail FROM audit WHERE action = 'host.challenge' AND object = ?1 "
					  "ORDER BY seq DESC LIMIT 1;", &st, d);

	*ret = NULL;
	if (r == TG_OK) {
		tg_db_bind_text(st, 1, host);
		r = tg_db_step(db, st, &row, d);
	}
	if (r == TG_OK && row && !(*ret = json_tokener_parse(tg_db_col_str(st, 0))))
		r = tg_fail(d, TG_E_DB, "records: the challenge row of %s is unreadable", host);
	return r;
}

static const char *jget(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;
	return json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* THREATS 48: an EK certificate counts only when a TPM vendor CA held as an
 * ek-ca key of the records issued it. */
struct ekca {
	struct tg_span cert;
	bool ok;
	enum tg_err r;
	char issuer[TG_MAX_NAME + 1];
};

static enum tg_err try_ekca(const struct tg_keyrec *k, void *ud)
{
	struct ekca *e = ud;
	struct tg_diag d = { { 0 } };
	struct tg_key *key = NULL;
	bool ok = false;

	if (e->ok || !tg_list_has(k->purposes, "ek-ca") || k->revoked_at ||
	    tg_key_from_spki(tg_span_make(k->spki, k->spki_len), &key, &d) != TG_OK)
		return TG_OK;
	e->r = tg_cert_signed_by_key(e->cert, key, &ok);
	tg_key_free(key);
	if (e->r == TG_OK && ok) {
		e->ok = true;
		snprintf(e->issuer, sizeof(e->issuer), "%s", k->supplier);
	}
	return e->r;
}

static enum tg_err check_challenge(struct tg_db *db, const char *host, const char *ak_name, const char *ek_fpr,
				   const char *secret, bool no_challenge, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *c = NULL;
	uint8_t sb[64], h[32];
	char hex[65];
	size_t sl = 0;
	enum tg_err r = last_challenge(db, host, &c, d);

	if (r != TG_OK)
		return r;
	if (!c && secret)
		return tg_fail(d, TG_E_USAGE, "host enroll --secret: no challenge was issued for %s", host);
	/* Without proof that the AK lives beside the EK an AK is taken on
	 * trust: only when the operator says so. */
	if (!c)
		return no_challenge ? TG_OK : tg_fail(d, TG_E_USAGE, "host enroll: prove the AK first (host challenge, "
						       "host respond, then --secret) or say --no-challenge");
	if (no_challenge)
		return tg_fail(d, TG_E_USAGE, "host %s was challenged: --no-challenge is not accepted", host);
	if (!secret)
		return tg_fail(d, TG_E_USAGE, "host %s was challenged: enrol it with --secret (from 'trustgate host respond')",
			       host);
	if (!tg_hex_decode(secret, sb, sizeof(sb), &sl) || !sl)
		return tg_fail(d, TG_E_USAGE, "--secret: hex expected");
	tg_digest(TG_HASH_SHA256, sb, sl, h);
	tg_hex_encode(h, 32, hex);
	const char *want = jget(c, "secret_sha256"), *cak = jget(c, "ak_name"), *cek = jget(c, "ek_fingerprint");
	if (!cak || strcmp(cak, ak_name) != 0)
		return tg_fail(d, TG_E_USAGE, "host enroll: this AK is not the one %s was challenged for", host);
	if (cek && (!ek_fpr || strcmp(cek, ek_fpr) != 0))
		return tg_fail(d, TG_E_USAGE, "host enroll: give the EK %s was challenged with (--ek)", host);
	if (!want || !tg_memeq_ct(want, hex, 64))
		return tg_fail(d, TG_E_USAGE, "host enroll: the secret does not answer the challenge (the AK is not in the "
			       "TPM of that EK)");
	return TG_OK;
}

/* trustgate host challenge NAME --ek EK --ak AK [--out FILE]: a credential
 * only the TPM holding both keys can open (no TPM needed here). */
static int cmd_challenge(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL, *out = NULL;
	_cleanup_free_ uint8_t *akb = NULL, *ekb = NULL;
	const char *ak = NULL, *ek = NULL, *outpath = NULL;
	const struct tg_opt opts[] = {
		{ "ak", true, &ak, NULL }, { "ek", true, &ek, NULL }, { "out", true, &outpath, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_ak akey = { 0 }, ekey = { 0 };
	struct tg_credential cred;
	uint8_t secret[32], h[32];
	char name_hex[2 * (2 + TG_HASH_MAX_LEN) + 1], hex[1100], **pos;
	size_t akl = 0, ekl = 0;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);

	if (r == TG_OK && (!ak || !ek))
		r = tg_fail(&d, TG_E_USAGE, "host challenge: --ek EK and --ak AK (TPM2B_PUBLIC) are required");
	if (r == TG_OK)
		r = tg_cli_name_arg("host name", pos[0], &d);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(ak, TG_MAX_KEY_FILE, &akb, &akl, &d);
	if (r == TG_OK)
		r = tg_ak_parse(tg_span_make(akb, akl), ak, &akey, &d);
	if (r == TG_OK && (!akey.has_public || !tg_ak_attributes_ok(&akey)))
		r = tg_fail(&d, TG_E_UNSUPPORTED, "%s: not a restricted, fixed, TPM-generated signing key (TPM2B_PUBLIC)", ak);
	if (r == TG_OK)
		r = tg_file_read(ek, TG_MAX_KEY_FILE, &ekb, &ekl, &d);
	if (r == TG_OK)
		r = tg_ak_parse(tg_span_make(ekb, ekl), ek, &ekey, &d);
	if (r == TG_OK && !ekey.has_public)
		r = tg_fail(&d, TG_E_USAGE, "%s: give the EK as TPM2B_PUBLIC (tpm2_createek -u)", ek);
	if (r == TG_OK) {
		tg_random(secret, sizeof(secret));
		r = tg_make_credential(&ekey, &akey, secret, sizeof(secret), &cred, &d);
	}
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_ak_release(&ekey);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_hex_encode(akey.name, akey.name_len, name_hex);
	tg_digest(TG_HASH_SHA256, secret, sizeof(secret), h);
	detail = json_object_new_object();
	tg_json_str(detail, "ak_name", name_hex);
	tg_json_str(detail, "ek_fingerprint", ekey.key->fingerprint);
	tg_hex_encode(h, 32, hex);
	tg_json_str(detail, "secret_sha256", hex);
	out = json_object_new_object();
	tg_json_str(out, "host", pos[0]);
	tg_json_str(out, "ak_name", name_hex);
	tg_hex_encode(cred.blob, cred.blob_len, hex);
	tg_json_str(out, "credential_blob", hex);
	tg_hex_encode(cred.secret_enc, cred.secret_enc_len, hex);
	tg_json_str(out, "encrypted_secret", hex);
	tg_ak_release(&akey);
	tg_ak_release(&ekey);
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "host.challenge", pos[0], detail, &d);
	const char *text = json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY);
	if (r == TG_OK && outpath) {
		FILE *f = fopen(outpath, "wx");
		if (!f || fprintf(f, "%s\n", text) < 0 || fclose(f) != 0)
			r = tg_fail(&d, TG_E_IO, "%s: cannot write the challenge", outpath);
	} else if (r == TG_OK) {
		printf("%s\n", text);
	}
	return r == TG_OK ? TG_EXIT_OK : tg_cli_fail(ctx, r, &d);
}

/* trustgate host respond --challenge FILE [--tcti CONF] [--ak-alg rsa|ecc]:
 * the agent side; prints the secret its TPM recovers. */
static int cmd_respond(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_json_ struct json_object *c = NULL;
	const char *file = NULL, *tcti = NULL, *alg = NULL, *ek_alg = NULL;
	const struct tg_opt opts[] = {
		{ "challenge", true, &file, NULL }, { "tcti", true, &tcti, NULL }, { "ak-alg", true, &alg, NULL },
		{ "ek-alg", true, &ek_alg, NULL }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_tpm *tpm = NULL;
	uint8_t blob[512], enc[600], secret[64];
	size_t len = 0, bl = 0, el = 0, sl = 0;
	char hex[129], **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && !file)
		r = tg_fail(&d, TG_E_USAGE, "host respond: --challenge FILE is required");
	if (r == TG_OK)
		r = tg_file_read(file, 64 * 1024, &buf, &len, &d);
	if (r == TG_OK) {
		char *text = strndup((const char *)buf, len);
		c = text ? json_tokener_parse(text) : NULL;
		free(text);
		const char *b = c ? jget(c, "credential_blob") : NULL, *e = c ? jget(c, "encrypted_secret") : NULL;
		if (!b || !e || !tg_hex_decode(b, blob, sizeof(blob), &bl) || !tg_hex_decode(e, enc, sizeof(enc), &el))
			r = tg_fail(&d, TG_E_FORMAT, "%s: not a trustgate challenge", file);
	}
	if (r == TG_OK && alg && strcmp(alg, "rsa") != 0 && strcmp(alg, "ecc") != 0)
		r = tg_fail(&d, TG_E_USAGE, "--ak-alg '%s': rsa or ecc", alg);
	if (r == TG_OK && ek_alg && strcmp(ek_alg, "rsa") != 0 && strcmp(ek_alg, "ecc") != 0)
		r = tg_fail(&d, TG_E_USAGE, "--ek-alg '%s': rsa or ecc", ek_alg);
	if (r == TG_OK)
		r = tg_tpm_open(tcti, &tpm, &d);
	if (r == TG_OK)
		r = tg_tpm_activate(tpm, alg && strcmp(alg, "ecc") == 0, ek_alg && strcmp(ek_alg, "ecc") == 0, blob, bl,
				    enc, el, secret, &sl, &d);
	tg_tpm_close(tpm);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_hex_encode(secret, sl, hex);
	printf("%s\n", hex);
	return TG_EXIT_OK;
}

static int cmd_enroll(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *akb = NULL, *ekb = NULL, *certb = NULL;
	_cleanup_key_ struct tg_key *certkey = NULL;
	const char *ak = NULL, *ek = NULL, *ek_cert = NULL, *model = NULL, *reason = NULL, *secret = NULL;
	bool no_challenge = false;
	const struct tg_opt opts[] = {
		{ "ak", true, &ak, NULL },         { "ek", true, &ek, NULL },
		{ "ek-cert", true, &ek_cert, NULL }, { "model", true, &model, NULL },
		{ "reason", true, &reason, NULL }, { "secret", true, &secret, NULL },
		{ "no-challenge", false, NULL, &no_challenge }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_ak akey = { 0 }, ekey = { 0 };
	struct tg_host h = { 0 };
	uint8_t pub[sizeof(TPMT_PUBLIC)];
	char now[32], name_hex[2 * (2 + TG_HASH_MAX_LEN) + 1], **pos;
	size_t akl = 0, ekl = 0, certl = 0, publ = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_name_arg("host name", pos[0], &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!ak)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "host enroll: --ak AKPUB is required"), &d);
	if ((r = tg_cli_text_arg("host enroll: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK ||
	    (model && (r = tg_cli_name_arg("--model", model, &d)) != TG_OK))
		return tg_cli_fail(ctx, r, &d);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(ak, TG_MAX_KEY_FILE, &akb, &akl, &d);
	if (r == TG_OK)
		r = tg_ak_parse(tg_span_make(akb, akl), ak, &akey, &d);
	/* The AK must come with its TPMT_PUBLIC: only then are its attributes
	 * known, and only a restricted key makes quotes that cannot be forged
	 * with TPM2_Sign (THREATS cases 45a, 48a). */
	if (r == TG_OK && !akey.has_public)
		r = tg_fail(&d, TG_E_USAGE, "%s: give the AK as TPM2B_PUBLIC or TPMT_PUBLIC "
					    "(tpm2_createak -u), not as a plain public key", ak);
	if (r == TG_OK && !tg_ak_attributes_ok(&akey))
		r = tg_fail(&d, TG_E_UNSUPPORTED, "%s: not a restricted, fixed, TPM-generated signing key", ak);
	if (r == TG_OK && (akey.name_len < 34 || tg_tpm_alg_hash((uint16_t)(akey.name[0] << 8 | akey.name[1])) == TG_HASH_SHA1))
		r = tg_fail(&d, TG_E_UNSUPPORTED, "%s: AK name algorithm must be SHA-256 or stronger", ak);
	if (r == TG_OK)
		r = tg_ak_marshal(&akey, pub, sizeof(pub), &publ);
	if (r == TG_OK && ek) {
		r = tg_file_read(ek, TG_MAX_KEY_FILE, &ekb, &ekl, &d);
		if (r == TG_OK)
			r = tg_ak_parse(tg_span_make(ekb, ekl), ek, &ekey, &d);
	}
	if (r == TG_OK && ek_cert) {
		r = tg_file_read(ek_cert, TG_MAX_KEY_FILE, &certb, &certl, &d);
		if (r == TG_OK)
			r = tg_key_parse(tg_span_make(certb, certl), ek_cert, &certkey, &d);
		if (r == TG_OK && !certkey->cert)
			r = tg_fail(&d, TG_E_USAGE, "%s: not an X.509 certificate", ek_cert);
		/* Every EK representation must agree (THREATS case 48c). */
		if (r == TG_OK && ekey.key && strcmp(ekey.key->fingerprint, certkey->fingerprint) != 0)
			r = tg_fail(&d, TG_E_USAGE, "%s: the EK certificate is for another key than %s", ek_cert, ek);
		struct ekca eca = { .cert = tg_span_make(certkey ? certkey->cert : NULL, certkey ? certkey->cert_len : 0) };
		if (r == TG_OK)
			r = tg_rec_key_each(db, 0, try_ekca, &eca, &d);
		if (r == TG_OK && !eca.ok)
			r = tg_fail(&d, TG_E_USAGE, "%s: the EK certificate was issued by no ek-ca key in the records (key add "
						    "VENDOR CA.pem --purpose ek-ca)", ek_cert);
	}
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_ak_release(&ekey);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_hex_encode(akey.name, akey.name_len, name_hex);
	/* A host that was challenged is enrolled only with the secret its TPM
	 * recovered: proof that this AK lives beside that EK. */
	r = check_challenge(db, pos[0], name_hex, ekey.key ? ekey.key->fingerprint : certkey ? certkey->fingerprint : NULL,
			    secret, no_challenge, &d);
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_ak_release(&ekey);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_now_iso(now);
	h.name = pos[0];
	h.tier = ctx->tier;
	h.model = (char *)model;
	h.ak_public = pub;
	h.ak_public_len = publ;
	h.ak_name = name_hex;
	h.ak_fingerprint = akey.key->fingerprint;
	if (ekey.key) {
		h.ek_public = ekey.key->spki;
		h.ek_public_len = ekey.key->spki_len;
	} else if (certkey) {
		h.ek_public = certkey->spki;
		h.ek_public_len = certkey->spki_len;
	}
	if (certkey) {
		h.ek_cert = certkey->cert;
		h.ek_cert_len = certkey->cert_len;
	}
	h.enrolled_at = now;
	detail = json_object_new_object();
	tg_json_str(detail, "name", h.name);
	json_object_object_add(detail, "tier", json_object_new_int(h.tier));
	tg_json_str(detail, "model", model);
	tg_json_str(detail, "ak_name", name_hex);
	tg_json_str(detail, "ak_fingerprint", akey.key->fingerprint);
	tg_json_str(detail, "ak_algorithm", tg_key_algorithm(akey.key));
	tg_json_str(detail, "ek_fingerprint", ekey.key ? ekey.key->fingerprint : certkey ? certkey->fingerprint : NULL);
	tg_json_str(detail, "reason", reason);
	tg_json_str(detail, "proof", secret ? "credential activation" : "none (--no-challenge)");
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_host_insert(db, &h, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "host.enroll", h.name, detail, &d);
	if (r == TG_OK) {
		if (ctx->json)
			tg_cli_print_json(detail);
		else
			printf("host %s enrolled: AK %s (%s), tier %d%s%s\n", h.name, name_hex,
			       tg_key_algorithm(akey.key), h.tier, model ? ", model " : "", model ? model : "");
	}
	tg_ak_release(&akey);
	tg_ak_release(&ekey);
	return r == TG_OK ? TG_EXIT_OK : tg_cli_fail(ctx, r, &d);
}

static enum tg_err list_one(const struct tg_host *h, void *ud)
{
	struct json_object *arr = ud;

	if (arr)
		json_object_array_add(arr, tg_host_json(h));
	else
		printf("%-24s tier %d %-9s model=%s AK %s\n", h->name, h->tier, h->status,
		       h->model ? h->model : "-", h->ak_name);
	return TG_OK;
}

struct host_filter {
	struct json_object *arr;
	const char *status, *model;
};

static enum tg_err list_filtered(const struct tg_host *h, void *ud)
{
	struct host_filter *f = ud;

	if ((f->status && strcmp(f->status, h->status) != 0) || (f->model && !tg_str_eq0(f->model, h->model)))
		return TG_OK;
	return list_one(h, f->arr);
}

/* trustgate host list [--status enrolled|retired] [--model NAME] */
static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *status = NULL, *model = NULL;
	const struct tg_opt opts[] = {
		{ "status", true, &status, NULL }, { "model", true, &model, NULL }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct host_filter f = { NULL };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && status && strcmp(status, "enrolled") && strcmp(status, "retired") && strcmp(status, "revoked"))
		r = tg_fail(&d, TG_E_USAGE, "--status '%.32s': one of enrolled, retired", status);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	f.arr = arr;
	f.status = status;
	f.model = model;
	r = tg_rec_host_each(db, list_filtered, &f, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

/* trustgate host set NAME [--model NAME|none] [--tier N] --reason TEXT
 * trustgate host retire NAME --reason TEXT
 * One function: both change the record and write its whole new state. */
static int change_host(struct tg_ctx *ctx, int argc, char **argv, bool retire)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *model = NULL, *tier = NULL, *reason = NULL;
	const struct tg_opt set_opts[] = {
		{ "model", true, &model, NULL }, { "tier", true, &tier, NULL },
		{ "reason", true, &reason, NULL }, { NULL, false, NULL, NULL },
	};
	const struct tg_opt retire_opts[] = { { "reason", true, &reason, NULL }, { NULL, false, NULL, NULL } };
	struct tg_diag d = { { 0 } };
	struct tg_host h = { 0 };
	char *old_model = NULL, **pos;
	int npos, old_tier = 0;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, retire ? retire_opts : set_opts, 1, 1, &pos, &npos, &d);

	/* --tier is also the global option (the destination of a check): here
	 * it is the host's. */
	if (r == TG_OK && !retire && !tier && ctx->tier_given) {
		static char tbuf[2];
		tbuf[0] = (char)('0' + ctx->tier);
		tier = tbuf;
	}
	if (r == TG_OK && !retire && !model && !tier)
		r = tg_fail(&d, TG_E_USAGE, "host set: nothing to change (--model or --tier)");
	if (r == TG_OK && model && strcmp(model, "none") != 0)
		r = tg_cli_name_arg("--model", model, &d);
	if (r == TG_OK)
		r = tg_cli_text_arg(retire ? "host retire: --reason TEXT" : "host set: --reason TEXT", reason,
				    TG_MAX_REASON, &d);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_host_get(db, pos[0], &h, &d);
	if (r == TG_OK && strcmp(h.status, "enrolled") != 0)
		r = tg_fail(&d, TG_E_USAGE, "host %s is %s: nothing can change it", h.name, h.status);
	bool borrowed = false; /* h.model points at the option, not at h's own string */
	if (r == TG_OK) {
		struct json_object *changes = json_object_new_array();
		old_model = h.model;
		old_tier = h.tier;
		borrowed = true;
		if (retire) {
			free(h.status);
			h.status = strdup("retired");
			json_object_array_add(changes, json_object_new_string("status"));
		}
		if (model) {
			h.model = strcmp(model, "none") == 0 ? NULL : (char *)model;
			if (!tg_str_eq0(h.model, old_model))
				json_object_array_add(changes, json_object_new_string("model"));
		}
		if (tier && tier[0] - '0' != old_tier) {
			h.tier = tier[0] - '0';
			json_object_array_add(changes, json_object_new_string("tier"));
		}
		detail = json_object_new_object();
		tg_json_str(detail, "name", h.name);
		tg_json_str(detail, "status", h.status);
		tg_json_str(detail, "model", h.model);
		json_object_object_add(detail, "tier", json_object_new_int(h.tier));
		tg_json_str(detail, "previous_model", old_model);
		json_object_object_add(detail, "previous_tier", json_object_new_int(old_tier));
		json_object_object_add(detail, "changes", changes);
		tg_json_str(detail, "reason", reason);
		if (!h.status)
			r = TG_E_NOMEM;
		else if (json_object_array_length(changes) == 0)
			r = tg_fail(&d, TG_E_USAGE, "host %s: nothing changes (the record already says so)", h.name);
	}
	if (r == TG_OK)
		r = tg_rec_host_update(db, &h, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, retire ? "host.retire" : "host.set", h.name, detail, &d);
	if (borrowed)
		h.model = old_model;
	tg_host_release(&h);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else if (retire)
		printf("host %s retired: its attestations are refused from now on\n", pos[0]);
	else
		printf("host %s changed\n", pos[0]);
	return TG_EXIT_OK;
}

static int cmd_set(struct tg_ctx *ctx, int argc, char **argv)
{
	return change_host(ctx, argc, argv, false);
}

static int cmd_retire(struct tg_ctx *ctx, int argc, char **argv)
{
	return change_host(ctx, argc, argv, true);
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_host h = { 0 };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_rec_host_get(db, pos[0], &h, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = tg_host_json(&h);
		tg_cli_print_json(o);
	} else {
		list_one(&h, NULL);
	}
	tg_host_release(&h);
	return TG_EXIT_OK;
}

int tg_cmd_host(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "challenge", cmd_challenge },
		{ "respond", cmd_respond },
		{ "enroll", cmd_enroll },
		{ "list", cmd_list },
		{ "show", cmd_show },
		{ "set", cmd_set },
		{ "retire", cmd_retire },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs),
			       "host challenge|respond|enroll|list|show|set|retire ...");
}
