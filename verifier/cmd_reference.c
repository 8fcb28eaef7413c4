/* trustgate reference import|list|revoke */
#include <string.h>

#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/records.h"
#include "../common/crypto.h"
#include "../common/version.h"
#include "../measure/eventlog.h"

/* reference import --eventlog LOG --model NAME --reason TEXT: a known-good
 * host's log becomes the golden state of its model.  Every measured event
 * (not EV_NO_ACTION) of every bank is recorded with its PCR and type. */
static int cmd_import(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	const char *log = NULL, *model = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "eventlog", true, &log, NULL },
		{ "model", true, &model, NULL },
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos, hex[2 * TG_HASH_MAX_LEN + 1], desc[320], set[65], logsum[65];
	uint8_t sum[32];
	size_t len = 0, events = 0, added = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!log || !model)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "reference import: --eventlog LOG and --model NAME are required"), &d);
	if ((r = tg_cli_name_arg("--model", model, &d)) != TG_OK ||
	    (r = tg_cli_text_arg("reference import: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(log, TG_MAX_EVENTLOG, &buf, &len, &d);
	if (r == TG_OK)
		r = tg_eventlog_parse(tg_span_make(buf, len), log, &el, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	for (size_t i = 0; i < el->nevents && r == TG_OK; i++) {
		const struct tg_event *e = &el->events[i];
		if (e->type == TG_EV_NO_ACTION || e->pcr >= TG_EL_PCRS)
			continue;
		events++;
		tg_event_describe(e, desc, sizeof(desc));
		for (size_t b = 0; b < el->nbanks && r == TG_OK; b++) {
			bool was_added = false;
			if (!e->digest[b].p)
				continue;
			tg_hex_encode(e->digest[b].p, e->digest[b].len, hex);
			struct tg_reference ref = {
				.model = (char *)model, .pcr = (int)e->pcr,
				.alg = (char *)tg_hash_name(el->banks[b].hash), .digest = hex,
				.event_type = e->type, .description = desc,
			};
			r = tg_rec_reference_add(db, &ref, &was_added, &d);
			added += was_added;
		}
	}
	if (r == TG_OK)
		r = tg_rec_reference_set_digest(db, model, set, &d);
	if (r != TG_OK) {
		tg_db_rollback(db);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_digest(TG_HASH_SHA256, buf, len, sum);
	tg_hex_encode(sum, 32, logsum);
	detail = json_object_new_object();
	tg_json_str(detail, "model", model);
	tg_json_str(detail, "eventlog_sha256", logsum);
	json_object_object_add(detail, "events", json_object_new_int64((int64_t)events));
	json_object_object_add(detail, "added", json_object_new_int64((int64_t)added));
	tg_json_str(detail, "set_digest", set);
	tg_json_str(detail, "reason", reason);
	r = tg_cli_audit_commit(ctx, db, "reference.import", model, detail, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("model %s: %zu measured events, %zu new reference values\n", model, events, added);
	return TG_EXIT_OK;
}

/* ------------------------------------------------------------ revoke */

struct revoke_ctx {
	struct json_object *models, *releases, *hosts;
};

static bool in_list(struct json_object *arr, const char *s)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return true;
	return false;
}

static void add_unique(struct json_object *arr, const char *s)
{
	if (s && !in_list(arr, s))
		json_object_array_add(arr, json_object_new_string(s));
}

/* The models and releases whose reference values carry this digest (or
 * belong to this model / release) and are not revoked yet, with the
 * release's id for its set digest. */
static enum tg_err affected(struct tg_db *db, const char *model, int64_t release_id, const char *alg,
			    const char *digest, struct revoke_ctx *rc, struct json_object *release_ids,
			    struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT DISTINCT f.model, f.release_id, s.name || '/' || p.name || '/' || rl.version "
					  "FROM reference f LEFT JOIN release rl ON rl.id = f.release_id "
					  "LEFT JOIN product p ON p.id = rl.product_id LEFT JOIN supplier s ON s.id = p.supplier_id "
					  "WHERE f.revoked_at IS NULL AND ((?1 IS NOT NULL AND f.model = ?1) OR "
					  "(?2 > 0 AND f.release_id = ?2) OR (?3 IS NOT NULL AND f.alg = ?3 AND f.digest = ?4)) "
					  "ORDER BY 1, 3;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, model);
	tg_db_bind_int(st, 2, release_id);
	tg_db_bind_text(st, 3, alg);
	tg_db_bind_text(st, 4, digest);
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			return r;
		const char *m = tg_db_col_str(st, 0);
		const char *rel = tg_db_col_str(st, 2);
		add_unique(rc->models, m);
		if (rel && !in_list(rc->releases, rel)) {
			add_unique(rc->releases, rel);
			json_object_array_add(release_ids, json_object_new_int64(tg_db_col_int(st, 1)));
		}
	}
}

/* Hosts that relied on the values: enrolled hosts of an affected model;
 * when release values are withdrawn, every enrolled host whose last
 * attestation was TRUSTED may have matched one of them. */
static enum tg_err affected_hosts(struct tg_db *db, struct revoke_ctx *rc, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT h.name, h.model FROM host h WHERE h.status = 'enrolled' AND "
					  "(?1 <> 0 OR (SELECT result FROM verdict v WHERE v.command = 'attest' AND "
					  "v.subject_path = h.name ORDER BY v.id DESC LIMIT 1) = 'trusted') ORDER BY h.name;",
				      &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, json_object_array_length(rc->releases) == 0);
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			return r;
		const char *name = tg_db_col_str(st, 0);
		const char *m = tg_db_col_str(st, 1);
		if (json_object_array_length(rc->releases) || (m && in_list(rc->models, m)))
			add_unique(rc->hosts, name);
	}
}

/* trustgate reference revoke (--digest ALG:HEX | --model NAME |
 *     --release SUPPLIER/PRODUCT/VERSION) --reason TEXT
 * Values are marked revoked, not deleted; every model and release whose
 * set changes gets an audit row with its new set digest (db/integrity.c
 * re-derives them), and a revoked digest joins the deny list with its own
 * audit row. */
static int cmd_revoke(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = json_object_new_object(), *release_ids = json_object_new_array();
	const char *digest = NULL, *model = NULL, *release = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "digest", true, &digest, NULL }, { "model", true, &model, NULL },
		{ "release", true, &release, NULL }, { "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	_cleanup_json_ struct json_object *hosts = json_object_new_array();
	struct revoke_ctx rc = { json_object_new_array(), json_object_new_array(), hosts };
	struct tg_diag d = { { 0 } };
	char alg[16] = "", hex[129] = "", set[65], object[160], **pos;
	int64_t release_id = 0;
	size_t count = 0;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	json_object_object_add(detail, "models", rc.models);
	json_object_object_add(detail, "releases", rc.releases);
	if (r == TG_OK && !!digest + !!model + !!release != 1)
		r = tg_fail(&d, TG_E_USAGE, "reference revoke: give exactly one of --digest ALG:HEX, --model NAME, "
					    "--release SUPPLIER/PRODUCT/VERSION");
	if (r == TG_OK && digest && !tg_digest_parse(digest, true, alg, hex))
		r = tg_fail(&d, TG_E_USAGE, "--digest '%.40s': ALG:HEX with ALG sha1, sha256, sha384, sha512 or sm3 and "
					    "HEX of its length", digest);
	if (r == TG_OK && model)
		r = tg_cli_name_arg("--model", model, &d);
	if (r == TG_OK)
		r = tg_cli_text_arg("reference revoke: --reason TEXT", reason, TG_MAX_REASON, &d);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK && release) {
		/* SUPPLIER/PRODUCT/VERSION: names cannot hold '/', versions can't either */
		char buf[3 * TG_MAX_NAME + 8], vbuf[TG_MAX_VERSION + 1];
		char *p1, *p2;
		struct tg_supplier s = { 0 };
		struct tg_product p = { 0 };
		struct tg_release rel = { 0 };
		snprintf(buf, sizeof(buf), "%s", release);
		p1 = strchr(buf, '/');
		p2 = p1 ? strchr(p1 + 1, '/') : NULL;
		if (!p2 || strchr(p2 + 1, '/'))
			r = tg_fail(&d, TG_E_USAGE, "--release: SUPPLIER/PRODUCT/VERSION");
		else {
			*p1 = *p2 = '\0';
			if (!tg_version_canonical(p2 + 1, vbuf, sizeof(vbuf)))
				r = tg_fail(&d, TG_E_USAGE, "--release: '%.64s' is not a version", p2 + 1);
			if (r == TG_OK)
				r = tg_rec_supplier_get(db, buf, &s, &d);
			if (r == TG_OK)
				r = tg_rec_product_get(db, s.id, p1 + 1, &p, &d);
			if (r == TG_OK)
				r = tg_rec_release_get(db, p.id, vbuf, &rel, &d);
			if (r == TG_OK)
				release_id = rel.id;
		}
		tg_supplier_release(&s);
		if (p.name)
			tg_product_release(&p);
		tg_release_release(&rel);
	}
	if (r == TG_OK && digest) {
		char **denied = NULL, key[150];
		size_t n = 0;
		r = tg_rec_measurement_denied(db, &denied, &n, &d);
		snprintf(key, sizeof(key), "%s:%s", alg, hex);
		for (size_t i = 0; i < n; i++) {
			if (r == TG_OK && strcmp(denied[i], key) == 0)
				r = tg_fail(&d, TG_E_USAGE, "%s is already a revoked measurement", key);
			free(denied[i]);
		}
		free(denied);
	}
	if (r == TG_OK)
		r = affected(db, model, release_id, digest ? alg : NULL, digest ? hex : NULL, &rc, release_ids, &d);
	if (r == TG_OK)
		r = tg_rec_reference_revoke(db, model, release_id, digest ? alg : NULL, digest ? hex : NULL, &count, &d);
	if (r == TG_OK && count == 0 && !digest)
		r = tg_fail(&d, TG_E_USAGE, "reference revoke: %s has no reference value left to revoke",
			    model ? model : release);
	/* One audit row per changed set, carrying the set's new digest. */
	for (size_t i = 0; r == TG_OK && i < json_object_array_length(rc.models); i++) {
		const char *m = json_object_get_string(json_object_array_get_idx(rc.models, i));
		_cleanup_json_ struct json_object *row = json_object_new_object();
		r = tg_rec_reference_set_digest(db, m, set, &d);
		tg_json_str(row, "model", m);
		tg_json_str(row, "set_digest", set);
		tg_json_str(row, "by", digest ? "digest" : "model");
		if (digest)
			tg_json_str(row, "measurement", digest);
		tg_json_str(row, "reason", reason);
		if (r == TG_OK && (digest || release))
			r = tg_audit_append(db, ctx->actor, "reference.revoke", m, json_object_to_json_string_ext(row,
					    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), &d);
		if (r == TG_OK && model)
			json_object_object_add(detail, "set_digest", json_object_new_string(set));
	}
	for (size_t i = 0; r == TG_OK && i < json_object_array_length(rc.releases); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(rc.releases, i));
		int64_t rid = json_object_get_int64(json_object_array_get_idx(release_ids, i));
		_cleanup_json_ struct json_object *row = json_object_new_object();
		r = tg_rec_release_reference_set_digest(db, rid, set, &d);
		tg_json_str(row, "release", name);
		tg_json_str(row, "reference_set", set);
		tg_json_str(row, "by", digest ? "digest" : "release");
		tg_json_str(row, "reason", reason);
		if (r == TG_OK && (digest || model))
			r = tg_audit_append(db, ctx->actor, "release.references_revoked", name,
					    json_object_to_json_string_ext(row, JSON_C_TO_STRING_PLAIN |
									       JSON_C_TO_STRING_NOSLASHESCAPE), &d);
		if (r == TG_OK && release)
			json_object_object_add(detail, "reference_set", json_object_new_string(set));
	}
	if (r == TG_OK && digest)
		r = tg_rec_measurement_deny(db, alg, hex, reason, &d);
	json_object_object_add(detail, "revoked_values", json_object_new_int64((int64_t)count));
	tg_json_str(detail, "reason", reason);
	if (r == TG_OK) {
		const char *action = digest ? "reference.deny" : model ? "reference.revoke" : "release.references_revoked";
		if (digest) {
			snprintf(object, sizeof(object), "%s:%s", alg, hex);
			tg_json_str(detail, "alg", alg);
			tg_json_str(detail, "digest", hex);
		} else {
			/* the release as recorded (canonical version): its history's name */
			snprintf(object, sizeof(object), "%s", model ? model :
				 json_object_get_string(json_object_array_get_idx(rc.releases, 0)));
			tg_json_str(detail, model ? "model" : "release", object);
		}
		r = tg_cli_audit_commit(ctx, db, action, object, detail, &d);
	} else if (db) {
		tg_db_rollback(db);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	/* What relied on the values: the hosts that attest against them. */
	r = affected_hosts(db, &rc, &d);
	if (ctx->json) {
		json_object_object_add(detail, "impact", json_object_new_object());
		struct json_object *imp = NULL;
		json_object_object_get_ex(detail, "impact", &imp);
		json_object_object_add(imp, "hosts", json_object_get(rc.hosts));
		tg_cli_print_json(detail);
	} else {
		printf("%zu reference value%s revoked (%s)%s\n", count, count == 1 ? "" : "s", object,
		       digest ? "; the digest is refused from now on, whatever reference carries it" : "");
		for (size_t i = 0; i < json_object_array_length(rc.hosts); i++)
			printf("  host %s relied on it: it attests UNTRUSTED from now on if it measures it\n",
			       json_object_get_string(json_object_array_get_idx(rc.hosts, i)));
	}
	return r == TG_OK ? TG_EXIT_OK : tg_cli_fail(ctx, r, &d);
}

