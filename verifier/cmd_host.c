/* trustgate host enroll|list|show */
#include <string.h>

#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/records.h"
#include "../measure/quote.h"

static struct json_object *host_json(const struct tg_host *h)
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

static int cmd_enroll(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *akb = NULL, *ekb = NULL, *certb = NULL;
	_cleanup_key_ struct tg_key *certkey = NULL;
	const char *ak = NULL, *ek = NULL, *ek_cert = NULL, *model = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "ak", true, &ak, NULL },         { "ek", true, &ek, NULL },
		{ "ek-cert", true, &ek_cert, NULL }, { "model", true, &model, NULL },
		{ "reason", true, &reason, NULL }, { NULL, false, NULL, NULL },
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
	if (!tg_cli_name_ok(pos[0]))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "host name '%s' is not valid", pos[0]), &d);
	if (!ak)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "host enroll: --ak AKPUB is required"), &d);
	if (!reason || !tg_cli_text_ok(reason, TG_MAX_REASON))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "host enroll: --reason TEXT is required"), &d);
	if (model && !tg_cli_name_ok(model))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--model '%s' is not a valid name", model), &d);

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
	}
	if (r != TG_OK) {
		tg_ak_release(&akey);
		tg_ak_release(&ekey);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_hex_encode(akey.name, akey.name_len, name_hex);
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
		json_object_array_add(arr, host_json(h));
	else
		printf("%-24s tier %d %-9s model=%s AK %s\n", h->name, h->tier, h->status,
		       h->model ? h->model : "-", h->ak_name);
	return TG_OK;
}

static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	r = tg_rec_host_each(db, list_one, arr, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
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
		_cleanup_json_ struct json_object *o = host_json(&h);
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
		{ "enroll", cmd_enroll },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "host enroll|list|show ...");
}
