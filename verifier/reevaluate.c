/* Revocation impact and re-evaluation (reevaluate.h). */
#include <string.h>


#include "reevaluate.h"
#include "notify.h"
#include "attest.h"
#include "evidence.h"
#include "policy.h"
#include "../common/encoding.h"
#include "../common/reasons.h"

/* Verdicts in force: approved checks and re-evaluations no re-evaluation
 * superseded. */
#define IN_FORCE "v.result = 'approved' AND v.command IN ('check', 'reevaluate') " \
		 "AND NOT EXISTS (SELECT 1 FROM verdict w WHERE w.supersedes = v.id)"

/* One statement per kind: each uses an index on verdict. */
static const char *const impact_sql[] = {
	[TG_IMPACT_KEY] = "SELECT v.id, v.time, v.kind, v.subject_path, v.subject_sha256, v.supplier, v.product, "
			  "v.version FROM verdict v WHERE v.key_fingerprint = ?1 AND " IN_FORCE " ORDER BY v.id;",
	[TG_IMPACT_SUPPLIER] = "SELECT v.id, v.time, v.kind, v.subject_path, v.subject_sha256, v.supplier, v.product, "
			       "v.version FROM verdict v WHERE v.supplier = ?1 AND " IN_FORCE " ORDER BY v.id;",
	[TG_IMPACT_PRODUCT] = "SELECT v.id, v.time, v.kind, v.subject_path, v.subject_sha256, v.supplier, v.product, "
			      "v.version FROM verdict v WHERE v.supplier = ?1 AND v.product = ?2 AND " IN_FORCE
			      " ORDER BY v.id;",
	/* A revoked release's bytes approved under any name count too. */
	[TG_IMPACT_RELEASE] = "SELECT v.id, v.time, v.kind, v.subject_path, v.subject_sha256, v.supplier, v.product, "
			      "v.version FROM verdict v WHERE ((v.supplier = ?1 AND v.product = ?2 AND v.version = ?3) "
			      "OR v.subject_sha256 = ?4) AND " IN_FORCE " ORDER BY v.id;",
};

enum tg_err tg_impact(struct tg_db *db, enum tg_impact_kind kind, const char *a, const char *b, const char *c,
		      const char *digest, struct json_object **ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct json_object *vs = json_object_new_array(), *rels = json_object_new_array();
	bool row = false;
	enum tg_err r = tg_db_prepare(db, impact_sql[kind], &st, d);

	json_object_object_add(o, "verdicts", vs);
	json_object_object_add(o, "releases", rels);
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, a);
	tg_db_bind_text(st, 2, b);
	tg_db_bind_text(st, 3, c);
	tg_db_bind_text(st, 4, digest);
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK)
			return r;
		if (!row)
			break;
		struct json_object *v = json_object_new_object();
		const char *f[8];
		for (int i = 1; i < 8; i++)
			f[i] = tg_db_col_str(st, i);
		json_object_object_add(v, "id", json_object_new_int64(tg_db_col_int(st, 0)));
		tg_json_str(v, "time", f[1]);
		tg_json_str(v, "kind", f[2]);
		tg_json_str(v, "path", f[3]);
		tg_json_str(v, "sha256", f[4]);
		tg_json_str(v, "supplier", f[5]);
		tg_json_str(v, "product", f[6]);
		tg_json_str(v, "version", f[7]);
		json_object_array_add(vs, v);
		/* The releases those verdicts approved, once each. */
		if (f[5] && f[6] && f[7]) {
			char name[3 * TG_MAX_NAME + 8];
			bool seen = false;
			snprintf(name, sizeof(name), "%s/%s/%s", f[5], f[6], f[7]);
			for (size_t i = 0; i < json_object_array_length(rels) && !seen; i++)
				seen = strcmp(json_object_get_string(json_object_array_get_idx(rels, i)), name) == 0;
			if (!seen)
				json_object_array_add(rels, json_object_new_string(name));
		}
	}
	*ret = TAKE_PTR(o);
	return TG_OK;
}

