/*
 * trustgate: global options and the command table.  Each command lives in
 * its own cmd_*.c and reads top to bottom: options, inputs, call, output.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>

#include "cli.h"
#include "help.h"
#include "../common/text.h"
#include "../common/crypto.h"
#ifdef TG_SERVICE
#include "../service/service.h"
#endif

/* The service's commands live in trustgate-service (it links libmicrohttpd
 * and GnuTLS, whose loading would cost every other command ~2.5 ms): here
 * they run that program, found beside this one, with the same arguments. */
#ifndef TG_SERVICE
static char **saved_argv;

static int run_service(struct tg_ctx *ctx, int argc, char **argv)
{
	char self[4096], *slash;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 32);

	if (n <= 0) {
		fprintf(stderr, "trustgate: %s: cannot find trustgate-service (no /proc/self/exe)\n", argv[0]);
		return TG_EXIT_ERROR;
	}
	self[n] = 0;
	slash = strrchr(self, '/');
	strcpy(slash ? slash + 1 : self, "trustgate-service");
	fflush(NULL);
	execv(self, saved_argv);
	fprintf(stderr, "trustgate: %s: cannot run %s: %s (install it beside trustgate)\n", argv[0], self,
		strerror(errno));
	return TG_EXIT_ERROR;
}
#endif

static const struct {
	const char *name;
	int (*fn)(struct tg_ctx *ctx, int argc, char **argv);
} commands[] = {
	{ "db", tg_cmd_db },         { "supplier", tg_cmd_supplier }, { "key", tg_cmd_key },
	{ "product", tg_cmd_product }, { "release", tg_cmd_release }, { "audit", tg_cmd_audit },
	{ "check", tg_cmd_check },   { "fit", tg_cmd_fit },           { "archive", tg_cmd_archive },
	{ "eventlog", tg_cmd_eventlog }, { "vendor", tg_cmd_vendor }, { "host", tg_cmd_host },
	{ "reference", tg_cmd_reference }, { "attest", tg_cmd_attest }, { "quote", tg_cmd_quote },
	{ "verdict", tg_cmd_verdict }, { "reevaluate", tg_cmd_reevaluate }, { "report", tg_cmd_report },
	{ "appliance-key", tg_cmd_appliance_key },
#ifdef TG_SERVICE
	{ "serve", tg_cmd_serve },   { "ca", tg_cmd_ca },               { "user", tg_cmd_user },
	{ "agent", tg_cmd_agent },
#else
	{ "serve", run_service },    { "ca", run_service },             { "user", run_service },
	{ "agent", run_service },
#endif
};

/* trustgate help [COMMAND [SUBCOMMAND]] | --man | --list | --reasons */
static int cmd_help(int argc, char **argv, bool json)
{
	const struct tg_help *h;

	if (argc == 1) {
		tg_help_print_all(stdout);
	} else if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		tg_help_print(stdout, tg_help_find("help", NULL));
	} else if (argc == 2 && strcmp(argv[1], "--man") == 0) {
		tg_help_print_man(stdout);
	} else if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		tg_help_list(stdout);
	} else if ((argc == 2 || (argc == 3 && strcmp(argv[2], "--json") == 0)) && strcmp(argv[1], "--reasons") == 0) {
		tg_help_reasons(stdout, json || argc == 3);
	} else if (argc <= 3 && (h = tg_help_find(argv[1], argc == 3 ? argv[2] : NULL))) {
		tg_help_print(stdout, h);
	} else {
		char shown[96];
		tg_text_quote(argv[argc - 1], shown, sizeof(shown));
		fprintf(stderr, "trustgate: help: no command '%s' (see 'trustgate help')\n", shown);
		return TG_EXIT_ERROR;
	}
	return fflush(stdout) == 0 ? TG_EXIT_OK : TG_EXIT_ERROR;
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
		enum tg_err r = tg_cli_name_arg("$TRUSTGATE_ACTOR", env, d);
		if (r != TG_OK)
			return r;
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
		{ "help", no_argument, NULL, 'h' },     { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct tg_ctx ctx = { .tier = 3, .argv0 = argv[0] };
	struct tg_diag d = { { 0 } };
	enum tg_err r;
	int c, idx;

#ifndef TG_SERVICE
	saved_argv = argv;
#endif
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
	while ((c = getopt_long(argc, argv, "+h", lo, &idx)) != -1) {
		if (c == 'h')
			return cmd_help(1, argv, false);
		if (c == 'V') {
			if ((r = tg_crypto_init(&d)) != TG_OK)
				return tg_cli_fail(&ctx, r, &d);
			tg_help_print_version(stdout);
			return fflush(stdout) == 0 ? TG_EXIT_OK : TG_EXIT_ERROR;
		}
		if (c != 0) {
			char shown[96];
			tg_text_quote(argv[optind - 1], shown, sizeof(shown));
			fprintf(stderr, "trustgate: unknown option or missing value: '%s' (see 'trustgate --help')\n",
				shown);
			return TG_EXIT_ERROR;
		}
		r = tg_cli_global(&ctx, lo[idx].name, optarg ? optarg : "", &d);
		if (r != TG_OK)
			return tg_cli_fail(&ctx, r, &d);
	}
	if (optind >= argc) {
		fprintf(stderr, "trustgate: no command given (see 'trustgate help')\n");
		return TG_EXIT_ERROR;
	}
	if (strcmp(argv[optind], "help") == 0)
		return cmd_help(argc - optind, argv + optind, ctx.json);
	r = resolve_actor(&ctx, &d);
	if (r == TG_OK)
		r = tg_crypto_init(&d);
	if (r != TG_OK)
		return tg_cli_fail(&ctx, r, &d);
	for (size_t i = 0; i < TG_ARRAY_SIZE(commands); i++)
		if (strcmp(argv[optind], commands[i].name) == 0) {
			ctx.cmd = commands[i].name;
			return commands[i].fn(&ctx, argc - optind, argv + optind);
		}
	char shown[96];
	tg_text_quote(argv[optind], shown, sizeof(shown));
	fprintf(stderr, "trustgate: unknown command '%s' (see 'trustgate help')\n", shown);
	return TG_EXIT_ERROR;
}
