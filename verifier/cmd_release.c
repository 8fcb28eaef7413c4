/* trustgate release add|revoke */
#include <string.h>

#include "cli.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/version.h"
#include "../db/records.h"

/* "ALG:HEX" with a digest algorithm strong enough to name a release
 * (no SHA-1: a collision would approve a second artifact, THREATS 35). */
static bool parse_digest(const char *s, char alg[16], char hex[129])
{
	const char *colon = strchr(s, ':');
	uint8_t raw[64];
	size_t n = 0;

	if (!colon || colon - s >= 16)
		return false;
	memcpy(alg, s, (size_t)(colon - s));
	alg[colon - s] = '\0';
	enum tg_hash h = tg_hash_from_name(alg);
	if (h == TG_HASH_NONE || h == TG_HASH_SHA1)
		return false;
	if (!tg_hex_decode(colon + 1, raw, sizeof(raw), &n) || n != tg_hash_len(h))
		return false;
	tg_hex_encode(raw, n, hex);
	return true;
}

static enum tg_err load_product(struct tg_db *db, const char *supplier, const char *product,
				struct tg_product *ret, struct tg_diag *d)
{
	struct tg_supplier s = { 0 };
	enum tg_err r = tg_rec_supplier_get(db, supplier, &s, d);

	if (r == TG_OK)
		r = tg_rec_product_get(db, s.id, product, ret, d);
	tg_supplier_release(&s);
	return r;
}

static int cmd_add(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *file = NULL, *digest = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "file", true, &file, NULL },
		{ "digest", true, &digest, NULL },
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_product p = { 0 };
	struct tg_release rel = { 0 };
	char alg[16], hex[129], now[32], object[3 * TG_MAX_NAME + 8], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 3, 3, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!!file == !!digest)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "release add: give exactly one of --file PATH or --digest ALG:HEX"), &d);
	if (!reason || !tg_cli_text_ok(reason, TG_MAX_REASON))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "release add: --reason TEXT is required"), &d);
	if (!tg_version_valid(pos[2]))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "'%s' is not a version", pos[2]), &d);
	if (digest && !parse_digest(digest, alg, hex))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--digest '%s': use sha256:HEX, sha384:HEX, sha512:HEX or sm3:HEX", digest), &d);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && file) {
		uint8_t raw[32];
		r = tg_file_digest(file, TG_HASH_SHA256, raw, NULL, &d);
		strcpy(alg, "sha256");
		tg_hex_encode(raw, 32, hex);
	}
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = load_product(db, pos[0], pos[1], &p, &d);
	if (r == TG_OK) {
		tg_now_iso(now);
		rel.product_id = p.id;
		rel.version = pos[2];
		rel.digest_alg = alg;
		rel.digest = hex;
		rel.created_at = now;
		r = tg_rec_release_insert(db, &rel, &d);
	}
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "supplier", p.supplier);
		tg_json_str(detail, "product", p.name);
		tg_json_str(detail, "version", pos[2]);
		tg_json_str(detail, "digest_alg", alg);
		tg_json_str(detail, "digest", hex);
		tg_json_str(detail, "status", "approved");
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s/%s", p.supplier, p.name, pos[2]);
		r = tg_cli_audit_commit(ctx, db, "release.add", object, detail, &d);
	}
	tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("release %s/%s %s approved (%s:%s)\n", pos[0], pos[1], pos[2], alg, hex);
	return TG_EXIT_OK;
}

static int cmd_revoke(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	const char *reason = NULL;
	const struct tg_opt opts[] = {
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_product p = { 0 };
	struct tg_release rel = { 0 };
	char now[32], object[3 * TG_MAX_NAME + 8], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 3, 3, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!reason || !tg_cli_text_ok(reason, TG_MAX_REASON))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "release revoke: --reason TEXT is required"), &d);
	tg_now_iso(now);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = load_product(db, pos[0], pos[1], &p, &d);
	if (r == TG_OK)
		r = tg_rec_release_get(db, p.id, pos[2], &rel, &d);
	if (r == TG_OK && strcmp(rel.status, "revoked") == 0)
		r = tg_fail(&d, TG_E_USAGE, "release %s was already revoked", pos[2]);
	if (r == TG_OK)
		r = tg_rec_release_revoke(db, rel.id, now, &d);
	if (r == TG_OK) {
		detail = json_object_new_object();
		tg_json_str(detail, "supplier", p.supplier);
		tg_json_str(detail, "product", p.name);
		tg_json_str(detail, "version", pos[2]);
		tg_json_str(detail, "status", "revoked");
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s/%s", p.supplier, p.name, pos[2]);
		r = tg_cli_audit_commit(ctx, db, "release.revoke", object, detail, &d);
	}
	tg_product_release(&p);
	tg_release_release(&rel);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("release %s/%s %s revoked\n", pos[0], pos[1], pos[2]);
	return TG_EXIT_OK;
}

int tg_cmd_release(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "revoke", cmd_revoke },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "release add|revoke SUPPLIER PRODUCT VERSION ...");
}
