/* trustgate audit verify|log */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "../db/integrity.h"
#include "../db/records.h"
#include "../common/encoding.h"
#include "../measure/decisions.h"
#include "../measure/tpm.h"

/* The records' last row and its hash (seq 0 when empty). */
static enum tg_err last_row(struct tg_db *db, int64_t *seq, char hash[65], struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1;", &st, d);

	*seq = 0;
	hash[0] = '\0';
	if (r == TG_OK)
		r = tg_db_step(db, st, &row, d);
	if (r == TG_OK && row) {
		*seq = tg_db_col_int(st, 0);
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	return r;
}

static enum tg_err row_hash(struct tg_db *db, int64_t seq, char hash[65], struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT hash FROM audit WHERE seq = ?1;", &st, d);

	hash[0] = '\0';
	if (r == TG_OK) {
		tg_db_bind_int(st, 1, seq);
		r = tg_db_step(db, st, &row, d);
	}
	if (r == TG_OK && row)
		snprintf(hash, 65, "%s", (const char *)sqlite3_column_text(st, 0));
	return r;
}

/* --tpm: the records against the head the TPM anchored.  Restoring an
 * older copy or cutting rows off the end leaves the TPM ahead; rewriting
 * the anchor is caught by its monotonic counter. */
static enum tg_err tpm_check(struct tg_db *db, const char *tcti, char *why, size_t n, struct tg_diag *d)
{
	_cleanup_free_ char *conf = NULL;
	struct tg_tpm *tpm = NULL;
	struct tg_anchor a;
	char last[65], at[65], want[65];
	int64_t seq;
	enum tg_err r = TG_OK;

	why[0] = '\0';
	if (!tcti)
		r = tg_db_meta_get(db, "tpm_anchor", &conf, d);
	if (r == TG_OK)
		r = tg_tpm_open(tcti ? tcti : conf, &tpm, d);
	if (r == TG_OK)
		r = tg_tpm_anchor_read(tpm, &a, d);
	tg_tpm_close(tpm);
	if (r == TG_OK)
		r = last_row(db, &seq, last, d);
	if (r != TG_OK)
		return r;
	if (!a.present) {
		snprintf(why, n, "this TPM holds no audit anchor (run 'trustgate audit anchor' on the appliance)");
		return TG_OK;
	}
	tg_hex_encode(a.hash, 32, want);
	if (a.counter != a.written_at)
		snprintf(why, n, "the TPM's anchor record was written at count %llu but its counter is at %llu: the "
			 "anchor was rewritten or rolled back", (unsigned long long)a.written_at,
			 (unsigned long long)a.counter);
	else if ((uint64_t)seq < a.seq)
		snprintf(why, n, "rows %lld to %llu are missing: the records end at row %lld but the TPM anchored row %llu "
			 "(an older copy of the database restored, or the chain truncated)", (long long)seq + 1,
			 (unsigned long long)a.seq, (long long)seq, (unsigned long long)a.seq);
	else if ((r = row_hash(db, (int64_t)a.seq, at, d)) != TG_OK)
		return r;
	else if (strcmp(at, want) != 0)
		snprintf(why, n, "row %llu is not the row the TPM anchored (the records were rewritten)",
			 (unsigned long long)a.seq);
	else if ((uint64_t)seq > a.seq)
		snprintf(why, n, "rows %llu to %lld were written without the TPM anchor", (unsigned long long)a.seq + 1,
			 (long long)seq);
	return TG_OK;
}

static void add_problem(const char *why, void *ud)
{
	json_object_array_add(ud, json_object_new_string(why));
}

static int cmd_verify(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	const char *tcti = NULL;
	bool tpm = false;
	const struct tg_opt opts[] = {
		{ "tpm", false, NULL, &tpm },
		{ "tcti", true, &tcti, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_audit_problem pb = { 0 };
	bool intact = false;
	char tpm_why[300] = "", **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && tcti && !tpm)
		r = tg_fail(&d, TG_E_USAGE, "audit verify: --tcti goes with --tpm");
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_audit_verify(db, &intact, &pb, &d);
	/* The chain alone cannot see a record changed, inserted or deleted in
	 * its table while the audit rows stay: every record is re-derived from
	 * its history (the check `check` and `attest` make on the records they
	 * use), and every difference is named. */
	_cleanup_json_ struct json_object *problems = json_object_new_array();
	size_t nrec = 0;
	if (r == TG_OK && intact)
		r = tg_integrity_all(db, add_problem, problems, &nrec, &d);
	if (r == TG_OK && tpm)
		r = tpm_check(db, tcti, tpm_why, sizeof(tpm_why), &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	bool ok = intact && !tpm_why[0] && nrec == 0;
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		json_object_object_add(o, "intact", json_object_new_boolean(ok));
		if (!intact) {
			json_object_object_add(o, "first_bad_row", json_object_new_int64(pb.seq));
			tg_json_str(o, "problem", pb.what);
		}
		json_object_object_add(o, "records", json_object_get(problems));
		if (tpm)
			json_object_object_add(o, "tpm", tpm_why[0] ? json_object_new_string(tpm_why) :
								  json_object_new_string("anchored head matches"));
		tg_cli_print_json(o);
	} else {
		if (intact && nrec) {
			printf("audit log chain intact, records TAMPERED (%zu differ from their history):\n", nrec);
			for (size_t i = 0; i < nrec; i++)
				printf("  %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
		} else if (intact)
			printf("audit log intact\n");
		else
			printf("audit log TAMPERED: first bad row %lld: %s\n", (long long)pb.seq, pb.what);
		if (tpm)
			printf(tpm_why[0] ? "TPM anchor: %s\n" : "TPM anchor: the records end at the row the TPM anchored%s\n",
			       tpm_why);
	}
	return ok ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}

/* trustgate audit anchor [--tcti CONF]: bind these records to the TPM.
 * The NV indices are defined if absent, and from now on every audit row is
 * written to the TPM before its transaction commits (this one included). */
static int cmd_anchor(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	const char *tcti = NULL, *decisions = NULL;
	const struct tg_opt opts[] = {
		{ "tcti", true, &tcti, NULL },
		{ "decisions", true, &decisions, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_tpm *tpm = NULL;
	_cleanup_free_ char *dlog = NULL;
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_tpm_open(tcti, &tpm, &d);
	if (r == TG_OK)
		r = tg_tpm_anchor_init(tpm, &d);
	tg_tpm_close(tpm);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK && asprintf(&dlog, "%s.decisions", ctx->db_path) < 0)
		r = TG_E_NOMEM;
	if (r == TG_OK)
		r = tg_db_meta_set(db, "tpm_anchor", tcti ? tcti : "", &d);
	if (r == TG_OK)
		r = tg_db_meta_set(db, "decision_log", decisions ? decisions : dlog, &d);
	if (r == TG_OK)
		r = tg_cli_anchor_enable(db, tcti);
	if (r == TG_OK) {
		tg_json_str(detail, "tcti", tcti ? tcti : "(default)");
		json_object_object_add(detail, "nv_counter", json_object_new_int64(TG_NV_ANCHOR_COUNTER));
		json_object_object_add(detail, "nv_head", json_object_new_int64(TG_NV_ANCHOR_HEAD));
		tg_json_str(detail, "decision_log", decisions ? decisions : dlog);
		json_object_object_add(detail, "decision_pcr", json_object_new_int(TG_DECISION_PCR));
		r = tg_cli_audit_commit(ctx, db, "audit.anchor", "tpm", detail, &d);
	} else if (db && db->in_tx) {
		tg_db_rollback(db);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	printf("audit chain anchored in the TPM (NV 0x%08x, 0x%08x)\n", TG_NV_ANCHOR_COUNTER, TG_NV_ANCHOR_HEAD);
	return TG_EXIT_OK;
}

/* trustgate audit log [--since D] [--until D] [--action A] [--object O]
 *                     [--key FINGERPRINT] [--by ACTOR] */
static int cmd_log(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	const char *since = NULL, *until = NULL, *action = NULL, *object = NULL, *key = NULL, *by = NULL;
	const struct tg_opt opts[] = {
		{ "since", true, &since, NULL },   { "until", true, &until, NULL },
		{ "action", true, &action, NULL }, { "object", true, &object, NULL },
		{ "key", true, &key, NULL },       { "by", true, &by, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char since_iso[32] = "", until_iso[32] = "", fpr[65], **pos;
	bool row = false;
	int64_t t;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	/* --actor is the global option naming who acts; silently ignoring it
	 * here showed every row to someone who meant to filter. */
	if (ctx->actor_given)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "audit log: --actor names who is acting; to show one "
						   "actor's rows use --by ACTOR"), &d);
	if (since) {
		if (!tg_parse_date(since, &t))
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--since '%.32s' is not a date YYYY-MM-DD", since), &d);
		tg_epoch_iso(t, since_iso);
	}
	if (until) {
		if (!tg_parse_date(until, &t))
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--until '%.32s' is not a date YYYY-MM-DD", until), &d);
		tg_epoch_iso(t + 86400, until_iso); /* the whole day D */
	}
	if (since && until && strcmp(since_iso, until_iso) >= 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--until is before --since"), &d);
	if (action && (strlen(action) > 40 || strspn(action, "abcdefghijklmnopqrstuvwxyz._") != strlen(action)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--action '%.40s': an action like supplier.set, or a "
						   "kind like supplier", action), &d);
	if (by && (r = tg_cli_name_arg("--by", by, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK && key)
		r = tg_rec_key_resolve(db, key, fpr, &d);
	/* --action supplier: every supplier.* row; --key: the key's own rows
	 * and every row whose detail names it (the verdicts it signed). */
	if (r == TG_OK)
		r = tg_db_prepare(db, "SELECT seq, time, actor, action, object, detail, hash FROM audit "
				      "WHERE time >= ?1 AND (?2 IS NULL OR time < ?2) "
				      "AND (?3 IS NULL OR action = ?3 OR (instr(?3, '.') = 0 AND substr(action, 1, length(?3) + 1) = ?3 || '.')) "
				      "AND (?4 IS NULL OR object = ?4) AND (?5 IS NULL OR actor = ?5) "
				      "AND (?6 IS NULL OR object = ?6 OR instr(detail, ?6) > 0) ORDER BY seq;", &st, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_db_bind_text(st, 1, since_iso);
	tg_db_bind_text(st, 2, until ? until_iso : NULL);
	tg_db_bind_text(st, 3, action);
	tg_db_bind_text(st, 4, object);
	tg_db_bind_text(st, 5, by);
	tg_db_bind_text(st, 6, key ? fpr : NULL);
	if (ctx->json)
		arr = json_object_new_array();
	for (;;) {
		r = tg_db_step(db, st, &row, &d);
		if (r != TG_OK)
			return tg_cli_fail(ctx, r, &d);
		if (!row)
			break;
		const char *f[7];
		for (int i = 0; i < 7; i++) {
			f[i] = (const char *)sqlite3_column_text(st, i);
			if (!f[i])
				f[i] = "";
		}
		if (arr) {
			struct json_object *o = json_object_new_object();
			json_object_object_add(o, "seq", json_object_new_int64(tg_db_col_int(st, 0)));
			tg_json_str(o, "time", f[1]);
			tg_json_str(o, "actor", f[2]);
			tg_json_str(o, "action", f[3]);
			tg_json_str(o, "object", f[4]);
			struct json_object *detail = json_tokener_parse(f[5]);
			json_object_object_add(o, "detail", detail ? detail : json_object_new_string(f[5]));
			tg_json_str(o, "hash", f[6]);
			json_object_array_add(arr, o);
		} else {
			/* Fields are printed as JSON strings: a newline or escape
			 * sequence in a name cannot fake another log line
			 * (THREATS case 63). */
			_cleanup_json_ struct json_object *obj = json_object_new_string(f[4]);
			_cleanup_json_ struct json_object *act = json_object_new_string(f[2]);
			printf("%6s %s %-16s %s by %s %s\n", f[0], f[1], f[3],
			       json_object_to_json_string_ext(obj, JSON_C_TO_STRING_NOSLASHESCAPE),
			       json_object_to_json_string_ext(act, JSON_C_TO_STRING_NOSLASHESCAPE), f[5]);
		}
	}
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

int tg_cmd_audit(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "verify", cmd_verify },
		{ "log", cmd_log },
		{ "anchor", cmd_anchor },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "audit verify [--tpm]|log|anchor");
}
