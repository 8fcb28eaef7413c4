/* trustgate audit verify|log */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>


#include "cli.h"
#include "../db/integrity.h"
#include "../db/records.h"
#include "appliance.h"
#include "../common/file.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include "../common/encoding.h"
#include "../measure/decisions.h"
#include "../measure/tpm.h"

/* --tpm: the records against the head the TPM anchored.  Restoring an
 * older copy or cutting rows off the end leaves the TPM ahead; rewriting
 * the anchor is caught by its monotonic counter.  On shared records the
 * TPM holds the last row this appliance wrote: the chain must still hold
 * that row, whichever appliance wrote after it. */
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
		r = tg_db_local_get(db, "tpm_anchor", &conf, d);
	/* Say what is missing, not which TPM connection failed. */
	if (r == TG_OK && !tcti && !conf)
		return tg_fail(d, TG_E_USAGE, "%s: records not anchored in a TPM (run 'trustgate audit anchor' on the "
					      "appliance, or name its TPM with --tcti)", db->path);
	if (r == TG_OK)
		r = tg_tpm_open(tcti ? tcti : conf, &tpm, d);
	if (r == TG_OK)
		r = tg_tpm_anchor_read(tpm, &a, d);
	tg_tpm_close(tpm);
	if (r == TG_OK)
		r = tg_audit_head(db, &seq, last, d);
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
	else if ((r = tg_audit_hash_at(db, (int64_t)a.seq, at, d)) != TG_OK)
		return r;
	else if (strcmp(at, want) != 0)
		snprintf(why, n, "row %llu is not the row the TPM anchored (the records were rewritten)",
			 (unsigned long long)a.seq);
	/* Records this appliance alone writes: every later row should have
	 * moved its anchor.  Shared records are written by the other
	 * appliances too; each holds the chain to the rows it anchored. */
	else if ((uint64_t)seq > a.seq && !tg_db_shared(db))
		snprintf(why, n, "rows %llu to %lld were written without the TPM anchor", (unsigned long long)a.seq + 1,
			 (long long)seq);
	return TG_OK;
}

static int verify_export(const char *file, const char *keyfile, char *msg, size_t n, struct json_object *res,
			 struct tg_diag *d);

static void add_problem(const char *why, void *ud)
{
	json_object_array_add(ud, json_object_new_string(why));
}