void tg_impact_print(struct json_object *impact)
{
	struct json_object *vs = tg_jget(impact, "verdicts"), *rels = tg_jget(impact, "releases");
	size_t nv = vs ? json_object_array_length(vs) : 0, nr = rels ? json_object_array_length(rels) : 0;

	if (nv == 0) {
		printf("no approved verdict in force relied on it\n");
		return;
	}
	printf("relied on it: %zu approved verdict%s in force, %zu release%s (run 'trustgate reevaluate' to "
	       "re-decide them)\n", nv, nv == 1 ? "" : "s", nr, nr == 1 ? "" : "s");
	for (size_t i = 0; i < nv; i++) {
		struct json_object *v = json_object_array_get_idx(vs, i);
		printf("  verdict %lld  %s  %s  %s%s%s%s%s\n", (long long)json_object_get_int64(tg_jget(v, "id")),
		       tg_jstr(v, "time") ? tg_jstr(v, "time") : "", tg_jstr(v, "path") ? tg_jstr(v, "path") : "",
		       tg_jstr(v, "supplier") ? tg_jstr(v, "supplier") : "-", tg_jstr(v, "product") ? "/" : "",
		       tg_jstr(v, "product") ? tg_jstr(v, "product") : "", tg_jstr(v, "version") ? " " : "",
		       tg_jstr(v, "version") ? tg_jstr(v, "version") : "");
	}
	for (size_t i = 0; i < nr; i++)
		printf("  release %s\n", json_object_get_string(json_object_array_get_idx(rels, i)));
}

int tg_revoked_report(struct tg_ctx *ctx, struct tg_db *db, enum tg_err r, struct tg_diag *d,
		      struct json_object *detail, enum tg_impact_kind kind, const char *a, const char *b,
		      const char *c, const char *digest, const char *what, const char *name)
{
	_cleanup_json_ struct json_object *impact = NULL;

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, d);
	/* The change is committed: an error from here on is said, and the
	 * exit status says it (the change stands). */
	r = tg_impact(db, kind, a, b, c, digest, &impact, d);
	if (ctx->json) {
		if (impact)
			json_object_object_add(detail, "impact", json_object_get(impact));
		tg_cli_print_json(detail);
	} else {
		printf("%s %s changed\n", what, name);
		if (impact)
			tg_impact_print(impact);
	}
	if (r != TG_OK) {
		fprintf(stderr, "trustgate: %s %s changed, but what relied on it could not be listed: %s\n", what, name,
			d->msg[0] ? d->msg : tg_strerror(r));
		return TG_EXIT_ERROR;
	}
	return TG_EXIT_OK;
}

/* ------------------------------------------------------------ redecide */

/* The policy again, for one recorded verdict, from its facts and the
 * records as they are now.  *skipped when the verdict carries no facts
 * (recorded before they were kept). */
static enum tg_err redecide(struct tg_db *db, struct json_object *old, struct tg_verdict *v, bool *skipped,
			    struct tg_diag *d)
{
	struct json_object *facts = tg_jget(old, "facts"), *key = tg_jget(old, "key"), *subj = tg_jget(old, "subject");
	struct json_object *pol = tg_jget(old, "policy"), *purp = tg_jget(facts, "purposes"), *dg = tg_jget(facts, "digests");
	const char *purposes[8] = { NULL };
	struct tg_findings f = { 0 };
	struct tg_keyrec k = { 0 };
	enum tg_err r = TG_OK;

