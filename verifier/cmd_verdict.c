/*
 * trustgate verdict show ID [--json]
 *
 * A recorded verdict as it was decided, with its place in the audit chain:
 * the stored document, its id, and the audit row that carries its digest.
 * The stored document is compared with that digest and the row's own hash
 * is recomputed, so a report edited in the database is named (exit 1)
 * instead of shown as evidence.
 */
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "evidence.h"

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Decimal id, 1..2^53 (what JSON carries exactly). */
static bool parse_id(const char *s, int64_t *ret)
{
	int64_t v = 0;

	if (!*s || strlen(s) > 15 || s[0] == '0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
	}
	*ret = v;
	return true;
}

struct anchoring {
	int64_t seq;
	char hash[65];
	bool found, row_ok, id_ok, covered, digest_ok;
	char problem[200];
};

/* The verdict's audit row: the one the verdict names (audit_seq), else (a
 * verdict recorded before schema 5) the check/attest row naming its id. */
static enum tg_err find_anchor(struct tg_db *db, int64_t id, int64_t audit_seq, const char *report,
			       struct anchoring *a, struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	char needle[48], digest[65];
	bool row = false;
	enum tg_err r;

	memset(a, 0, sizeof(*a));
	snprintf(needle, sizeof(needle), "\"verdict_id\":%lld,", (long long)id);
	r = tg_db_prepare(db, "SELECT " TG_AUDIT_COLS " FROM audit WHERE (?1 > 0 AND seq = ?1) OR "
			      "(?1 = 0 AND action IN ('check', 'attest') AND instr(detail, ?2) > 0) "
			      "ORDER BY seq LIMIT 1;", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, audit_seq);
	tg_db_bind_text(st, 2, needle);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK || !row) {
		if (r == TG_OK)
			snprintf(a->problem, sizeof(a->problem), "no audit row records verdict %lld", (long long)id);
		return r;
	}
	struct tg_audit_row ar;
	tg_audit_row_get(st, &ar);
	a->found = true;
	a->seq = ar.seq;
	snprintf(a->hash, sizeof(a->hash), "%s", ar.hash);
	a->row_ok = tg_audit_row_hash_ok(&ar);
	_cleanup_json_ struct json_object *detail = json_tokener_parse(ar.detail);
	struct json_object *vid = NULL;
	a->id_ok = detail && json_object_object_get_ex(detail, "verdict_id", &vid) && json_object_get_int64(vid) == id;
	const char *want = jstr(detail, "report_sha256");
	a->covered = want != NULL;
	tg_evidence_digest(report, digest);
	a->digest_ok = want && strcmp(want, digest) == 0;
	if (!a->row_ok)
		snprintf(a->problem, sizeof(a->problem), "audit row %lld was altered (its hash does not match)",
			 (long long)a->seq);
	else if (!a->id_ok)
		snprintf(a->problem, sizeof(a->problem), "audit row %lld records another verdict", (long long)a->seq);
	else if (a->covered && !a->digest_ok)
		snprintf(a->problem, sizeof(a->problem), "the stored report is not the one audit row %lld recorded "
			 "(its SHA-256 differs): edited after the decision", (long long)a->seq);
	return TG_OK;
}

static void print_findings(struct json_object *o, const char *key, const char *label)
{
	struct json_object *arr = NULL;

	if (!json_object_object_get_ex(o, key, &arr) || !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		printf("  %-9s %s: %s\n", label, jstr(f, "code") ? jstr(f, "code") : "?",
		       jstr(f, "detail") ? jstr(f, "detail") : "");
	}
}

