/* trustgate db init|copy|backup|restore: the records themselves. */
#include <string.h>

#include "cli.h"
#include "dbmove.h"

static int cmd_init(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, NULL, 0, 0, &pos, &npos, &d);
	if (r == TG_OK)
		r = tg_db_create(ctx->db_path, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	/* The first audit row: the records' own birth. */
	detail = json_object_new_object();
	json_object_object_add(detail, "schema_version", json_object_new_int(TG_DB_SCHEMA_VERSION));
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "db.init", db->path, detail, &d);
	if (r != TG_OK) {
		tg_db_close(TAKE_PTR(db));
		tg_db_destroy(ctx->db_path);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "database", db->path);
		tg_json_str(o, "engine", tg_db_engine(db));
		json_object_object_add(o, "schema_version", json_object_new_int(TG_DB_SCHEMA_VERSION));
		tg_cli_print_json(o);
	} else {
		printf("created %s (%s, schema version %d)\n", db->path, tg_db_engine(db), TG_DB_SCHEMA_VERSION);
	}
	return TG_EXIT_OK;
}

/* trustgate db copy --to TARGET --reason TEXT */
static int cmd_copy(struct tg_ctx *ctx, int argc, char **argv)
{
	const char *to = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "to", true, &to, NULL },
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && !to)
		r = tg_fail(&d, TG_E_USAGE, "db copy: --to PATH|URL is required (see 'trustgate db copy --help')");
	if (r == TG_OK)
		r = tg_cli_text_arg("db copy: --reason TEXT", reason, TG_MAX_REASON, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	return tg_db_copy_cmd(ctx, to, reason);
}

/* trustgate db backup --out FILE */
static int cmd_backup(struct tg_ctx *ctx, int argc, char **argv)
{
	const char *out = NULL;
	const struct tg_opt opts[] = {
		{ "out", true, &out, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && !out)
		r = tg_fail(&d, TG_E_USAGE, "db backup: --out FILE is required (see 'trustgate db backup --help')");
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	return tg_db_backup_cmd(ctx, out);
}

/* trustgate db restore FILE [--replace] [--key PUB] [--tcti CONF] [--accept-rollback] --reason TEXT */
static int cmd_restore(struct tg_ctx *ctx, int argc, char **argv)
{
	struct tg_restore_args a = { 0 };
	const struct tg_opt opts[] = {
		{ "key", true, &a.key, NULL },
		{ "tcti", true, &a.tcti, NULL },
		{ "reason", true, &a.reason, NULL },
		{ "replace", false, NULL, &a.replace },
		{ "accept-rollback", false, NULL, &a.accept_rollback },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_text_arg("db restore: --reason TEXT", a.reason, TG_MAX_REASON, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	a.file = pos[0];
	return tg_db_restore_cmd(ctx, &a);
}

int tg_cmd_db(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "init", cmd_init },
		{ "copy", cmd_copy },
		{ "backup", cmd_backup },
		{ "restore", cmd_restore },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "db init|copy|backup|restore");
}
