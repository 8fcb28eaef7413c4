/* trustgate product add|set|list|show */
#include <ctype.h>
#include <string.h>

#include "cli.h"
#include "reevaluate.h"
#include "../common/version.h"
#include "../db/records.h"

/* 8-4-4-4-12 hex, stored lowercase so one GUID has one spelling. */
static bool guid_ok(const char *g, char out[37])
{
	if (strlen(g) != 36)
		return false;
	for (int i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? g[i] != '-' : !isxdigit((unsigned char)g[i]))
			return false;
		out[i] = (char)tolower((unsigned char)g[i]);
	}
	out[36] = '\0';
	return true;
}

/* What a product may carry from tier 3, as the reviewer decided it: a
 * comma list of known allowances, written back sorted and without repeats
 * so one decision has one spelling.  "none" clears the list. */
static const char *const allowances[] = { "setuid", NULL };

static bool allow_parse(const char *in, char *out, size_t n)
{
	bool want[8] = { false };
	size_t o = 0;

	out[0] = '\0';
	if (strcmp(in, "none") == 0)
		return true;
	for (const char *p = in; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		size_t k;
		for (k = 0; allowances[k]; k++)
			if (strlen(allowances[k]) == len && strncmp(allowances[k], p, len) == 0)
				break;
		if (!allowances[k])
			return false;
		want[k] = true;
		p += len;
		if (*p == ',' && !*++p)
			return false;
	}
	for (size_t k = 0; allowances[k]; k++)
		if (want[k]) {
			int w = snprintf(out + o, n - o, "%s%s", o ? "," : "", allowances[k]);
			if (w < 0 || (size_t)w >= n - o)
				return false;
			o += (size_t)w;
		}
	return o > 0;
}

static struct json_object *product_json(const struct tg_product *p)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "supplier", p->supplier);
	tg_json_str(o, "name", p->name);
	tg_json_str(o, "kind", p->kind);
	json_object_object_add(o, "max_tier", json_object_new_int(p->max_tier));
	tg_json_str(o, "min_version", p->min_version);
	tg_json_str(o, "guid", p->guid);
	tg_json_str(o, "allow", p->allow);
	return o;
}