/* The text form, from the stored document (the same for check and attest). */
static void print_text(struct json_object *o, const struct anchoring *a)
{
	struct json_object *subj = NULL, *key = NULL, *recs = NULL, *sup = NULL, *pol = NULL, *tier = NULL;
	const char *verdict = jstr(o, "verdict");
	char up[16];
	size_t i;

	for (i = 0; verdict && verdict[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(verdict[i] >= 'a' && verdict[i] <= 'z' ? verdict[i] - 32 : verdict[i]);
	up[i] = '\0';
	json_object_object_get_ex(o, "subject", &subj);
	printf("%s  %s  %s\n", up, jstr(o, "kind") ? jstr(o, "kind") : "?",
	       jstr(o, "host") ? jstr(o, "host") : jstr(subj, "path") ? jstr(subj, "path") : "?");
	if (jstr(subj, "sha256"))
		printf("  sha256    %s\n", jstr(subj, "sha256"));
	json_object_object_get_ex(o, "policy", &pol);
	if (json_object_object_get_ex(pol, "tier", &tier) || json_object_object_get_ex(o, "tier", &tier))
		printf("  policy    tier %d\n", json_object_get_int(tier));
	if (json_object_object_get_ex(o, "key", &key) && key && jstr(key, "fingerprint"))
		printf("  signer    %s (%s) of %s\n", jstr(key, "fingerprint"), jstr(key, "algorithm") ? jstr(key, "algorithm") : "?",
		       jstr(o, "supplier") ? jstr(o, "supplier") : "?");
	if (jstr(o, "product"))
		printf("  product   %s %s\n", jstr(o, "product"), jstr(o, "version") ? jstr(o, "version") : "(no version)");
	if (json_object_object_get_ex(o, "records", &recs) && json_object_object_get_ex(recs, "supplier", &sup) && sup)
		printf("  supplier  %s, %s, review %s%s%s\n", jstr(sup, "name"), jstr(sup, "status"),
		       jstr(sup, "review") ? jstr(sup, "review") : "none", jstr(sup, "review_expires") ? " until " : "",
		       jstr(sup, "review_expires") ? jstr(sup, "review_expires") : "");
	print_findings(o, "reasons", "reason");
	print_findings(o, "warnings", "warning");
	tg_evidence_fprint(stdout, o);
	if (a->problem[0])
		printf("  TAMPERED  %s\n", a->problem);
	else if (!a->covered)
		printf("  anchoring audit row %lld names this verdict; it was recorded before reports were digested\n",
		       (long long)a->seq);
	else
		printf("  anchoring the report's SHA-256 is in audit row %lld, whose hash chains to the rows before\n",
		       (long long)a->seq);
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *report = NULL;
	struct tg_diag d = { { 0 } };
	struct anchoring a;
	char **pos, shown[40];
	int npos;
	int64_t id = 0, audit_seq = 0;
	bool row = false;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!parse_id(pos[0], &id)) {
		snprintf(shown, sizeof(shown), "%.32s", pos[0]);
		for (char *p = shown; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
				*p = '?';
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "'%s' is not a verdict id (a number like 42)", shown), &d);
	}
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_prepare(db, "SELECT report, coalesce(audit_seq, 0) FROM verdict WHERE id = ?1;", &st, &d);
	if (r == TG_OK) {
		tg_db_bind_int(st, 1, id);
		r = tg_db_step(db, st, &row, &d);
	}
	if (r == TG_OK && !row)
		r = tg_fail(&d, TG_E_NOTFOUND, "no verdict %lld in the records", (long long)id);
	if (r == TG_OK) {
		report = tg_db_col_text(st, 0);
		audit_seq = tg_db_col_int(st, 1);
		o = report ? json_tokener_parse(report) : NULL;
		if (!o)
			r = tg_fail(&d, TG_E_DB, "verdict %lld: its stored report is not JSON", (long long)id);
	}
	if (r == TG_OK)
		r = find_anchor(db, id, audit_seq, report, &a, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	json_object_object_add(o, "id", json_object_new_int64(id));
	struct json_object *audit = json_object_new_object();
	if (a.found) {
		json_object_object_add(audit, "seq", json_object_new_int64(a.seq));
		tg_json_str(audit, "hash", a.hash);
	}
	json_object_object_add(audit, "intact", json_object_new_boolean(a.found && !a.problem[0]));
	json_object_object_add(audit, "report_covered", json_object_new_boolean(a.covered));
	if (a.problem[0])
		tg_json_str(audit, "problem", a.problem);
	json_object_object_add(o, "audit", audit);
	if (ctx->json)
		tg_cli_print_json(o);
	else
		print_text(o, &a);
	return a.found && !a.problem[0] ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}

int tg_cmd_verdict(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "verdict show ID");
}
