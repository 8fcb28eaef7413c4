/* trustgate ca init|crl: the appliance's client CA. */
#include <string.h>

#include "service.h"
#include "pki.h"
#include "users.h"

const char *tg_service_ca_dir(const char *opt)
{
	const char *env = getenv("TRUSTGATE_CA");

	return opt ? opt : env && *env ? env : "./trustgate-ca";
}

enum tg_err tg_service_ca_pinned(struct tg_db *db, const char *dir, struct tg_diag *d)
{
	_cleanup_free_ char *pinned = NULL;
	char fpr[65];
	enum tg_err r = tg_db_meta_get(db, "service_ca", &pinned, d);

	if (r != TG_OK)
		return r;
	if (!pinned)
		return tg_fail(d, TG_E_NOTFOUND, "these records have no service CA (run 'trustgate ca init')");
	r = tg_pki_ca_fingerprint(dir, fpr, d);
	if (r != TG_OK)
		return r;
	/* A CA directory swapped for another would admit its certificates. */
	if (strcmp(fpr, pinned) != 0)
		return tg_fail(d, TG_E_FORMAT, "%s/ca.pem is not the CA these records were set up with (SHA-256 %.16s..., "
					       "records say %.16s...)", dir, fpr, pinned);
	return TG_OK;
}

/* trustgate ca init [--ca DIR] [--name NAME] [--server-names LIST] [--days N] */
static int cmd_init(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_free_ char *pinned = NULL;
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	const char *dir = NULL, *name = NULL, *names = NULL, *days_s = NULL;
	const struct tg_opt opts[] = {
		{ "ca", true, &dir, NULL }, { "name", true, &name, NULL },
		{ "server-names", true, &names, NULL }, { "days", true, &days_s, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char fpr[65], **pos;
	unsigned long long days = 3650;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (days_s && !tg_parse_uint(days_s, 1, 36500, &days))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--days must be 1 to 36500"), &d);
	dir = tg_service_ca_dir(dir);
	if (!name)
		name = "trustgate client CA";
	if ((r = tg_cli_name_arg("--name", name, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (names && (r = tg_cli_text_arg("--server-names", names, 1024, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_db_meta_get(db, "service_ca", &pinned, &d);
	if (r == TG_OK && pinned)
		r = tg_fail(&d, TG_E_EXISTS, "%s: these records already have a service CA (SHA-256 %.16s...)",
			    ctx->db_path, pinned);
	if (r == TG_OK)
		r = tg_pki_ca_init(dir, name, names, (unsigned)days, &d);
	if (r == TG_OK)
		r = tg_pki_ca_fingerprint(dir, fpr, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_json_str(detail, "dir", dir);
	tg_json_str(detail, "name", name);
	tg_json_str(detail, "ca_sha256", fpr);
	tg_json_str(detail, "server_names", names);
	json_object_object_add(detail, "days", json_object_new_int((int)days));
	r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_db_meta_set(db, "service_ca", fpr, &d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "ca.init", fpr, detail, &d);
	else
		tg_db_rollback(db);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("client CA created in %s (SHA-256 %s)\nservice certificate: %s/server.pem\n", dir, fpr, dir);
	return TG_EXIT_OK;
}

/* trustgate ca crl [--ca DIR] [--days N | --next-update DATE]
 * The CRL signed afresh from the records (a CRL past its next update
 * admits nobody: serve refuses every client until this runs and it
 * reloads). */
static int cmd_crl(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	const char *dir = NULL, *days_s = NULL, *until_s = NULL;
	const struct tg_opt opts[] = {
		{ "ca", true, &dir, NULL }, { "days", true, &days_s, NULL }, { "next-update", true, &until_s, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	unsigned long long days = TG_CRL_DAYS;
	int64_t until = 0;
	size_t n = 0;
	char when[32], **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && days_s && until_s)
		r = tg_fail(&d, TG_E_USAGE, "ca crl: --days and --next-update exclude each other");
	if (r == TG_OK && days_s && !tg_parse_uint(days_s, 1, 3650, &days))
		r = tg_fail(&d, TG_E_USAGE, "--days must be 1 to 3650");
	if (r == TG_OK && until_s && !tg_parse_date(until_s, &until))
		r = tg_fail(&d, TG_E_USAGE, "--next-update '%s' is not a date YYYY-MM-DD", until_s);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!until)
		until = tg_now_epoch() + (int64_t)days * 86400;
	dir = tg_service_ca_dir(dir);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_service_ca_pinned(db, dir, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r == TG_OK)
		r = tg_service_crl_rewrite(db, dir, until, &n, &d);
	tg_epoch_iso(until, when);
	tg_json_str(detail, "next_update", when);
	json_object_object_add(detail, "entries", json_object_new_int64((int64_t)n));
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, "ca.crl", "crl", detail, &d);
	else if (db && db->in_tx)
		tg_db_rollback(db);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (until_s)
		tg_cli_warn_past("--next-update", until_s);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("%s/crl.pem signed afresh: %zu revoked certificate%s, next update %s (a running serve reads it on "
		       "SIGHUP)\n", dir, n, n == 1 ? "" : "s", when);
	return TG_EXIT_OK;
}

int tg_cmd_ca(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "init", cmd_init },
		{ "crl", cmd_crl },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "ca init|crl ...");
}