	*skipped = !facts || !subj || !pol || !tg_jstr(old, "kind") || !dg || !json_object_is_type(dg, json_type_object);
	if (*skipped)
		return TG_OK;
	v->kind = tg_jstr(old, "kind");
	v->path = tg_jstr(subj, "path");
	v->size = (uint64_t)json_object_get_int64(tg_jget(subj, "size"));
	snprintf(v->sha256, sizeof(v->sha256), "%s", tg_jstr(subj, "sha256") ? tg_jstr(subj, "sha256") : "");
	v->tier = json_object_get_int(tg_jget(pol, "tier"));
	v->cii = json_object_get_boolean(tg_jget(pol, "cii"));
	v->gm = json_object_get_boolean(tg_jget(pol, "gm"));
	f.sig_given = json_object_get_boolean(tg_jget(facts, "sig_given"));
	f.sig_hash = tg_hash_from_name(tg_jstr(facts, "sig_hash") ? tg_jstr(facts, "sig_hash") : "");
	f.scheme = tg_scheme_from_name(tg_jstr(facts, "scheme"));
	for (size_t i = 0; purp && i < json_object_array_length(purp) && i + 1 < TG_ARRAY_SIZE(purposes); i++)
		purposes[i] = json_object_get_string(json_object_array_get_idx(purp, i));
	f.purposes = purposes;
	json_object_object_foreach(dg, alg, hex) {
		enum tg_hash h = tg_hash_from_name(alg);
		if (h != TG_HASH_NONE && json_object_is_type(hex, json_type_string))
			snprintf(f.digest[h], sizeof(f.digest[h]), "%s", json_object_get_string(hex));
	}
	f.product = tg_jstr(facts, "product");
	f.version = tg_jstr(facts, "version");
	/* The signer as the records hold it now: revoked, expired, moved. */
	if (key && tg_jstr(key, "fingerprint")) {
		r = tg_rec_key_get(db, tg_jstr(key, "fingerprint"), &k, d);
		if (r == TG_E_NOTFOUND) {
			r = TG_OK;
			tg_verdict_reason(v, TG_R(KEY_UNKNOWN), "the key %s that signed it is no longer in the records",
					  tg_jstr(key, "fingerprint"));
		} else if (r == TG_OK) {
			f.signer = &k;
		}
	}
	if (r == TG_OK)
		r = tg_policy_evaluate(db, &f, v, d);
	/* The walker's findings under the product record as it is now (a
	 * setuid allowance withdrawn). */
	struct json_object *fs = tg_jget(facts, "findings");
	bool strict = tg_tier_rules_for(v->tier, v->cii)->products;
	for (size_t i = 0; r == TG_OK && fs && i < json_object_array_length(fs); i++) {
		struct json_object *x = json_object_array_get_idx(fs, i);
		const char *code = tg_jstr(x, "code") ? tg_jstr(x, "code") : TG_R(ARCHIVE_MALFORMED);
		bool allowed = strcmp(code, TG_R(ARCHIVE_SETUID)) == 0 && tg_list_has(v->product_allow, "setuid");
		if ((json_object_get_boolean(tg_jget(x, "always")) || strict) && !allowed)
			tg_verdict_reason(v, code, "%s", tg_jstr(x, "detail") ? tg_jstr(x, "detail") : "");
	}
	if (r == TG_OK)
		tg_verdict_finish(v);
	tg_keyrec_release(&k);
	return r;
}

/* Record a verdict re-decided as rejected: a new verdict superseding the
 * old one, with its audit row, stamped as evidence (inside the caller's
 * transaction). */
static enum tg_err record_changed(struct tg_ctx *ctx, struct tg_db *db, int64_t old_id, struct json_object *old,
				  struct tg_verdict *v, struct json_object *changed, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *report = tg_report_json(v), *detail = json_object_new_object();
	_cleanup_free_ char *text = NULL;
	const char *carry[] = { "facts", "components", "inventory", "apt", "host", "model", "ak", "nonce", "attest_sha256" };
	bool attestation = strcmp(v->kind, "attestation") == 0;
	char sha[65];
	int64_t id = 0;
	enum tg_err r;

	/* What the old verdict saw of the file stays part of the record. */
	for (size_t i = 0; i < TG_ARRAY_SIZE(carry); i++) {
		struct json_object *x = tg_jget(old, carry[i]);
		if (x)
			json_object_object_add(report, carry[i], json_object_get(x));
	}
	if (attestation) {
		json_object_object_add(report, "verdict", json_object_new_string(v->approved ? "trusted" : "untrusted"));
	}
	json_object_object_add(report, "reevaluates", json_object_new_int64(old_id));
	tg_json_str(report, "previous_verdict", tg_jstr(old, "verdict"));
	r = tg_evidence_stamp(db, report, ctx->actor, d);
	if (r != TG_OK)
		return r;
	if (!(text = strdup(tg_evidence_text(report))))
		return TG_E_NOMEM;
	tg_evidence_digest(text, sha);
	struct tg_verdict_row row = {
		.actor = ctx->actor, .command = "reevaluate", .kind = v->kind, .subject_path = v->path,
		.subject_sha256 = v->sha256,
		.result = attestation ? (v->approved ? "trusted" : "untrusted") : v->approved ? "approved" : "rejected",
		.supplier = v->supplier[0] ? v->supplier : NULL, .product = v->product[0] ? v->product : NULL,
		.version = v->version[0] ? v->version : NULL, .key_fingerprint = v->has_key ? v->key_fpr : NULL,
		.report = text, .subject_size = v->size, .tier = v->tier, .cii = v->cii, .gm = v->gm,
		.supersedes = old_id,
	};
	r = tg_audit_next_seq(db, &row.audit_seq, d);
	if (r == TG_OK)
		r = tg_rec_verdict_insert(db, &row, &id, d);
	if (r != TG_OK)
		return r;
	json_object_object_add(detail, "verdict_id", json_object_new_int64(id));
	json_object_object_add(detail, "reevaluates", json_object_new_int64(old_id));
	tg_json_str(detail, "result", row.result);
	json_object_object_add(detail, "reasons", tg_verdict_codes_json(v));
	tg_json_str(detail, "report_sha256", sha);
	char line[256];
	snprintf(line, sizeof(line), "reevaluate %s %s %s verdict %lld supersedes %lld", row.result, v->kind, v->sha256,
		 (long long)id, (long long)old_id);
	r = tg_cli_measure_decision(db, line, d);
	if (r == TG_OK)
		r = tg_audit_append(db, ctx->actor, "reevaluate", v->sha256, tg_evidence_text(detail), d);
	if (r == TG_OK)
		r = tg_evidence_link(db, id, row.audit_seq, report, d);
	if (r == TG_OK && !v->approved) {
		struct json_object *n = json_object_new_object();
		json_object_object_add(n, "verdict_id", json_object_new_int64(id));
		json_object_object_add(n, "reevaluates", json_object_new_int64(old_id));
		tg_json_str(n, "result", row.result);
		tg_json_str(n, "kind", v->kind);
		json_object_object_add(n, "reasons", json_object_get(tg_jget(detail, "reasons")));
		r = tg_notify_enqueue(db, attestation ? "host.untrusted" : "verdict.rejected",
				      v->path ? v->path : v->sha256, NULL, n, d);
		json_object_put(n);
	}
	if (r == TG_OK)
		json_object_array_add(changed, json_object_get(report));
	return r;
}