struct list_ctx {
	struct json_object *arr;
	const char *release;      /* SUPPLIER/PRODUCT/VERSION, or NULL for all */
};

static enum tg_err list_one(const struct tg_reference *r, void *ud)
{
	const struct list_ctx *lc = ud;
	struct json_object *arr = lc->arr;

	if (lc->release && (!r->release || strcmp(r->release, lc->release) != 0))
		return TG_OK;
	if (arr) {
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "model", r->model);
		tg_json_str(o, "release", r->release);
		json_object_object_add(o, "pcr", json_object_new_int(r->pcr));
		tg_json_str(o, "alg", r->alg);
		tg_json_str(o, "digest", r->digest);
		json_object_object_add(o, "event_type", json_object_new_string(tg_event_type_name(r->event_type)));
		tg_json_str(o, "description", r->description);
		json_object_object_add(o, "revoked", json_object_new_boolean(r->revoked));
		json_object_array_add(arr, o);
	} else {
		printf("PCR%-2d %-7s %s %-34s %s  [%s]%s\n", r->pcr, r->alg, r->digest, tg_event_type_name(r->event_type),
		       r->description ? r->description : "", r->model ? r->model : r->release, r->revoked ? " REVOKED" : "");
	}
	return TG_OK;
}

static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *model = NULL, *release = NULL;
	const struct tg_opt opts[] = {
		{ "model", true, &model, NULL },
		{ "release", true, &release, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && model && release)
		r = tg_fail(&d, TG_E_USAGE, "reference list: --model or --release, not both");
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	/* Without --model: the references of approved releases (`release add
	 * --file`), all or those of one release. */
	struct list_ctx lc = { arr, release };
	r = tg_rec_reference_each(db, model, model == NULL, -1, list_one, &lc, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

int tg_cmd_reference(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "import", cmd_import },
		{ "list", cmd_list },
		{ "revoke", cmd_revoke },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "reference import|list|revoke ...");
}