static int cmd_add(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *kind = NULL, *max_tier = NULL, *min_version = NULL, *guid = NULL, *reason = NULL, *allow = NULL;
	const struct tg_opt opts[] = {
		{ "kind", true, &kind, NULL },          { "max-tier", true, &max_tier, NULL },
		{ "min-version", true, &min_version, NULL }, { "guid", true, &guid, NULL },
		{ "allow", true, &allow, NULL },
		{ "reason", true, &reason, NULL },      { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct tg_product p = { 0 };
	char now[32], guid_lc[37], object[2 * TG_MAX_NAME + 2], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 2, 2, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if ((r = tg_cli_name_arg("product name", pos[1], &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!kind || (strcmp(kind, "package") && strcmp(kind, "firmware") && strcmp(kind, "image")))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "product add: --kind package|firmware|image is required"), &d);
	if ((r = tg_cli_text_arg("product add: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	p.max_tier = 3;
	if (max_tier) {
		if (strlen(max_tier) != 1 || max_tier[0] < '1' || max_tier[0] > '5')
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--max-tier must be 1 to 5"), &d);
		p.max_tier = max_tier[0] - '0';
	}
	char floor[TG_MAX_VERSION + 1];
	if (min_version && !tg_version_canonical(min_version, floor, sizeof(floor)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--min-version '%s' is not a version", min_version), &d);
	if (min_version)
		min_version = floor;  /* stored in its canonical spelling */
	char allow_buf[64];
	if (allow && !allow_parse(allow, allow_buf, sizeof(allow_buf)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--allow '%s': a comma list of: setuid (or none)", allow), &d);
	if (guid && !guid_ok(guid, guid_lc))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--guid '%s' is not a UUID", guid), &d);

	tg_now_iso(now);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r == TG_OK && strcmp(s.status, "revoked") == 0)
		r = tg_fail(&d, TG_E_USAGE, "supplier '%s' is revoked", s.name);
	if (r == TG_OK) {
		p.supplier_id = s.id;
		p.supplier = s.name;
		p.name = pos[1];
		p.kind = (char *)kind;
		p.min_version = (char *)min_version;
		p.guid = guid ? guid_lc : NULL;
		p.allow = allow && allow_buf[0] ? allow_buf : NULL;
		p.created_at = now;
		detail = product_json(&p);
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s", s.name, pos[1]);
		r = tg_rec_product_insert(db, &p, NULL, &d);
	}
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "product.add", object, detail, &d);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("product %s/%s added: %s, max tier %d, floor %s\n", pos[0], pos[1], kind,
		       p.max_tier, min_version ? min_version : "none");
	return TG_EXIT_OK;
}

/* trustgate product set SUPPLIER NAME [--max-tier N] [--min-version V|none]
 *                       [--guid UUID|none] [--allow LIST|none] --reason TEXT
 * The audit row carries the whole new state, so the record can be re-derived
 * from its history (db/integrity.c). */
static int cmd_set(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *allow = NULL, *reason = NULL, *max_tier = NULL, *min_version = NULL, *guid = NULL;
	const struct tg_opt opts[] = {
		{ "max-tier", true, &max_tier, NULL }, { "min-version", true, &min_version, NULL },
		{ "guid", true, &guid, NULL },         { "allow", true, &allow, NULL },
		{ "reason", true, &reason, NULL },     { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct tg_product p = { 0 };
	char allow_buf[64], floor[TG_MAX_VERSION + 1], guid_lc[37], object[2 * TG_MAX_NAME + 2], **pos;
	char *old_min = NULL, *old_guid = NULL, *old_allow = NULL;
	int npos, tier = 0;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 2, 2, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!allow && !max_tier && !min_version && !guid)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "product set: nothing to change (--max-tier, "
						   "--min-version, --guid or --allow)"), &d);
	if (max_tier && (strlen(max_tier) != 1 || max_tier[0] < '1' || max_tier[0] > '5'))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--max-tier '%.16s': one of 1, 2, 3, 4, 5", max_tier), &d);
	tier = max_tier ? max_tier[0] - '0' : 0;
	if (min_version && strcmp(min_version, "none") != 0 &&
	    !tg_version_canonical(min_version, floor, sizeof(floor)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--min-version '%.64s' is not a version (or none)",
						min_version), &d);
	if (guid && strcmp(guid, "none") != 0 && !guid_ok(guid, guid_lc))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--guid '%.40s' is not a UUID (or none)", guid), &d);
	if (allow && !allow_parse(allow, allow_buf, sizeof(allow_buf)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--allow '%.40s': a comma list of: setuid (or none)",
						allow), &d);
	if ((r = tg_cli_text_arg("product set: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r == TG_OK)
		r = tg_rec_product_get(db, s.id, pos[1], &p, &d);
	if (r == TG_OK) {
		struct json_object *changes = json_object_new_array();
		old_min = p.min_version, old_guid = p.guid, old_allow = p.allow;
		if (max_tier && tier != p.max_tier) {
			json_object_array_add(changes, json_object_new_string("max_tier"));
			p.max_tier = tier;
		}
		if (min_version) {
			p.min_version = strcmp(min_version, "none") == 0 ? NULL : floor;
			if (!tg_str_eq0(p.min_version, old_min))
				json_object_array_add(changes, json_object_new_string("min_version"));
		}
		if (guid) {
			p.guid = strcmp(guid, "none") == 0 ? NULL : guid_lc;
			if (!tg_str_eq0(p.guid, old_guid))
				json_object_array_add(changes, json_object_new_string("guid"));
		}
		if (allow) {
			p.allow = allow_buf[0] ? allow_buf : NULL;
			if (!tg_str_eq0(p.allow, old_allow))
				json_object_array_add(changes, json_object_new_string("allow"));
		}
		detail = product_json(&p);
		json_object_object_add(detail, "changes", changes);
		tg_json_str(detail, "previous_allow", old_allow);
		tg_json_str(detail, "previous_min_version", old_min);
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s", s.name, p.name);
		if (json_object_array_length(changes) == 0)
			r = tg_fail(&d, TG_E_USAGE, "product %s: nothing changes (the record already says so)", object);
	}
	if (r == TG_OK)
		r = tg_rec_product_update(db, &p, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "product.set", object, detail, &d);
	/* p's strings that were replaced by local buffers are freed as the
	 * originals; the locals are not. */
	p.min_version = old_min, p.guid = old_guid, p.allow = old_allow;
	tg_supplier_release(&s);
	if (p.name)
		tg_product_release(&p);
	return tg_revoked_report(ctx, db, r, &d, detail, TG_IMPACT_PRODUCT, pos[0], pos[1], NULL, NULL, "product",
				 r == TG_OK ? object : pos[1]);
}

static enum tg_err print_product(const struct tg_product *p, void *ud)
{
	struct json_object *arr = ud;

	if (arr) {
		json_object_array_add(arr, product_json(p));
		return TG_OK;
	}
	printf("%s/%s  %s  tier<=%d  floor %s%s%s%s%s\n", p->supplier, p->name, p->kind, p->max_tier,
	       p->min_version ? p->min_version : "none", p->guid ? "  guid " : "", p->guid ? p->guid : "",
	       p->allow ? "  allows " : "", p->allow ? p->allow : "");
	return TG_OK;
}

/* trustgate product list [--supplier NAME] */
static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *supplier = NULL;
	const struct tg_opt opts[] = { { "supplier", true, &supplier, NULL }, { NULL, false, NULL, NULL } };
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && supplier)
		r = tg_rec_supplier_get(db, supplier, &s, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	r = tg_rec_product_each(db, s.id, print_product, arr, &d);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

struct show_rel {
	struct json_object *arr;
};

static enum tg_err show_release(const struct tg_release *rel, void *ud)
{
	struct show_rel *sr = ud;

	if (sr->arr) {
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "version", rel->version);
		tg_json_str(o, "digest", rel->digest);
		tg_json_str(o, "digest_alg", rel->digest_alg);
		tg_json_str(o, "status", rel->status);
		tg_json_str(o, "created_at", rel->created_at);
		tg_json_str(o, "revoked_at", rel->revoked_at);
		json_object_array_add(sr->arr, o);
	} else {
		printf("  release %-16s %s %s:%.16s...%s%s\n", rel->version, rel->status, rel->digest_alg, rel->digest,
		       rel->revoked_at ? " revoked " : "", rel->revoked_at ? rel->revoked_at : "");
	}
	return TG_OK;
}

/* trustgate product show SUPPLIER NAME: the record and its releases */
static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct tg_product p = { 0 };
	struct show_rel sr = { NULL };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 2, 2, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r == TG_OK)
		r = tg_rec_product_get(db, s.id, pos[1], &p, &d);
	tg_supplier_release(&s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		o = product_json(&p);
		tg_json_str(o, "created_at", p.created_at);
		sr.arr = json_object_new_array();
		json_object_object_add(o, "releases", sr.arr);
	} else {
		print_product(&p, NULL);
	}
	r = tg_rec_release_each(db, p.id, NULL, NULL, show_release, &sr, &d);
	tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (o)
		tg_cli_print_json(o);
	return TG_EXIT_OK;
}

int tg_cmd_product(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "set", cmd_set },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs),
			       "product add|set|list|show ...");
}
