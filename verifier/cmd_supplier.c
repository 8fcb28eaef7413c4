/* trustgate supplier add|set|list|show */
#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "../db/records.h"

static struct json_object *supplier_json(const struct tg_supplier *s)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", s->name);
	tg_json_str(o, "country", s->country);
	tg_json_str(o, "status", s->status);
	json_object_object_add(o, "max_tier", json_object_new_int(s->max_tier));
	json_object_object_add(o, "cii", json_object_new_boolean(s->cii));
	tg_json_str(o, "review", s->review_ref);
	tg_json_str(o, "review_expires", s->review_expires);
	tg_json_str(o, "created_at", s->created_at);
	tg_json_str(o, "updated_at", s->updated_at);
	return o;
}

static int cmd_add(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *country = NULL, *max_tier = NULL, *review = NULL, *review_expires = NULL;
	const char *status = NULL, *reason = NULL;
	bool cii = false;
	const struct tg_opt opts[] = {
		{ "country", true, &country, NULL },     { "max-tier", true, &max_tier, NULL },
		{ "cii", false, NULL, &cii },            { "review", true, &review, NULL },
		{ "review-expires", true, &review_expires, NULL },
		{ "status", true, &status, NULL },       { "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	char now[32], **pos;
	int npos;
	int64_t t;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	/* `--cii` is both a global option (destination) and this command's
	 * flag (supplier may serve CII): here it describes the supplier. */
	cii = cii || ctx->cii;
	if ((r = tg_cli_name_arg("supplier name", pos[0], &d)) != TG_OK ||
	    (r = tg_cli_text_arg("supplier add: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (country && (strlen(country) != 2 || !isupper((unsigned char)country[0]) ||
			!isupper((unsigned char)country[1])))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--country must be an ISO 3166 code like CN"), &d);
	s.max_tier = 3;
	if (max_tier) {
		if (strlen(max_tier) != 1 || max_tier[0] < '1' || max_tier[0] > '5')
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--max-tier must be 1 to 5"), &d);
		s.max_tier = max_tier[0] - '0';
	}
	if (!!review != !!review_expires)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--review and --review-expires go together"), &d);
	if (review && (r = tg_cli_text_arg("--review", review, TG_MAX_NAME, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (review_expires && !tg_parse_date(review_expires, &t))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--review-expires '%s' is not a date YYYY-MM-DD", review_expires), &d);
	if (!status)
		status = "approved";
	if (strcmp(status, "approved") != 0 && strcmp(status, "pending") != 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "supplier add: --status is approved or pending"), &d);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_now_iso(now);
	s.name = pos[0];
	s.country = (char *)country;
	s.status = (char *)status;
	s.cii = cii;
	s.review_ref = (char *)review;
	s.review_expires = (char *)review_expires;
	s.created_at = s.updated_at = now;
	detail = supplier_json(&s);
	tg_json_str(detail, "reason", reason);
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_insert(db, &s, NULL, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "supplier.add", s.name, detail, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("supplier %s added: %s, max tier %d%s\n", s.name, status, s.max_tier,
		       cii ? ", CII" : "");
	return TG_EXIT_OK;
}

static int cmd_set(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *status = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "status", true, &status, NULL },
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	char **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!status || (strcmp(status, "approved") && strcmp(status, "suspended") &&
			strcmp(status, "revoked")))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "supplier set: --status approved|suspended|revoked is required"), &d);
	if ((r = tg_cli_text_arg("supplier set: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r == TG_OK && strcmp(s.status, "revoked") == 0 && strcmp(status, "revoked") != 0)
		/* Revocation is final: a compromised supplier comes back only
		 * as a new record, reviewed anew. */
		r = tg_fail(&d, TG_E_USAGE, "supplier '%s' is revoked; revocation is final", s.name);
	if (r == TG_OK)
		r = tg_rec_supplier_set_status(db, s.id, status, &d);
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "name", s.name);
		tg_json_str(detail, "from", s.status);
		tg_json_str(detail, "status", status);
		tg_json_str(detail, "reason", reason);
		r = tg_cli_audit_commit(ctx, db, "supplier.set", s.name, detail, &d);
	}
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("supplier %s is now %s\n", pos[0], status);
	return TG_EXIT_OK;
}

static enum tg_err list_one(const struct tg_supplier *s, void *ud)
{
	struct json_object *arr = ud;

	if (arr)
		json_object_array_add(arr, supplier_json(s));
	else
		printf("%-24s %-9s tier<=%d %-3s %-2s review=%s%s%s\n", s->name, s->status,
		       s->max_tier, s->cii ? "CII" : "-", s->country ? s->country : "--",
		       s->review_ref ? s->review_ref : "none", s->review_expires ? " until " : "",
		       s->review_expires ? s->review_expires : "");
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
	r = tg_rec_supplier_each(db, list_one, arr, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

struct show_ctx {
	struct json_object *keys;
	bool json;
};

static enum tg_err show_key(const struct tg_keyrec *k, void *ud)
{
	struct show_ctx *sc = ud;

	if (sc->json) {
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "fingerprint", k->fingerprint);
		tg_json_str(o, "algorithm", k->algorithm);
		tg_json_str(o, "purposes", k->purposes);
		tg_json_str(o, "revoked_at", k->revoked_at);
		json_object_array_add(sc->keys, o);
	} else {
		printf("  key %s %-10s %s%s\n", k->fingerprint, k->algorithm, k->purposes,
		       k->revoked_at ? " REVOKED" : "");
	}
	return TG_OK;
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct show_ctx sc = { .json = ctx->json };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		o = supplier_json(&s);
		sc.keys = json_object_new_array();
		json_object_object_add(o, "keys", sc.keys);
	} else {
		list_one(&s, NULL);
	}
	r = tg_rec_key_each(db, s.id, show_key, &sc, &d);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (o)
		tg_cli_print_json(o);
	return TG_EXIT_OK;
}

int tg_cmd_supplier(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "set", cmd_set },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "supplier add|set|list|show ...");
}