static int cmd_verify(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	const char *tcti = NULL, *export = NULL, *keyfile = NULL;
	bool tpm = false;
	const struct tg_opt opts[] = {
		{ "tpm", false, NULL, &tpm },
		{ "tcti", true, &tcti, NULL },
		{ "export", true, &export, NULL },
		{ "key", true, &keyfile, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	bool intact = false;
	char tpm_why[300] = "", **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && tcti && !tpm)
		r = tg_fail(&d, TG_E_USAGE, "audit verify: --tcti goes with --tpm");
	if (r == TG_OK && keyfile && !export)
		r = tg_fail(&d, TG_E_USAGE, "audit verify: --key goes with --export");
	if (r == TG_OK && export && tpm)
		r = tg_fail(&d, TG_E_USAGE, "audit verify: --export checks a file, --tpm these records; one at a time");
	if (r == TG_OK && export) {
		/* Offline: the export alone (and the pinned key), no records. */
		_cleanup_json_ struct json_object *res = json_object_new_object();
		char msg[300] = "";
		int code = verify_export(export, keyfile, msg, sizeof(msg), res, &d);
		if (code == TG_EXIT_ERROR)
			return code;
		json_object_object_add(res, "intact", json_object_new_boolean(code == TG_EXIT_OK));
		tg_json_str(res, "result", msg);
		if (ctx->json)
			tg_cli_print_json(res);
		else
			printf("%s%s\n", code == TG_EXIT_OK ? "" : "audit export TAMPERED: ", msg);
		return code;
	}
	_cleanup_json_ struct json_object *o = NULL;
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_audit_check(db, &o, &intact, &d);
	if (r == TG_OK && tpm)
		r = tpm_check(db, tcti, tpm_why, sizeof(tpm_why), &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	bool ok = intact && !tpm_why[0];
	struct json_object *problems = tg_jget(o, "records");
	size_t nrec = problems ? json_object_array_length(problems) : 0;
	if (tpm) {
		json_object_object_add(o, "tpm", json_object_new_string(tpm_why[0] ? tpm_why : "anchored head matches"));
		json_object_object_add(o, "intact", json_object_new_boolean(ok));
	}
	if (ctx->json) {
		tg_cli_print_json(o);
	} else {
		const char *problem = tg_jstr(o, "problem");
		if (!problem && nrec) {
			printf("audit log chain intact, records TAMPERED (%zu differ from their history):\n", nrec);
			for (size_t i = 0; i < nrec; i++)
				printf("  %s\n", json_object_get_string(json_object_array_get_idx(problems, i)));
		} else if (!problem)
			printf("audit log intact\n");
		else
			printf("audit log TAMPERED: first bad row %lld: %s\n",
			       (long long)json_object_get_int64(tg_jget(o, "first_bad_row")), problem);
		if (tpm)
			printf(tpm_why[0] ? "TPM anchor: %s\n" : "TPM anchor: the records end at the row the TPM anchored%s\n",
			       tpm_why);
	}
	return ok ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}

enum tg_err tg_audit_check(struct tg_db *db, struct json_object **ret, bool *ret_ok, struct tg_diag *d)
{
	struct tg_audit_problem pb = { 0 };
	bool intact = false;
	size_t nrec = 0;
	enum tg_err r = tg_audit_verify(db, &intact, &pb, d);
	/* The chain alone cannot see a record changed, inserted or deleted in
	 * its table while the audit rows stay: every record is re-derived from
	 * its history (the check `check` and `attest` make on the records they
	 * use), and every difference is named. */
	_cleanup_json_ struct json_object *problems = json_object_new_array();

	*ret = NULL;
	*ret_ok = false;
	if (r == TG_OK && intact)
		r = tg_integrity_all(db, add_problem, problems, &nrec, d);
	if (r != TG_OK)
		return r;
	*ret_ok = intact && nrec == 0;
	*ret = json_object_new_object();
	json_object_object_add(*ret, "intact", json_object_new_boolean(*ret_ok));
	if (!intact) {
		json_object_object_add(*ret, "first_bad_row", json_object_new_int64(pb.seq));
		tg_json_str(*ret, "problem", pb.what);
	}
	json_object_object_add(*ret, "records", json_object_get(problems));
	return TG_OK;
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
	if (r == TG_OK && !(dlog = tg_db_local_file(db, ".decisions")))
		r = TG_E_NOMEM;
	if (r == TG_OK)
		r = tg_db_local_set(db, "tpm_anchor", tcti ? tcti : "", &d);
	if (r == TG_OK)
		r = tg_db_local_set(db, "decision_log", decisions ? decisions : dlog, &d);
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

struct json_object *tg_audit_row_json(struct tg_stmt *st)
{
	struct json_object *o = json_object_new_object();
	const char *f[7];

	for (int i = 0; i < 7; i++) {
		f[i] = tg_db_col_str(st, i);
		if (!f[i])
			f[i] = "";
	}
	json_object_object_add(o, "seq", json_object_new_int64(tg_db_col_int(st, 0)));
	tg_json_str(o, "time", f[1]);
	tg_json_str(o, "actor", f[2]);
	tg_json_str(o, "action", f[3]);
	tg_json_str(o, "object", f[4]);
	struct json_object *detail = json_tokener_parse(f[5]);
	json_object_object_add(o, "detail", detail ? detail : json_object_new_string(f[5]));
	tg_json_str(o, "hash", f[6]);
	return o;
}

/* trustgate audit log [--since D] [--until D] [--action A] [--object O]
 *                     [--key FINGERPRINT] [--by ACTOR] */
static int cmd_log(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	_cleanup_stmt_ struct tg_stmt *st = NULL;
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
		r = tg_db_prepare_scan(db, "SELECT seq, time, actor, action, object, detail, hash FROM audit "
				      "WHERE time >= ?1 AND (?2 IS NULL OR time < ?2) "
				      "AND (?3 IS NULL OR action = ?3 OR (?3 NOT LIKE '%.%' AND substr(action, 1, length(?3) + 1) = ?3 || '.')) "
				      "AND (?4 IS NULL OR object = ?4) AND (?5 IS NULL OR actor = ?5) "
				      "AND (?6 IS NULL OR object = ?6 OR replace(detail, ?6, '') <> detail) ORDER BY seq;", &st, &d);
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
			f[i] = tg_db_col_str(st, i);
			if (!f[i])
				f[i] = "";
		}
		if (arr) {
			json_object_array_add(arr, tg_audit_row_json(st));
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

/* ------------------------------------------------------------ export */

/* trustgate audit export --out FILE: every audit row and the head, with the
 * appliance's public key, in a DSSE envelope signed by the appliance key.
 * Only an intact chain is exported. */
static int cmd_export(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	_cleanup_json_ struct json_object *doc = json_object_new_object(), *rows = json_object_new_array();
	_cleanup_free_ char *env = NULL, *pubpem = NULL;
	const char *out = NULL;
	const struct tg_opt opts[] = { { "out", true, &out, NULL }, { NULL, false, NULL, NULL } };
	struct tg_privkey *key = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_audit_problem pb = { 0 };
	struct json_object *app = json_object_new_object(), *head = json_object_new_object();
	bool intact = false, row = false;
	char now[32], **pos;
	int npos;
	int64_t last = 0;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	json_object_object_add(doc, "appliance", app);
	json_object_object_add(doc, "head", head);
	if (r == TG_OK && !out)
		r = tg_fail(&d, TG_E_USAGE, "audit export: --out FILE is required");
	if (r == TG_OK && access(out, F_OK) == 0)
		r = tg_fail(&d, TG_E_IO, "%s: exists (an export is written to a new file)", out);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_appliance_key_load(db, &key, &d);
	if (r == TG_OK)
		r = tg_audit_verify(db, &intact, &pb, &d);
	if (r == TG_OK && !intact) {
		tg_privkey_free(key);
		fprintf(stderr, "trustgate: the audit chain is not intact (row %lld: %s): nothing exported\n",
			(long long)pb.seq, pb.what);
		return TG_EXIT_NEGATIVE;
	}
	if (r == TG_OK)
		r = tg_db_prepare_scan(db, "SELECT " TG_AUDIT_COLS " FROM audit ORDER BY seq;", &st, &d);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, &d);
		if (r != TG_OK || !row)
			break;
		struct tg_audit_row ar;
		struct json_object *o = json_object_new_object();
		tg_audit_row_get(st, &ar);
		json_object_object_add(o, "seq", json_object_new_int64(ar.seq));
		tg_json_str(o, "time", ar.time);
		tg_json_str(o, "actor", ar.actor);
		tg_json_str(o, "action", ar.action);
		tg_json_str(o, "object", ar.object);
		tg_json_str(o, "detail", ar.detail);
		tg_json_str(o, "prev_hash", ar.prev_hash);
		tg_json_str(o, "hash", ar.hash);
		json_object_array_add(rows, o);
		last = ar.seq;
		json_object_object_add(head, "seq", json_object_new_int64(ar.seq));
		tg_json_str(head, "hash", ar.hash);
	}
	if (r == TG_OK && !(pubpem = tg_appliance_pub_pem(key)))
		r = TG_E_NOMEM;
	if (r == TG_OK) {
		tg_now_iso(now);
		tg_json_str(doc, "format", "trustgate-audit-export/1");
		tg_json_str(doc, "exported_at", now);
		tg_json_str(doc, "exported_by", ctx->actor);
		tg_json_str(app, "fingerprint", key->pub->fingerprint);
		tg_json_str(app, "algorithm", key->pub->type == TG_KEY_SM2 ? "sm2" : "ed25519");
		tg_json_str(app, "public_key", pubpem);
		json_object_object_add(doc, "rows", json_object_get(rows));
		r = tg_appliance_dsse(key, TG_AUDIT_EXPORT_TYPE,
				      json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				      &env, &d);
	}
	tg_privkey_free(key);
	if (r == TG_OK) {
		size_t n = strlen(env);
		_cleanup_free_ char *line = NULL;
		if (asprintf(&line, "%s\n", env) < 0)
			r = TG_E_NOMEM;
		else
			r = tg_file_write_new(out, line, n + 1, 0644, &d);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "export", out);
		json_object_object_add(o, "rows", json_object_new_int64(last));
		json_object_object_add(o, "head", json_object_get(head));
		tg_cli_print_json(o);
	} else {
		printf("audit export of %lld rows written to %s, signed by appliance %s\n", (long long)last, out,
		       json_object_get_string(json_object_object_get(app, "fingerprint")));
	}
	return TG_EXIT_OK;
}

/* audit verify --export FILE [--key APPLIANCE.pub]: offline, no records.
 * Returns the exit code; *msg says why. */
static int verify_export(const char *file, const char *keyfile, char *msg, size_t n, struct json_object *res,
			 struct tg_diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL, *payload = NULL, *sig = NULL, *der = NULL;
	_cleanup_free_ char *label = NULL, *pae = NULL;
	_cleanup_json_ struct json_object *env = NULL, *doc = NULL;
	_cleanup_key_ struct tg_key *k = NULL, *pinned = NULL;
	size_t len = 0, pl = 0, sl = 0, dl = 0;
	struct json_object *sigs = NULL, *rows = NULL, *app = NULL, *head = NULL;
	bool valid = false;
	enum tg_err r = tg_file_read(file, (size_t)2 << 30, &buf, &len, d);

	if (r != TG_OK)
		return tg_cli_fail(NULL, r, d);
	env = json_tokener_parse((const char *)buf);
	if (!env || !tg_jstr(env, "payloadType") || strcmp(tg_jstr(env, "payloadType"), TG_AUDIT_EXPORT_TYPE) != 0 ||
	    !tg_jstr(env, "payload") || !json_object_object_get_ex(env, "signatures", &sigs) ||
	    !json_object_is_type(sigs, json_type_array) || json_object_array_length(sigs) != 1 ||
	    !tg_jstr(json_object_array_get_idx(sigs, 0), "sig"))
		return tg_cli_fail(NULL, tg_fail(d, TG_E_FORMAT, "%s: not a trustgate audit export (a DSSE envelope of "
							       "type %s)", file, TG_AUDIT_EXPORT_TYPE), d);
	const char *p64 = tg_jstr(env, "payload"), *s64 = tg_jstr(json_object_array_get_idx(sigs, 0), "sig");
	if (tg_base64_decode(tg_span_make((const uint8_t *)p64, strlen(p64)), false, &payload, &pl) != TG_OK ||
	    tg_base64_decode(tg_span_make((const uint8_t *)s64, strlen(s64)), false, &sig, &sl) != TG_OK)
		return tg_cli_fail(NULL, tg_fail(d, TG_E_FORMAT, "%s: payload or signature is not base64", file), d);
	int pn = asprintf(&pae, "DSSEv1 %zu %s %zu ", strlen(TG_AUDIT_EXPORT_TYPE), TG_AUDIT_EXPORT_TYPE, pl);
	if (pn < 0 || !(pae = realloc(pae, (size_t)pn + pl)))
		return tg_cli_fail(NULL, TG_E_NOMEM, d);
	memcpy(pae + pn, payload, pl);
	/* With a pinned key the signature is checked first: an edited export
	 * is refused as edited, whatever its content now parses to. */
	if (keyfile) {
		r = tg_appliance_pub_load(keyfile, &pinned, d);
		if (r == TG_OK)
			r = tg_appliance_verify(pinned, tg_span_make((const uint8_t *)pae, (size_t)pn + pl),
						tg_span_make(sig, sl), &valid, d);
		if (r != TG_OK)
			return tg_cli_fail(NULL, r, d);
		if (!valid) {
			snprintf(msg, n, "the signature does not verify under the pinned appliance key %.16s... (edited, or "
				 "signed by another appliance)", pinned->fingerprint);
			return TG_EXIT_NEGATIVE;
		}
	}
	_cleanup_free_ char *ptext = strndup((const char *)payload, pl);
	doc = ptext ? json_tokener_parse(ptext) : NULL;
	if (!doc || !json_object_object_get_ex(doc, "appliance", &app) || !tg_jstr(app, "public_key") ||
	    !json_object_object_get_ex(doc, "rows", &rows) || !json_object_is_type(rows, json_type_array) ||
	    !json_object_object_get_ex(doc, "head", &head))
		return tg_cli_fail(NULL, tg_fail(d, TG_E_FORMAT, "%s: the export's payload is malformed", file), d);
	const char *pem_text = tg_jstr(app, "public_key");
	if (tg_pem_decode(tg_span_make((const uint8_t *)pem_text, strlen(pem_text)), "PUBLIC KEY", &label, &der, &dl) != TG_OK ||
	    tg_key_from_spki(tg_span_make(der, dl), &k, d) != TG_OK)
		return tg_cli_fail(NULL, tg_fail(d, TG_E_FORMAT, "%s: the appliance public key is malformed", file), d);
	tg_json_str(res, "appliance", k->fingerprint);
	json_object_object_add(res, "pinned", json_object_new_boolean(keyfile != NULL));
	if (keyfile) {
		if (strcmp(pinned->fingerprint, k->fingerprint) != 0) {
			snprintf(msg, n, "signed by appliance %.16s..., not by the pinned appliance %.16s...", k->fingerprint,
				 pinned->fingerprint);
			return TG_EXIT_NEGATIVE;
		}
	}
	r = tg_appliance_verify(k, tg_span_make((const uint8_t *)pae, (size_t)pn + pl), tg_span_make(sig, sl), &valid, d);
	if (r != TG_OK)
		return tg_cli_fail(NULL, r, d);
	if (!valid) {
		snprintf(msg, n, "the signature does not verify: the export was changed after it was signed");
		return TG_EXIT_NEGATIVE;
	}
	/* The chain inside, as audit verify checks the records' own. */
	char prev[65] = "0000000000000000000000000000000000000000000000000000000000000000", h[65];
	size_t nrows = json_object_array_length(rows);
	for (size_t i = 0; i < nrows; i++) {
		struct json_object *o = json_object_array_get_idx(rows, i), *sq = NULL;
		int64_t seq = json_object_object_get_ex(o, "seq", &sq) ? json_object_get_int64(sq) : -1;
		const char *f[7] = { tg_jstr(o, "time"), tg_jstr(o, "actor"), tg_jstr(o, "action"), tg_jstr(o, "object"),
				     tg_jstr(o, "detail"), tg_jstr(o, "prev_hash"), tg_jstr(o, "hash") };
		for (int j = 0; j < 7; j++)
			if (!f[j]) {
				snprintf(msg, n, "row %zu of the export is incomplete", i + 1);
				return TG_EXIT_NEGATIVE;
			}
		if (seq != (int64_t)i + 1 || strcmp(f[5], prev) != 0) {
			snprintf(msg, n, "row %zu does not follow row %zu", i + 1, i);
			return TG_EXIT_NEGATIVE;
		}
		tg_audit_row_hash(seq, f[0], f[1], f[2], f[3], f[4], f[5], h);
		if (strcmp(h, f[6]) != 0) {
			snprintf(msg, n, "row %lld was modified (hash differs)", (long long)seq);
			return TG_EXIT_NEGATIVE;
		}
		memcpy(prev, h, sizeof(prev));
	}
	if (!tg_jstr(head, "hash") || strcmp(tg_jstr(head, "hash"), prev) != 0) {
		snprintf(msg, n, "the head does not name the last row");
		return TG_EXIT_NEGATIVE;
	}
	json_object_object_add(res, "rows", json_object_new_int64((int64_t)nrows));
	tg_json_str(res, "head", prev);
	snprintf(msg, n, "export intact: %zu rows, head %.16s..., signed by appliance %s%s", nrows, prev, k->fingerprint,
		 keyfile ? " (the pinned key)" : " (not pinned: compare this fingerprint, or give --key)");
	return TG_EXIT_OK;
}

int tg_cmd_audit(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "verify", cmd_verify },
		{ "log", cmd_log },
		{ "anchor", cmd_anchor },
		{ "export", cmd_export },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "audit verify|log|anchor|export ...");
}
