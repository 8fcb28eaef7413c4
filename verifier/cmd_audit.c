/* trustgate audit verify|log */
#include <string.h>

#include <sqlite3.h>

#include "cli.h"

static int cmd_verify(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_audit_problem pb = { 0 };
	bool intact = false;
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_audit_verify(db, &intact, &pb, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		json_object_object_add(o, "intact", json_object_new_boolean(intact));
		if (!intact) {
			json_object_object_add(o, "first_bad_row", json_object_new_int64(pb.seq));
			tg_json_str(o, "problem", pb.what);
		}
		tg_cli_print_json(o);
	} else if (intact) {
		printf("audit log intact\n");
	} else {
		printf("audit log TAMPERED: first bad row %lld: %s\n", (long long)pb.seq, pb.what);
	}
	return intact ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}

static int cmd_log(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	const char *since = NULL;
	const struct tg_opt opts[] = {
		{ "since", true, &since, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char since_iso[32] = "", **pos;
	bool row = false;
	int64_t t;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (since) {
		if (!tg_parse_date(since, &t))
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--since '%s' is not a date YYYY-MM-DD", since), &d);
		tg_epoch_iso(t, since_iso);
	}
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_prepare(db, "SELECT seq, time, actor, action, object, detail, hash FROM audit "
				      "WHERE time >= ?1 ORDER BY seq;", &st, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_db_bind_text(st, 1, since_iso);
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
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "audit verify|log");
}
