/* Option parsing and helpers shared by the commands. */
#define _GNU_SOURCE
#include <getopt.h>
#include <string.h>
#include <unistr.h>

#include "cli.h"
#include "help.h"
#include "../common/encoding.h"
#include "../common/text.h"
#include "../measure/decisions.h"
#include "../measure/tpm.h"

static const char *const global_with_arg[] = { "db", "actor", "tier" };
static const char *const global_flags[] = { "json", "cii", "gm" };

enum tg_err tg_cli_global(struct tg_ctx *ctx, const char *name, const char *arg,
			  struct tg_diag *d)
{
	if (strcmp(name, "db") == 0) {
		if (!*arg)
			return tg_fail(d, TG_E_USAGE, "--db needs a path");
		ctx->db_path = arg;
	} else if (strcmp(name, "actor") == 0) {
		enum tg_err r = tg_cli_name_arg("--actor", arg, d);
		if (r != TG_OK)
			return r;
		ctx->actor = arg;
		ctx->actor_given = true;
	} else if (strcmp(name, "tier") == 0) {
		if (strlen(arg) != 1 || arg[0] < '1' || arg[0] > '5')
			return tg_fail(d, TG_E_USAGE, "--tier must be 1 to 5, not '%s'", arg);
		ctx->tier = arg[0] - '0';
		ctx->tier_given = true;
	} else if (strcmp(name, "json") == 0) {
		ctx->json = true;
	} else if (strcmp(name, "cii") == 0) {
		ctx->cii = true;
	} else if (strcmp(name, "gm") == 0) {
		ctx->gm = true;
	} else {
		return tg_fail(d, TG_E_USAGE, "unknown option --%s", name);
	}
	return TG_OK;
}

enum tg_err tg_cli_parse(struct tg_ctx *ctx, int argc, char **argv, const struct tg_opt *opts,
			 int min_pos, int max_pos, char ***ret_pos, int *ret_npos,
			 struct tg_diag *d)
{
	struct option lo[40];
	bool seen[40] = { false };
	size_t n = 0, nopts = 0;
	int c, idx;
	char path[64];

	/* "supplier add": the words a user types, for messages and --help */
	snprintf(path, sizeof(path), "%s%s%s", ctx->cmd ? ctx->cmd : argv[0], ctx->sub ? " " : "",
		 ctx->sub ? ctx->sub : "");

	for (; opts && opts[nopts].name; nopts++) {
		if (n >= TG_ARRAY_SIZE(lo) - 8)
			return tg_fail(d, TG_E_USAGE, "too many options");
		lo[n++] = (struct option){ opts[nopts].name, opts[nopts].has_arg ? required_argument
										: no_argument, NULL, 0 };
	}
	for (size_t i = 0; i < TG_ARRAY_SIZE(global_with_arg); i++)
		lo[n++] = (struct option){ global_with_arg[i], required_argument, NULL, 0 };
	for (size_t i = 0; i < TG_ARRAY_SIZE(global_flags); i++)
		lo[n++] = (struct option){ global_flags[i], no_argument, NULL, 0 };
	lo[n] = (struct option){ NULL, 0, NULL, 0 };

	/* --help anywhere (before a "--"): the help of this command, checked
	 * against the options it parses (help.h), and nothing else runs. */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--help") != 0 && strcmp(argv[i], "-h") != 0)
			continue;
		const struct tg_help *h = tg_help_find(ctx->cmd ? ctx->cmd : argv[0], ctx->sub);
		const char *bad = h ? tg_help_mismatch(h, opts) : "no help entry";
		if (bad) {
			fprintf(stderr, "trustgate: internal: the help of '%s' does not match its options: %s\n", path,
				bad);
			exit(TG_EXIT_ERROR);
		}
		tg_help_print(stdout, h);
		exit(fflush(stdout) == 0 ? TG_EXIT_OK : TG_EXIT_ERROR);
	}
	optind = 0; /* 0: full re-initialisation of glibc getopt */
	opterr = 0;
	/* "-" first: positional arguments come back in order as '\1', so
	 * options and operands may be mixed as users do. */
	_cleanup_free_ char **pos = tg_calloc((size_t)argc + 1, sizeof(char *));
	int npos = 0;
	if (!pos)
		return TG_E_NOMEM;
	while ((c = getopt_long(argc, argv, "-", lo, &idx)) != -1) {
		if (c == 1) {
			pos[npos++] = optarg;
			continue;
		}
		if (c == '?' || c == ':') {
			char shown[96];
			tg_text_quote(argv[optind - 1], shown, sizeof(shown));
			return tg_fail(d, TG_E_USAGE, "%s: unknown option or missing value: '%s' (see 'trustgate %s --help')",
				       path, shown, path);
		}
		if ((size_t)idx < nopts) {
			/* A repeated option is ambiguous: which --reason counts? */
			if (seen[idx])
				return tg_fail(d, TG_E_USAGE, "--%s given twice", lo[idx].name);
			seen[idx] = true;
			if (opts[idx].has_arg)
				*opts[idx].str = optarg;
			else
				*opts[idx].flag = true;
		} else {
			enum tg_err r = tg_cli_global(ctx, lo[idx].name, optarg ? optarg : "", d);
			if (r != TG_OK)
				return r;
		}
	}
	while (optind < argc)
		pos[npos++] = argv[optind++];
	if (npos < min_pos)
		return tg_fail(d, TG_E_USAGE, "%s: missing argument (see 'trustgate %s --help')", path, path);
	if (npos > max_pos) {
		char shown[96];
		tg_text_quote(pos[max_pos], shown, sizeof(shown));
		return tg_fail(d, TG_E_USAGE, "%s: unexpected argument '%s' (see 'trustgate %s --help')", path, shown,
			       path);
	}
	/* The positional view outlives this call: copy into argv's storage. */
	for (int i = 0; i < npos; i++)
		argv[argc - npos + i] = pos[i];
	*ret_pos = argv + argc - npos;
	*ret_npos = npos;
	return TG_OK;
}

