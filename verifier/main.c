/*
 * trustgate: global options and the command table.  Each command lives in
 * its own cmd_*.c and reads top to bottom: options, inputs, call, output.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "../common/crypto.h"

static const struct {
	const char *name;
	int (*fn)(struct tg_ctx *ctx, int argc, char **argv);
	const char *summary;
} commands[] = {
	{ "db", tg_cmd_db, "db init" },
	{ "supplier", tg_cmd_supplier, "supplier add|set|list|show" },
	{ "key", tg_cmd_key, "key add|revoke|list" },
	{ "product", tg_cmd_product, "product add|set" },
	{ "release", tg_cmd_release, "release add|revoke" },
	{ "audit", tg_cmd_audit, "audit verify|log" },
	{ "check", tg_cmd_check, "check FILE [--sig SIG] [--product NAME] [--version V]" },
	{ "fit", tg_cmd_fit, "fit show FILE [--json]" },
	{ "archive", tg_cmd_archive, "archive list FILE [--json]" },
	{ "eventlog", tg_cmd_eventlog, "eventlog FILE [--json]" },
	{ "vendor", tg_cmd_vendor, "vendor sign ARCHIVE --key PRIVATE.pem --product NAME --version V --out FILE | manifest ARCHIVE [--json]" },
	{ "host", tg_cmd_host, "host enroll NAME --ak AKPUB [--ek EKPUB | --ek-cert CERT] [--model NAME] --reason TEXT | list | show NAME" },
	{ "reference", tg_cmd_reference, "reference import --eventlog LOG --model NAME --reason TEXT | list [--model NAME]" },
	{ "attest", tg_cmd_attest, "attest NAME --msg ATTEST --sig SIG --eventlog LOG --nonce HEX [--pcrs PCRS] | --bundle DIR" },
	{ "quote", tg_cmd_quote, "quote verify --ak AKPUB --msg ATTEST --sig SIG [--pcrs PCRS] [--eventlog LOG] --nonce HEX" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: trustgate [--db PATH] [--json] [--actor NAME] [--tier N] [--cii] [--gm] "
		   "COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < TG_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %s\n", commands[i].summary);
	fprintf(f, "\nexit status: 0 approved/success, 1 rejected, 2 could not decide\n");
}

/* The actor recorded in the audit log: --actor, $TRUSTGATE_ACTOR, else the
 * login name of the effective user. */
static enum tg_err resolve_actor(struct tg_ctx *ctx, struct tg_diag *d)
{
	const char *env = getenv("TRUSTGATE_ACTOR");
	struct passwd *pw;

	if (ctx->actor)
		return TG_OK;
	if (env && *env) {
		if (!tg_cli_name_ok(env))
			return tg_fail(d, TG_E_USAGE, "$TRUSTGATE_ACTOR: invalid name");
		ctx->actor = env;
		return TG_OK;
	}
	pw = getpwuid(geteuid());
	snprintf(ctx->actor_buf, sizeof(ctx->actor_buf), "%s",
		 pw && tg_cli_name_ok(pw->pw_name) ? pw->pw_name : "uid-unknown");
	if (!pw)
		snprintf(ctx->actor_buf, sizeof(ctx->actor_buf), "uid-%u", (unsigned)geteuid());
	ctx->actor = ctx->actor_buf;
	return TG_OK;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 0 },   { "actor", required_argument, NULL, 0 },
		{ "tier", required_argument, NULL, 0 }, { "json", no_argument, NULL, 0 },
		{ "cii", no_argument, NULL, 0 },        { "gm", no_argument, NULL, 0 },
		{ "help", no_argument, NULL, 'h' },     { NULL, 0, NULL, 0 },
	};
	struct tg_ctx ctx = { .tier = 3, .argv0 = argv[0] };
	struct tg_diag d = { { 0 } };
	enum tg_err r;
	int c, idx;

	/* Library code never prints: TSS2 logs to stderr unless told not to;
	 * every TSS2_RC is turned into our one diagnostic line instead. */
	setenv("TSS2_LOG", "all+NONE", 1);
	/* Names are UTF-8 (member names, supplier names): libarchive converts
	 * pathnames to the locale's character set and fails on non-ASCII ones
	 * in the C locale.  Only LC_CTYPE: messages, numbers and collation
	 * stay those of the C locale. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C.utf8");
	/* A helper that exits early (gpgv) must not kill us through SIGPIPE:
	 * writes fail with EPIPE and are handled. */
	signal(SIGPIPE, SIG_IGN);
	tg_crash_guard_install();
	ctx.db_path = getenv("TRUSTGATE_DB");
	if (!ctx.db_path || !*ctx.db_path)
		ctx.db_path = "./trustgate.db";
	opterr = 0;
	/* "+": stop at the command word; its own options follow it. */
	while ((c = getopt_long(argc, argv, "+", lo, &idx)) != -1) {
		if (c == 'h') {
			usage(stdout);
			return TG_EXIT_OK;
		}
		if (c != 0) {
			fprintf(stderr, "trustgate: unknown option or missing value: '%s'\n",
				argv[optind - 1]);
			return TG_EXIT_ERROR;
		}
		r = tg_cli_global(&ctx, lo[idx].name, optarg ? optarg : "", &d);
		if (r != TG_OK)
			return tg_cli_fail(&ctx, r, &d);
	}
	if (optind >= argc) {
		usage(stderr);
		return TG_EXIT_ERROR;
	}
	if (strcmp(argv[optind], "help") == 0) {
		usage(stdout);
		return TG_EXIT_OK;
	}
	r = resolve_actor(&ctx, &d);
	if (r == TG_OK)
		r = tg_crypto_init(&d);
	if (r != TG_OK)
		return tg_cli_fail(&ctx, r, &d);
	for (size_t i = 0; i < TG_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0)
			return commands[i].fn(&ctx, argc - optind, argv + optind);
	fprintf(stderr, "trustgate: unknown command '%s' (see 'trustgate help')\n", argv[optind]);
	return TG_EXIT_ERROR;
}
