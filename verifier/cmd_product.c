/* trustgate product add|list */
#include <ctype.h>
#include <string.h>

#include "cli.h"
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

/* trustgate product set SUPPLIER NAME --allow LIST|none --reason TEXT */
static int cmd_set(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *allow = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "allow", true, &allow, NULL }, { "reason", true, &reason, NULL }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_supplier s = { 0 };
	struct tg_product p = { 0 };
	char allow_buf[64], object[2 * TG_MAX_NAME + 2], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 2, 2, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!allow)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "product set: --allow LIST|none is required"), &d);
	if (!allow_parse(allow, allow_buf, sizeof(allow_buf)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--allow '%s': a comma list of: setuid (or none)", allow), &d);
	if ((r = tg_cli_text_arg("product set: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_rec_supplier_get(db, pos[0], &s, &d);
	if (r == TG_OK)
		r = tg_rec_product_get(db, s.id, pos[1], &p, &d);
	if (r == TG_OK)
		r = tg_rec_product_set_allow(db, p.id, allow_buf[0] ? allow_buf : NULL, &d);
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "supplier", s.name);
		tg_json_str(detail, "name", p.name);
		tg_json_str(detail, "allow", allow_buf[0] ? allow_buf : NULL);
		tg_json_str(detail, "previous_allow", p.allow);
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s", s.name, p.name);
		r = tg_cli_audit_commit(ctx, db, "product.set", object, detail, &d);
	}
	tg_supplier_release(&s);
	if (p.name)
		tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("product %s/%s now allows %s\n", pos[0], pos[1], allow_buf[0] ? allow_buf : "nothing");
	return TG_EXIT_OK;
}

int tg_cmd_product(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "set", cmd_set },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs),
			       "product add SUPPLIER NAME --kind K [--allow setuid] --reason TEXT | "
			       "set SUPPLIER NAME --allow LIST|none --reason TEXT");
}