/* The verdicts in force that rely on a record changed since the date: a
 * revoked key, a revoked release (by name or by its bytes), a supplier or
 * product record changed. */
static const char candidates_sql[] =
	"WITH changed AS (SELECT action, object, detail FROM audit WHERE time >= ?1 AND action IN "
	"('key.revoke', 'release.revoke', 'supplier.set', 'product.set')) "
	"SELECT v.id, v.report FROM verdict v WHERE " IN_FORCE " AND ("
	"v.key_fingerprint IN (SELECT object FROM changed WHERE action = 'key.revoke') "
	"OR v.supplier IN (SELECT object FROM changed WHERE action = 'supplier.set') "
	"OR v.supplier || '/' || v.product IN (SELECT object FROM changed WHERE action = 'product.set') "
	"OR v.supplier || '/' || v.product || '/' || v.version IN (SELECT object FROM changed WHERE action = 'release.revoke') "
	"OR v.subject_sha256 IN (SELECT rl.digest FROM changed c JOIN release rl ON rl.digest_alg = 'sha256' "
	"JOIN product p ON p.id = rl.product_id JOIN supplier s ON s.id = p.supplier_id "
	"WHERE c.action = 'release.revoke' AND c.object = s.name || '/' || p.name || '/' || rl.version)) ORDER BY v.id;";

/* Attestations in force: each host's latest attestation, trusted, not
 * superseded — judged again when any reference set or deny list changed
 * since the date, or that host's record did. */
static const char attest_candidates_sql[] =
	"WITH changed AS (SELECT action, object FROM audit WHERE time >= ?1 AND action IN ('reference.deny', "
	"'reference.revoke', 'release.references_revoked', 'reference.import', 'host.retire', 'host.set')) "
	"SELECT v.id, v.report, v.subject_path FROM verdict v WHERE v.command = 'attest' AND v.result = 'trusted' "
	"AND v.id = (SELECT max(w.id) FROM verdict w WHERE w.subject_path = v.subject_path AND w.command = 'attest') "
	"AND NOT EXISTS (SELECT 1 FROM verdict x WHERE x.supersedes = v.id) "
	"AND (EXISTS (SELECT 1 FROM changed WHERE action NOT LIKE 'host.%') "
	"OR v.subject_path IN (SELECT object FROM changed WHERE action LIKE 'host.%')) ORDER BY v.id;";

/* Read the candidates of one query into [id, report, host] triples before
 * anything is recorded (what is recorded must not change the set read). */
