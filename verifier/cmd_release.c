/* trustgate release add|revoke|list|show */
#include <string.h>

#include "cli.h"
#include "reevaluate.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/version.h"
#include "../common/limits.h"
#include "../db/records.h"
#include "../firmware/fit.h"
#include "../firmware/refs.h"

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
	struct tg_refs refs = { 0 };
	_cleanup_free_ uint8_t *buf = NULL;
	char alg[16], hex[129], now[32], object[3 * TG_MAX_NAME + 8], set[65], **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 3, 3, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!!file == !!digest)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "release add: give exactly one of --file PATH or --digest ALG:HEX"), &d);
	if ((r = tg_cli_text_arg("release add: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	char version[TG_MAX_VERSION + 1];
	if (!tg_version_canonical(pos[2], version, sizeof(version)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "'%s' is not a version", pos[2]), &d);
	pos[2] = version;  /* stored and reported in its canonical spelling */
	if (digest && !tg_digest_parse(digest, false, alg, hex))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--digest '%s': use sha256:HEX, sha384:HEX, sha512:HEX or sm3:HEX", digest), &d);

	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && file) {
		/* Firmware a measured boot loads (a FIT, a PE/COFF image) also
		 * gives the measurements it will produce; anything else only its
		 * digest, streamed. */
		uint8_t raw[32], head[64] = { 0 };
		size_t len = 0;
		FILE *f = fopen(file, "rb");
		size_t hn = f ? fread(head, 1, sizeof(head), f) : 0;
		if (f)
			fclose(f);
		/* "MZ" only: the PE header may lie beyond these 64 bytes. */
		bool fw = tg_fit_magic(head, hn) || (hn >= 2 && head[0] == 'M' && head[1] == 'Z');
		if (fw) {
			r = tg_file_read(file, TG_MAX_FIT_FILE, &buf, &len, &d);
			if (r == TG_OK)
				r = tg_digest(TG_HASH_SHA256, buf, len, raw);
			if (r == TG_OK)
				r = tg_refs_compute(buf, len, file, &refs, &d);
		} else {
			r = tg_file_digest(file, TG_HASH_SHA256, raw, NULL, &d);
		}
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
	set[0] = '\0';
	if (r == TG_OK && refs.n) {
		struct tg_release got = { 0 };
		r = tg_rec_release_get(db, p.id, pos[2], &got, &d);
		for (size_t i = 0; r == TG_OK && i < refs.n; i++) {
			struct tg_reference ref = { .pcr = refs.m[i].pcr, .alg = (char *)tg_hash_name(refs.m[i].alg),
						    .digest = refs.m[i].digest, .event_type = refs.m[i].event_type,
						    .description = refs.m[i].description };
			r = tg_rec_reference_add_release(db, got.id, &ref, &d);
		}
		/* The audit row names the set, so a reference row added or
		 * edited later with sqlite3 is RECORD_TAMPERED at attestation. */
		if (r == TG_OK)
			r = tg_rec_release_reference_set_digest(db, got.id, set, &d);
		tg_release_release(&got);
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
		if (refs.n) {
			struct json_object *a = json_object_new_array();
			for (size_t i = 0; i < refs.n; i++) {
				struct json_object *m = json_object_new_object();
				json_object_object_add(m, "pcr", json_object_new_int(refs.m[i].pcr));
				json_object_object_add(m, "event_type", json_object_new_int64(refs.m[i].event_type));
				tg_json_str(m, "alg", tg_hash_name(refs.m[i].alg));
				tg_json_str(m, "digest", refs.m[i].digest);
				tg_json_str(m, "description", refs.m[i].description);
				json_object_array_add(a, m);
			}
			tg_json_str(detail, "measured_as", refs.kind);
			json_object_object_add(detail, "references", a);
			tg_json_str(detail, "reference_set", set);
		}
		snprintf(object, sizeof(object), "%s/%s/%s", p.supplier, p.name, pos[2]);
		r = tg_cli_audit_commit(ctx, db, "release.add", object, detail, &d);
	}
	tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("release %s/%s %s approved (%s:%s)%s\n", pos[0], pos[1], pos[2], alg, hex,
		       refs.n ? ", with its boot measurements" : "");
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
	if ((r = tg_cli_text_arg("release revoke: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_now_iso(now);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = load_product(db, pos[0], pos[1], &p, &d);
	if (r == TG_OK)
		r = tg_rec_release_get(db, p.id, pos[2], &rel, &d);
	/* The release as recorded (an equal spelling finds it): its own
	 * version names it in the audit history. */
	char version[TG_MAX_VERSION + 1];
	if (r == TG_OK) {
		snprintf(version, sizeof(version), "%s", rel.version);
		pos[2] = version;
	}
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
		tg_json_str(detail, "digest_alg", rel.digest_alg);
		tg_json_str(detail, "digest", rel.digest);
		tg_json_str(detail, "reason", reason);
		snprintf(object, sizeof(object), "%s/%s/%s", p.supplier, p.name, pos[2]);
		r = tg_cli_audit_commit(ctx, db, "release.revoke", object, detail, &d);
	}
	char digest[129] = "";
	if (r == TG_OK && strcmp(rel.digest_alg, "sha256") == 0)
		snprintf(digest, sizeof(digest), "%s", rel.digest);
	int code = tg_revoked_report(ctx, db, r, &d, detail, TG_IMPACT_RELEASE, p.supplier, p.name, pos[2],
				     digest[0] ? digest : NULL, "release", r == TG_OK ? object : pos[2]);
	tg_product_release(&p);
	tg_release_release(&rel);
	return code;
}

static struct json_object *release_json(const struct tg_release *rel)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "supplier", rel->supplier);
	tg_json_str(o, "product", rel->product);
	tg_json_str(o, "version", rel->version);
	tg_json_str(o, "digest_alg", rel->digest_alg);
	tg_json_str(o, "digest", rel->digest);
	tg_json_str(o, "status", rel->status);
	tg_json_str(o, "created_at", rel->created_at);
	tg_json_str(o, "revoked_at", rel->revoked_at);
	return o;
}

struct rel_filter {
	struct json_object *arr;
	const char *supplier, *status;
};

static enum tg_err list_one(const struct tg_release *rel, void *ud)
{
	struct rel_filter *f = ud;

	if (f->supplier && strcmp(f->supplier, rel->supplier) != 0)
		return TG_OK;
	if (f->status && strcmp(f->status, rel->status) != 0)
		return TG_OK;
	if (f->arr)
		json_object_array_add(f->arr, release_json(rel));
	else
		printf("%s/%s/%s  %s  %s:%s%s%s\n", rel->supplier, rel->product, rel->version, rel->status,
		       rel->digest_alg, rel->digest, rel->revoked_at ? "  revoked " : "",
		       rel->revoked_at ? rel->revoked_at : "");
	return TG_OK;
}

/* trustgate release list [--supplier NAME [--product NAME]] [--status approved|revoked] */
static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *supplier = NULL, *product = NULL, *status = NULL;
	const struct tg_opt opts[] = {
		{ "supplier", true, &supplier, NULL }, { "product", true, &product, NULL },
		{ "status", true, &status, NULL },     { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_product p = { 0 };
	struct rel_filter f = { NULL };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (product && !supplier)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "release list: --product needs --supplier (product names "
						   "are per supplier)"), &d);
	if (status && strcmp(status, "approved") && strcmp(status, "revoked"))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--status '%.32s': one of approved, revoked", status), &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && product)
		r = load_product(db, supplier, product, &p, &d);
	else if (r == TG_OK && supplier) {
		struct tg_supplier s = { 0 };
		r = tg_rec_supplier_get(db, supplier, &s, &d);
		tg_supplier_release(&s);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	f.arr = arr;
	f.supplier = supplier;
	f.status = status;
	r = tg_rec_release_each(db, p.id, NULL, NULL, list_one, &f, &d);
	if (p.name)
		tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

/* trustgate release show SUPPLIER PRODUCT VERSION: the record and the
 * reference measurements it produces */
static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_product p = { 0 };
	struct tg_release rel = { 0 };
	char version[TG_MAX_VERSION + 1], **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 3, 3, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!tg_version_canonical(pos[2], version, sizeof(version)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "'%.64s' is not a version", pos[2]), &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = load_product(db, pos[0], pos[1], &p, &d);
	if (r == TG_OK)
		r = tg_rec_release_get(db, p.id, version, &rel, &d);
	if (p.name)
		tg_product_release(&p);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!rel.supplier) {
		rel.supplier = strdup(pos[0]);
		rel.product = strdup(pos[1]);
	}
	o = release_json(&rel);
	if (ctx->json)
		tg_cli_print_json(o);
	else
		list_one(&rel, &(struct rel_filter){ NULL });
	tg_release_release(&rel);
	return TG_EXIT_OK;
}

int tg_cmd_release(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "add", cmd_add },
		{ "revoke", cmd_revoke },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "release add|revoke|list|show ...");
}