int tg_cli_fail(const struct tg_ctx *ctx, enum tg_err err, const struct tg_diag *d)
{
	(void)ctx;
	if (err == TG_OK)
		return TG_EXIT_OK;
	fprintf(stderr, "trustgate: %s\n", d && d->msg[0] ? d->msg : tg_strerror(err));
	return TG_EXIT_ERROR;
}

/* Records anchored in a TPM (`audit anchor`): every new audit head is
 * written to the TPM before its transaction commits; the TPM is opened on
 * the first write. */
struct anchor_ctx {
	char *tcti;
	struct tg_tpm *tpm;
};

static void anchor_free(void *ud)
{
	struct anchor_ctx *a = ud;

	tg_tpm_close(a->tpm);
	free(a->tcti);
	free(a);
}

static enum tg_err anchor_write(void *ud, int64_t seq, const char *hash_hex, struct tg_diag *d)
{
	struct anchor_ctx *a = ud;
	uint8_t h[32];
	size_t n = 0;
	enum tg_err r;

	if (!a->tpm && (r = tg_tpm_open(a->tcti, &a->tpm, d)) != TG_OK)
		return r;
	if (!tg_hex_decode(hash_hex, h, sizeof(h), &n) || n != 32)
		return tg_fail(d, TG_E_DB, "audit head hash is malformed");
	return tg_tpm_anchor_write(a->tpm, (uint64_t)seq, h, d);
}

enum tg_err tg_cli_anchor_enable(struct tg_db *db, const char *tcti)
{
	struct anchor_ctx *a = calloc(1, sizeof(*a));

	if (!a || !(a->tcti = strdup(tcti ? tcti : ""))) {
		free(a);
		return TG_E_NOMEM;
	}
	if (db->anchor_free)
		db->anchor_free(db->anchor_ud);
	db->anchor = anchor_write;
	db->anchor_ud = a;
	db->anchor_free = anchor_free;
	return TG_OK;
}

enum tg_err tg_cli_measure_decision(struct tg_db *db, const char *line, struct tg_diag *d)
{
	_cleanup_free_ char *path = NULL;
	struct anchor_ctx *a;
	enum tg_err r;

	/* Only an appliance (records anchored in its TPM) measures decisions. */
	if (db->anchor != anchor_write)
		return TG_OK;
	a = db->anchor_ud;
	r = tg_db_local_get(db, "decision_log", &path, d);
	if (r != TG_OK)
		return r;
	if (!path)
		return tg_fail(d, TG_E_DB, "%s: anchored records without a decision log setting", db->path);
	if (!a->tpm && (r = tg_tpm_open(a->tcti, &a->tpm, d)) != TG_OK)
		return r;
	return tg_decision_measure(a->tpm, path, line, d);
}

enum tg_err tg_cli_open_db(struct tg_ctx *ctx, struct tg_db **ret, struct tg_diag *d)
{
	return tg_cli_open_db_path(ctx->db_path, ret, d);
}

enum tg_err tg_cli_open_db_path(const char *path, struct tg_db **ret, struct tg_diag *d)
{
	_cleanup_free_ char *anchor = NULL;
	enum tg_err r = tg_db_open(path, ret, d);