static enum tg_err read_candidates(struct tg_db *db, const char *sql, const char *since_iso, struct json_object *todo,
				   struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *q = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare_scan(db, sql, &q, d);

	if (r == TG_OK)
		tg_db_bind_text(q, 1, since_iso);
	while (r == TG_OK) {
		r = tg_db_step(db, q, &row, d);
		if (r != TG_OK || !row)
			break;
		struct json_object *t = json_object_new_array();
		json_object_array_add(t, json_object_new_int64(tg_db_col_int(q, 0)));
		json_object_array_add(t, json_object_new_string(tg_db_col_str(q, 1)));
		if (tg_db_col_count(q) > 2 && tg_db_col_str(q, 2))
			json_object_array_add(t, json_object_new_string(tg_db_col_str(q, 2)));
		json_object_array_add(todo, t);
	}
	return r;
}

/* One recorded attestation again: the host's records as they are now. */
static enum tg_err redecide_attestation(struct tg_db *db, struct json_object *old, const char *host,
					struct tg_verdict *v, bool *skipped, struct tg_diag *d)
{
	struct tg_attest_records rec = { 0 };
	enum tg_err r = tg_attest_load(db, host, NULL, NULL, &rec, d);

	if (r == TG_OK) {
		*skipped = !tg_attest_rejudge(old, &rec, v);
		struct json_object *ak = tg_jget(old, "ak");
		if (!*skipped && tg_jstr(ak, "fingerprint")) {
			v->has_key = true;
			snprintf(v->key_fpr, sizeof(v->key_fpr), "%s", tg_jstr(ak, "fingerprint"));
			snprintf(v->key_alg, sizeof(v->key_alg), "%s", tg_jstr(ak, "algorithm") ? tg_jstr(ak, "algorithm") : "");
		}
		snprintf(v->sha256, sizeof(v->sha256), "%s", tg_jstr(old, "attest_sha256") ? tg_jstr(old, "attest_sha256") : "");
		v->tier = json_object_get_int(tg_jget(old, "tier"));
	}
	tg_attest_records_release(&rec);
	return r;
}

enum tg_err tg_reevaluate(struct tg_ctx *ctx, struct tg_db *db, const char *since_iso, bool dry_run,
			  struct json_object *changed, struct tg_reeval_stats *st, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *todo = json_object_new_array();
	enum tg_err r;

	memset(st, 0, sizeof(*st));
	r = tg_db_begin(db, d);
	/* The candidates first, then the decisions: what is recorded below
	 * must not change the set being read. */
	if (r == TG_OK)
		r = read_candidates(db, candidates_sql, since_iso, todo, d);
	if (r == TG_OK)
		r = read_candidates(db, attest_candidates_sql, since_iso, todo, d);
	for (size_t i = 0; r == TG_OK && i < json_object_array_length(todo); i++) {
		struct json_object *pair = json_object_array_get_idx(todo, i);
		int64_t old_id = json_object_get_int64(json_object_array_get_idx(pair, 0));
		_cleanup_json_ struct json_object *old =
			json_tokener_parse(json_object_get_string(json_object_array_get_idx(pair, 1)));
		struct tg_verdict v = { .kind = "blob" };
		bool skipped = false;

		st->considered++;
		if (!old) {
			r = tg_fail(d, TG_E_DB, "verdict %lld: its stored report is not JSON", (long long)old_id);
			break;
		}
		struct json_object *hostv = json_object_array_get_idx(pair, 2);
		if (hostv)
			r = redecide_attestation(db, old, json_object_get_string(hostv), &v, &skipped, d);
		else
			r = redecide(db, old, &v, &skipped, d);
		if (r == TG_OK && skipped) {
			st->skipped++;
		} else if (r == TG_OK && v.approved) {
			st->unchanged++;
		} else if (r == TG_OK) {
			st->changed++;
			if (dry_run) {
				struct json_object *rep = tg_report_json(&v);
				if (strcmp(v.kind, "attestation") == 0)
					json_object_object_add(rep, "verdict", json_object_new_string("untrusted"));
				tg_json_str(rep, "previous_verdict", tg_jstr(old, "verdict"));
				json_object_object_add(rep, "reevaluates", json_object_new_int64(old_id));
				json_object_array_add(changed, rep);
			} else {
				r = record_changed(ctx, db, old_id, old, &v, changed, d);
			}
		}
		tg_verdict_release(&v);
	}
	if (r == TG_OK && !dry_run)
		return tg_db_commit(db, d);
	tg_db_rollback(db);
	return r;
}
