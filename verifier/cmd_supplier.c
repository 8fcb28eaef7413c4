/* trustgate supplier add|set|list|show */
#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "reevaluate.h"
#include "../db/records.h"

struct json_object *tg_supplier_json(const struct tg_supplier *s)
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
	detail = tg_supplier_json(&s);
	tg_json_str(detail, "reason", reason);
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_insert(db, &s, NULL, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "supplier.add", s.name, detail, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (review_expires)
		tg_cli_warn_past("--review-expires", review_expires);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("supplier %s added: %s, max tier %d%s\n", s.name, status, s.max_tier,
		       cii ? ", CII" : "");
	return TG_EXIT_OK;
}

/* trustgate supplier set NAME [--status S] [--review REF --review-expires D |
 *     --review none] [--max-tier N] [--cii | --no-cii] [--country CC|none] --reason TEXT
 * The audit row carries the whole new state and the list of changed fields,
 * so db/integrity.c re-derives the record from its history. */
static int cmd_set(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *status = NULL, *reason = NULL, *review = NULL, *review_expires = NULL;
	const char *max_tier = NULL, *country = NULL;
	bool cii = false, no_cii = false;
	const struct tg_opt opts[] = {
		{ "status", true, &status, NULL },     { "review", true, &review, NULL },
		{ "review-expires", true, &review_expires, NULL },
		{ "max-tier", true, &max_tier, NULL }, { "cii", false, NULL, &cii },
		{ "no-cii", false, NULL, &no_cii },    { "country", true, &country, NULL },
		{ "reason", true, &reason, NULL },     { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 }, old = { 0 };
	char exp_iso[32] = "", **pos;
	int npos;
	int64_t t;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	cii = cii || ctx->cii;
	if (!status && !review && !review_expires && !max_tier && !cii && !no_cii && !country)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "supplier set: nothing to change (--status, --review, "
						   "--max-tier, --cii/--no-cii or --country)"), &d);
	if (status && strcmp(status, "approved") && strcmp(status, "suspended") && strcmp(status, "revoked"))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--status '%.32s': one of approved, suspended, revoked",
						status), &d);
	if (cii && no_cii)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--cii and --no-cii contradict each other"), &d);
	if (max_tier && (strlen(max_tier) != 1 || max_tier[0] < '1' || max_tier[0] > '5'))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--max-tier '%.16s': one of 1, 2, 3, 4, 5", max_tier), &d);
	if (country && strcmp(country, "none") != 0 &&
	    (strlen(country) != 2 || !isupper((unsigned char)country[0]) || !isupper((unsigned char)country[1])))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--country '%.16s': an ISO 3166 code like CN (or none)",
						country), &d);
	bool clear_review = review && strcmp(review, "none") == 0;
	if (clear_review ? review_expires != NULL : !!review != !!review_expires)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--review REF and --review-expires D go together "
						   "(--review none clears both)"), &d);
	if (review && !clear_review && (r = tg_cli_text_arg("--review", review, TG_MAX_NAME, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (review_expires) {
		if (!tg_parse_date(review_expires, &t))
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--review-expires '%.32s' is not a date YYYY-MM-DD",
							review_expires), &d);
		snprintf(exp_iso, sizeof(exp_iso), "%s", review_expires);
	}
	if ((r = tg_cli_text_arg("supplier set: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &old, &d);
	if (r == TG_OK && strcmp(old.status, "revoked") == 0)
		/* Revocation is final: a compromised supplier comes back only
		 * as a new record, reviewed anew. */
		r = tg_fail(&d, TG_E_USAGE, "supplier '%s' is revoked; revocation is final", pos[0]);
	if (r == TG_OK) {
		struct json_object *changes = json_object_new_array();
		s = old; /* a view: strings stay owned by old */
		if (status && strcmp(status, old.status) != 0) {
			s.status = (char *)status;
			json_object_array_add(changes, json_object_new_string("status"));
		}
		if (review) {
			s.review_ref = clear_review ? NULL : (char *)review;
			s.review_expires = clear_review ? NULL : exp_iso;
			if (!tg_str_eq0(s.review_ref, old.review_ref) || !tg_str_eq0(s.review_expires, old.review_expires))
				json_object_array_add(changes, json_object_new_string("review"));
		}
		if (max_tier && max_tier[0] - '0' != old.max_tier) {
			s.max_tier = max_tier[0] - '0';
			json_object_array_add(changes, json_object_new_string("max_tier"));
		}
		if ((cii && !old.cii) || (no_cii && old.cii)) {
			s.cii = cii;
			json_object_array_add(changes, json_object_new_string("cii"));
		}
		if (country) {
			s.country = strcmp(country, "none") == 0 ? NULL : (char *)country;
			if (!tg_str_eq0(s.country, old.country))
				json_object_array_add(changes, json_object_new_string("country"));
		}
		detail = tg_supplier_json(&s);
		json_object_object_del(detail, "created_at");
		json_object_object_del(detail, "updated_at");
		tg_json_str(detail, "from", old.status);
		json_object_object_add(detail, "changes", changes);
		tg_json_str(detail, "reason", reason);
		if (json_object_array_length(changes) == 0)
			r = tg_fail(&d, TG_E_USAGE, "supplier set: nothing changes (the record already says so)");
	}
	if (r == TG_OK)
		r = tg_rec_supplier_update(db, &s, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "supplier.set", old.name, detail, &d);
	tg_supplier_release(&old);
	if (r == TG_OK && review_expires)
		tg_cli_warn_past("--review-expires", review_expires);
	/* What relied on the supplier: every approved verdict in force of
	 * its products (re-decided by `trustgate reevaluate`). */
	return tg_revoked_report(ctx, db, r, &d, detail, TG_IMPACT_SUPPLIER, pos[0], NULL, NULL, NULL, "supplier", pos[0]);
}

struct list_filter {
	struct json_object *arr;
	const char *status, *before; /* NULL: any */
};

static void print_supplier(const struct tg_supplier *s)
{
	printf("%s  %s  tier<=%d%s%s%s  review %s%s%s\n", s->name, s->status, s->max_tier, s->cii ? "  CII" : "",
	       s->country ? "  " : "", s->country ? s->country : "", s->review_ref ? s->review_ref : "none",
	       s->review_expires ? " until " : "", s->review_expires ? s->review_expires : "");
}

static enum tg_err list_one(const struct tg_supplier *s, void *ud)
{
	struct list_filter *f = ud;

	if (f->status && strcmp(f->status, s->status) != 0)
		return TG_OK;
	/* --expiring-before D: reviews that lapse before D, and suppliers with
	 * none at all (they are unusable at tier 3 already). */
	if (f->before && s->review_expires && strcmp(s->review_expires, f->before) >= 0)
		return TG_OK;
	if (f->arr)
		json_object_array_add(f->arr, tg_supplier_json(s));
	else
		print_supplier(s);
	return TG_OK;
}

/* trustgate supplier list [--status S] [--expiring-before YYYY-MM-DD] */
static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *status = NULL, *before = NULL;
	const struct tg_opt opts[] = {
		{ "status", true, &status, NULL }, { "expiring-before", true, &before, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct list_filter f = { NULL };
	char **pos;
	int npos;
	int64_t t;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (status && strcmp(status, "approved") && strcmp(status, "pending") && strcmp(status, "suspended") &&
	    strcmp(status, "revoked"))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--status '%.32s': one of approved, pending, suspended, "
						   "revoked", status), &d);
	if (before && !tg_parse_date(before, &t))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--expiring-before '%.32s' is not a date YYYY-MM-DD",
						before), &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	f.arr = arr;
	f.status = status;
	f.before = before;
	r = tg_rec_supplier_each(db, list_one, &f, &d);
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
		o = tg_supplier_json(&s);
		sc.keys = json_object_new_array();
		json_object_object_add(o, "keys", sc.keys);
	} else {
		print_supplier(&s);
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
