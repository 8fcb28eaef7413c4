/*
 * trustgate appliance-key init [--gm]
 * trustgate appliance-key show
 *
 * The key that signs this appliance's VSAs, EARs and audit exports
 * (verifier/appliance.h).  `show` prints its public key: what a relying
 * party pins to verify them offline.
 */
#include <string.h>

#include "cli.h"
#include "appliance.h"

static int cmd_init(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *info = NULL;
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_appliance_key_init(ctx, db, ctx->gm, &info, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		tg_cli_print_json(info);
	} else {
		struct json_object *v = NULL;
		json_object_object_get_ex(info, "private_key", &v);
		printf("appliance key %s (%s) created; private key in %s (keep it on this appliance)\n",
		       json_object_get_string(json_object_object_get(info, "fingerprint")), ctx->gm ? "SM2" : "Ed25519",
		       json_object_get_string(v));
		json_object_object_get_ex(info, "public_key", &v);
		printf("%s", json_object_get_string(v));
	}
	return TG_EXIT_OK;
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_free_ char *pem = NULL;
	struct tg_privkey *k = NULL;
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 0, 0, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_appliance_key_load(db, &k, &d);
	if (r == TG_OK && !(pem = tg_appliance_pub_pem(k)))
		r = TG_E_NOMEM;
	if (r != TG_OK) {
		tg_privkey_free(k);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "fingerprint", k->pub->fingerprint);
		tg_json_str(o, "algorithm", k->pub->type == TG_KEY_SM2 ? "sm2" : "ed25519");
		tg_json_str(o, "public_key", pem);
		tg_cli_print_json(o);
	} else {
		printf("%s", pem);
	}
	tg_privkey_free(k);
	return TG_EXIT_OK;
}

int tg_cmd_appliance_key(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "init", cmd_init },
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "appliance-key init|show");
}
