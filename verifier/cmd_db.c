/* trustgate db init: create the records. */
#include <string.h>

#include "cli.h"

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
		r = tg_cli_audit_commit(ctx, db, "db.init", ctx->db_path, detail, &d);
	if (r != TG_OK) {
		tg_db_close(TAKE_PTR(db));
		unlink(ctx->db_path);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "database", ctx->db_path);
		json_object_object_add(o, "schema_version", json_object_new_int(TG_DB_SCHEMA_VERSION));
		tg_cli_print_json(o);
	} else {
		printf("created %s (schema version %d)\n", ctx->db_path, TG_DB_SCHEMA_VERSION);
	}
	return TG_EXIT_OK;
}

int tg_cmd_db(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "init", cmd_init },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "db init");
}
