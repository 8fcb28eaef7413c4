/*
 * Shared plumbing of the trustgate commands: the context built from the
 * global options, option parsing, and helpers every cmd_*.c uses.
 */
#ifndef TG_CLI_H
#define TG_CLI_H

#include <json-c/json.h>

#include "../common/tg.h"
#include "../db/db.h"

static inline void tg_json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(tg_json_putp)

/* Exit codes (CLI.md). */
#define TG_EXIT_OK 0
#define TG_EXIT_NEGATIVE 1
#define TG_EXIT_ERROR 2

struct tg_ctx {
	const char *db_path;
	const char *actor;
	bool json;
	int tier;         /* 1..5 */
	bool cii, gm;
	bool tier_given, actor_given;
	const char *argv0;
	const char *cmd, *sub; /* the command word and subcommand, for --help */
	char actor_buf[TG_MAX_NAME + 1];
};

/* A command-specific option.  has_arg options store into *str; flags set
 * *flag.  Each option may be given at most once. */
struct tg_opt {
	const char *name;
	bool has_arg;
	const char **str;
	bool *flag;
};

/* Parse argv (argv[0] is the command word) with the command's options and
 * the global ones.  Positional arguments are returned in *ret_pos (a view
 * into argv) and their count must be within [min_pos, max_pos].  Returns
 * TG_E_USAGE with a diagnostic on any problem. */
enum tg_err tg_cli_parse(struct tg_ctx *ctx, int argc, char **argv, const struct tg_opt *opts,
			 int min_pos, int max_pos, char ***ret_pos, int *ret_npos,
			 struct tg_diag *d);
/* Handle one global option (used by main and tg_cli_parse). */
enum tg_err tg_cli_global(struct tg_ctx *ctx, const char *name, const char *arg,
			  struct tg_diag *d);

/* Print a diagnostic ("trustgate: ...") and map an error to its exit code. */
int tg_cli_fail(const struct tg_ctx *ctx, enum tg_err err, const struct tg_diag *d);

/* Open the records for a command (never creates). */
enum tg_err tg_cli_open_db(struct tg_ctx *ctx, struct tg_db **ret, struct tg_diag *d);
/* The same for a path (the service's workers): anchoring enabled when the
 * records say they are anchored. */
enum tg_err tg_cli_open_db_path(const char *path, struct tg_db **ret, struct tg_diag *d);

/* Names of suppliers, products, hosts, models, actors: UTF-8 under the
 * rules of common/text.h (NFC, printable, no '/', bounded), so a name can
 * never become a path, an option or a second log line (THREATS cases 63,
 * 72). */
bool tg_cli_name_ok(const char *s);
/* Free text (reasons, references): 1..max bytes of UTF-8 without control
 * or bidi characters. */
bool tg_cli_text_ok(const char *s, size_t max);
/* The same as a diagnostic naming the option and the problem:
 * "supplier name 'a<U+202E>b' contains U+202E, a bidirectional...".
 * tg_cli_text_arg also refuses a missing (NULL) value: "WHAT is required". */
enum tg_err tg_cli_name_arg(const char *what, const char *s, struct tg_diag *d);
enum tg_err tg_cli_text_arg(const char *what, const char *s, size_t max, struct tg_diag *d);

/* Write the audit row for a mutation (detail as compact JSON) and commit
 * the transaction the caller began; rolls back on any failure, so no
 * change is ever stored without its audit row. */
enum tg_err tg_cli_audit_commit(struct tg_ctx *ctx, struct tg_db *db, const char *action,
				const char *object, struct json_object *detail, struct tg_diag *d);

/* A date already past is accepted (records are corrected after the fact)
 * but said on stderr: it is most likely a typo. */
void tg_cli_warn_past(const char *opt, const char *date);

/* Print a JSON document to stdout. */
void tg_cli_print_json(struct json_object *o);
void tg_cli_fprint_json(FILE *f, struct json_object *o);
/* A member of a JSON object (NULL when o is NULL or lacks it), and a
 * string member (NULL unless it is a string). */
static inline struct json_object *tg_jget(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static inline const char *tg_jstr(struct json_object *o, const char *key)
{
	struct json_object *v = tg_jget(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* Add a string or null. */
void tg_json_str(struct json_object *o, const char *key, const char *val);
/* Every string of a document made valid UTF-8 in place (tg_utf8_scrub):
 * the net under the documents that are stored and signed, whichever path
 * put an input's bytes into them. */
void tg_json_scrub(struct json_object *o);

/* What the CLI's --json and the service show of records, one function each. */
struct tg_supplier;
struct tg_host;
struct json_object *tg_supplier_json(const struct tg_supplier *s);
struct json_object *tg_host_json(const struct tg_host *h);
/* audit verify without the TPM: {intact, first_bad_row?, problem?, records[]};
 * *ret_ok is the chain intact and every record matching its history. */
enum tg_err tg_audit_check(struct tg_db *db, struct json_object **ret, bool *ret_ok, struct tg_diag *d);

/* One audit row selected as "seq, time, actor, action, object, detail,
 * hash", as `audit log --json` shows it. */
struct json_object *tg_audit_row_json(struct tg_stmt *st);

/* Commands (one file each). */
/* Subcommands of one command word ("supplier add", "key list"...). */
typedef int (*tg_cmd_fn)(struct tg_ctx *ctx, int argc, char **argv);
struct tg_subcmd {
	const char *name;
	tg_cmd_fn fn;
};
/* Run the subcommand argv[1] names (with argv shifted to it), else print
 * "trustgate: usage: trustgate USAGE" and return exit 2. */
/* On an appliance (anchored records): extend the decision PCR with this
 * verdict line and append it to the decision log; elsewhere nothing. */
enum tg_err tg_cli_measure_decision(struct tg_db *db, const char *line, struct tg_diag *d);
/* Anchor these records' audit heads in the TPM reached through tcti. */
enum tg_err tg_cli_anchor_enable(struct tg_db *db, const char *tcti);

int tg_cli_dispatch(struct tg_ctx *ctx, int argc, char **argv, const struct tg_subcmd *subs, size_t n,
		    const char *usage);

int tg_cmd_db(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_supplier(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_key(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_product(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_release(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_audit(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_check(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_eventlog(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_fit(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_quote(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_host(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_reference(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_attest(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_vendor(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_archive(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_verdict(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_reevaluate(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_report(struct tg_ctx *ctx, int argc, char **argv);
int tg_cmd_appliance_key(struct tg_ctx *ctx, int argc, char **argv);

/* A decision's output (verifier/output.c): render into tg_out_open()'s
 * stream, tg_out_seal(), commit (tg_cli_audit_commit marks it), then
 * tg_out_flush() writes it; tg_out_discard() when nothing is recorded. */
FILE *tg_out_open(void);
void tg_out_seal(void);
void tg_out_committed(void);
bool tg_out_flush(void);
/* The sealed output handed to the caller instead of written (check
 * --batch: a worker sends it to the process that prints in order). */
char *tg_out_take(size_t *len);
void tg_out_discard(void);
/* Turn fatal signals into exit 2 (showing a recorded verdict first). */
void tg_crash_guard_install(void);
/* TRUSTGATE_TEST_CRASH=WHERE raises SIGSEGV at that point (tests only). */
void tg_test_crash_point(const char *where);

#endif