	if (r != TG_OK)
		return r;
	r = tg_db_local_get(*ret, "tpm_anchor", &anchor, d);
	if (r == TG_OK && anchor)
		r = tg_cli_anchor_enable(*ret, anchor);
	if (r != TG_OK) {
		tg_db_close(*ret);
		*ret = NULL;
	}
	return r;
}

bool tg_cli_name_ok(const char *s)
{
	return tg_name_check(s, NULL, 0);
}

bool tg_cli_text_ok(const char *s, size_t max)
{
	return tg_text_check(s, max, NULL, 0);
}

enum tg_err tg_cli_name_arg(const char *what, const char *s, struct tg_diag *d)
{
	char why[160], shown[96];

	if (tg_name_check(s, why, sizeof(why)))
		return TG_OK;
	tg_text_quote(s, shown, sizeof(shown));
	return tg_fail(d, TG_E_USAGE, "%s '%s' %s", what, shown, why);
}

enum tg_err tg_cli_text_arg(const char *what, const char *s, size_t max, struct tg_diag *d)
{
	char why[160], shown[96];

	if (!s)
		return tg_fail(d, TG_E_USAGE, "%s is required", what);
	if (tg_text_check(s, max, why, sizeof(why)))
		return TG_OK;
	tg_text_quote(s, shown, sizeof(shown));
	return tg_fail(d, TG_E_USAGE, "%s '%s' %s", what, shown, why);
}

void tg_cli_warn_past(const char *opt, const char *date)
{
	char today[32];

	tg_now_iso(today);
	if (strncmp(date, today, 10) < 0)
		fprintf(stderr, "trustgate: warning: %s %.10s is already past\n", opt, date);
}

void tg_cli_print_json(struct json_object *o)
{
	tg_cli_fprint_json(stdout, o);
}

void tg_cli_fprint_json(FILE *f, struct json_object *o)
{
	fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

void tg_json_str(struct json_object *o, const char *key, const char *val)
{
	_cleanup_free_ char *copy = NULL;

	/* JSON is UTF-8: a file or member name that is not stays readable
	 * with its bad bytes as '?' (the verdict names the problem). */
	if (val && u8_check((const uint8_t *)val, strlen(val)) && (copy = strdup(val))) {
		tg_utf8_scrub(copy);
		val = copy;
	}
	json_object_object_add(o, key, val ? json_object_new_string(val) : NULL);
}

void tg_json_scrub(struct json_object *o)
{
	const char *s;

	switch (json_object_get_type(o)) {
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			tg_json_scrub(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++)
			tg_json_scrub(json_object_array_get_idx(o, i));
		break;
	case json_type_string:
		s = json_object_get_string(o);
		if (u8_check((const uint8_t *)s, (size_t)json_object_get_string_len(o))) {
			_cleanup_free_ char *copy = strndup(s, (size_t)json_object_get_string_len(o));
			if (copy) {
				tg_utf8_scrub(copy);
				json_object_set_string(o, copy);
			}
		}
		break;
	default:
		break;
	}
}

enum tg_err tg_cli_audit_commit(struct tg_ctx *ctx, struct tg_db *db, const char *action,
				const char *object, struct json_object *detail, struct tg_diag *d)
{
	const char *text = json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN |
								  JSON_C_TO_STRING_NOSLASHESCAPE);
	enum tg_err r = tg_audit_append(db, ctx->actor, action, object, text, d);

	if (r != TG_OK) {
		tg_db_rollback(db);
		return r;
	}
	r = tg_db_commit(db, d);
	if (r == TG_OK)
		tg_out_committed();
	return r;
}

int tg_cli_dispatch(struct tg_ctx *ctx, int argc, char **argv, const struct tg_subcmd *subs, size_t n,
		    const char *usage)
{
	const struct tg_help *h = tg_help_find(argv[0], NULL);

	for (size_t i = 0; argc > 1 && i < n; i++) {
		if (strcmp(argv[1], subs[i].name) == 0) {
			ctx->sub = subs[i].name;
			return subs[i].fn(ctx, argc - 1, argv + 1);
		}
	}
	if (argc > 1 && h && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
			      strcmp(argv[1], "help") == 0)) {
		tg_help_print(stdout, h);
		return fflush(stdout) == 0 ? TG_EXIT_OK : TG_EXIT_ERROR;
	}
	if (argc > 1) {
		char shown[96];
		tg_text_quote(argv[1], shown, sizeof(shown));
		fprintf(stderr, "trustgate: %s: unknown subcommand '%s' (usage: trustgate %s; see 'trustgate %s --help')\n",
			argv[0], shown, usage, argv[0]);
	} else {
		fprintf(stderr, "trustgate: usage: trustgate %s (see 'trustgate %s --help')\n", usage, argv[0]);
	}
	return TG_EXIT_ERROR;
}
