/*
 * Changes to the records over the API (POST /v1/suppliers, /v1/keys, ...):
 * each is the CLI command that makes the same change, run as a child
 * process with an argument vector built from the form's fields -- never a
 * shell, every name checked before it becomes an argument (a name cannot
 * start with '-', so none can pose as an option) -- and the certificate's
 * subject as the audit actor.  The command validates, records and audits
 * exactly as it does at a terminal; its --json output is the answer, its
 * one error line the 4xx.  Changes are rare: the child's start (a few
 * milliseconds) buys one implementation of every rule.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "mutate.h"
#include "pki.h"
#include "../common/file.h"
#include "../common/text.h"

enum arg_kind { POS, POS_PATH, OPT, FLAG, FILE_POS, FILE_OPT };

struct cli_arg {
	const char *field;    /* form field (POS_PATH: the path's {name}) */
	enum arg_kind kind;
	const char *option;   /* "--country" (OPT, FLAG, FILE_OPT) */
	bool required;
};

struct mutation {
	const char *words[2];
	struct cli_arg args[12];
};

#define END { NULL, 0, NULL, false }
#define REASON { "reason", OPT, "--reason", true }

static const struct mutation supplier_add = { { "supplier", "add" }, {
	{ "name", POS, NULL, true }, { "country", OPT, "--country", false }, { "max_tier", OPT, "--max-tier", false },
	{ "cii", FLAG, "--cii", false }, { "review", OPT, "--review", false },
	{ "review_expires", OPT, "--review-expires", false }, { "status", OPT, "--status", false }, REASON, END } };
static const struct mutation supplier_set = { { "supplier", "set" }, {
	{ "name", POS_PATH, NULL, true }, { "status", OPT, "--status", false }, { "review", OPT, "--review", false },
	{ "review_expires", OPT, "--review-expires", false }, { "max_tier", OPT, "--max-tier", false },
	{ "cii", FLAG, "--cii", false }, { "no_cii", FLAG, "--no-cii", false }, { "country", OPT, "--country", false },
	REASON, END } };
static const struct mutation key_add = { { "key", "add" }, {
	{ "supplier", POS, NULL, true }, { "key", FILE_POS, NULL, true }, { "purpose", OPT, "--purpose", false },
	{ "hash", OPT, "--hash", false }, { "name", OPT, "--name", false }, { "not_before", OPT, "--not-before", false },
	{ "not_after", OPT, "--not-after", false }, REASON, END } };
static const struct mutation key_revoke = { { "key", "revoke" }, {
	{ "fingerprint", POS_PATH, NULL, true }, REASON, END } };
static const struct mutation product_add = { { "product", "add" }, {
	{ "supplier", POS, NULL, true }, { "name", POS, NULL, true }, { "kind", OPT, "--kind", true },
	{ "max_tier", OPT, "--max-tier", false }, { "min_version", OPT, "--min-version", false },
	{ "guid", OPT, "--guid", false }, { "allow", OPT, "--allow", false }, REASON, END } };
static const struct mutation release_add = { { "release", "add" }, {
	{ "supplier", POS, NULL, true }, { "product", POS, NULL, true }, { "version", POS, NULL, true },
	{ "file", FILE_OPT, "--file", false }, { "digest", OPT, "--digest", false }, REASON, END } };
static const struct mutation reference_import = { { "reference", "import" }, {
	{ "eventlog", FILE_OPT, "--eventlog", true }, { "model", OPT, "--model", true }, REASON, END } };
static const struct mutation host_enroll = { { "host", "enroll" }, {
	{ "name", POS, NULL, true }, { "ak", FILE_OPT, "--ak", true }, { "ek", FILE_OPT, "--ek", false },
	{ "model", OPT, "--model", false }, { "secret", OPT, "--secret", false },
	{ "no_challenge", FLAG, "--no-challenge", false }, REASON, END } };

static const struct mutation host_challenge = { { "host", "challenge" }, {
	{ "name", POS_PATH, NULL, true }, { "ak", FILE_OPT, "--ak", true }, { "ek", FILE_OPT, "--ek", true }, END } };

static const struct {
	const char *route;
	const struct mutation *m;
} table[] = {
	{ "host_challenge", &host_challenge },
	{ "supplier_add", &supplier_add }, { "supplier_set", &supplier_set }, { "key_add", &key_add },
	{ "key_revoke", &key_revoke }, { "product_add", &product_add }, { "release_add", &release_add },
	{ "reference_import", &reference_import }, { "host_enroll", &host_enroll },
};

static const char *field_value(struct tg_request *rq, const char *name, bool *is_file)
{
	for (size_t i = 0; i < rq->nfields; i++)
		if (strcmp(rq->fields[i].spec->name, name) == 0) {
			*is_file = rq->fields[i].path != NULL;
			return *is_file ? rq->fields[i].path : (const char *)rq->fields[i].data;
		}
	return NULL;
}

/* Read what the child says on fd, at most cap bytes, within the deadline. */
static size_t drain(int fd, char *buf, size_t cap, time_t deadline)
{
	size_t n = 0;

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int left = (int)(deadline - time(NULL));
		if (left <= 0 || poll(&p, 1, left * 1000) <= 0)
			break;
		ssize_t got = read(fd, buf + n, cap - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		if (n + 1 >= cap)
			break;
	}
	buf[n] = 0;
	return n;
}

/* What a child said: its exit code, stdout, first line of stderr. */
struct child_out {
	int code;
	char out[256 * 1024], err[4096];
};

/* Run this program with argv on the records at db; false (errno set) when
 * it could not run.  The records reach the child in its environment, not its
 * argv: a PostgreSQL URL may carry a password, and argv is public in ps. */
static bool run_child(const char *const *argv, const char *db, struct child_out *co)
{
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int out[2], err[2];

	if (sl <= 0)
		return false;
	self[sl] = 0;
	if (pipe2(out, O_CLOEXEC) < 0)
		return false;
	if (pipe2(err, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return false;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		if (setenv("TRUSTGATE_DB", db, 1) != 0)
			_exit(127);
		execv(self, (char *const *)argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	if (pid < 0) {
		close(out[0]);
		close(err[0]);
		return false;
	}
	/* Both pipes are small (a record's JSON, one line): stdout first,
	 * then stderr; a child that takes over a minute is stopped. */
	time_t deadline = time(NULL) + 60;
	drain(out[0], co->out, sizeof(co->out), deadline);
	drain(err[0], co->err, sizeof(co->err), deadline);
	close(out[0]);
	close(err[0]);
	int status = 0;
	if (time(NULL) >= deadline)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	co->code = WIFEXITED(status) ? WEXITSTATUS(status) : 2;
	co->err[strcspn(co->err, "\n")] = 0;
	return true;
}

/* A refused change: the child's one line as a 4xx. */
static void refused(struct tg_request *rq, struct child_out *co, const char *prefix)
{
	tg_api_scrub(rq, co->err);
	const char *msg = strncmp(co->err, "trustgate: ", 11) == 0 ? co->err + 11 : co->err;
	unsigned st = strstr(msg, "already") || strstr(msg, "exists") ? 409 :
		      strstr(msg, "no such") || strstr(msg, "not found") || strstr(msg, "unknown") ? 404 :
		      co->code == 1 ? 409 : 400;
	if (prefix)
		tg_api_error(rq, 500, "%s%s", prefix, *msg ? msg : "refused");
	else
		tg_api_error(rq, st, "%s", *msg ? msg : "the change was refused");
}

/* The common head of every child's argv: the actor (the records go in its
 * environment, run_child). */
static size_t argv_head(struct tg_request *rq, const char **argv)
{
	size_t argc = 0;

	argv[argc++] = "trustgate";
	argv[argc++] = "--json";
	argv[argc++] = "--actor";
	argv[argc++] = rq->actor;
	return argc;
}

/* argv of mutation m from the request's fields; false: answered 400. */
static bool build_argv(struct tg_request *rq, const struct mutation *m, const char **argv)
{
	size_t argc = argv_head(rq, argv);

	argv[argc++] = m->words[0];
	argv[argc++] = m->words[1];
	for (const struct cli_arg *a = m->args; a->field; a++) {
		bool is_file = false;
		const char *v = a->kind == POS_PATH ? rq->arg : field_value(rq, a->field, &is_file);
		if (!v || !*v) {
			if (a->required) {
				tg_api_error(rq, 400, "form field '%s' is required", a->field);
				return false;
			}
			continue;
		}
		switch (a->kind) {
		case POS:
		case POS_PATH:
			/* A positional is a name (or a fingerprint): never an
			 * option, never a path. */
			if (!tg_cli_name_ok(v)) {
				tg_api_error(rq, 400, "%s: not a name (UTF-8, printable, no '/', no leading '-')", a->field);
				return false;
			}
			argv[argc++] = v;
			break;
		case OPT:
			argv[argc++] = a->option;
			argv[argc++] = v;
			break;
		case FLAG:
			if (strcmp(v, "true") != 0 && strcmp(v, "false") != 0) {
				tg_api_error(rq, 400, "%s: true or false", a->field);
				return false;
			}
			if (strcmp(v, "true") == 0)
				argv[argc++] = a->option;
			break;
		case FILE_POS:
		case FILE_OPT:
			if (!is_file) {
				tg_api_error(rq, 400, "%s: a file field", a->field);
				return false;
			}
			if (a->kind == FILE_OPT)
				argv[argc++] = a->option;
			argv[argc++] = v;
			break;
		}
	}
	argv[argc] = NULL;
	return true;
}

/* POST /v1/hosts with a `csr` field: the host's certificate is issued at
 * its enrolment, for the key the request names (made on the host; the
 * private key never travels), bound to the AK just enrolled -- `user add
 * NAME --role host --csr` as a second child once the enrolment is
 * recorded.  The request is checked before anything is enrolled, so a bad
 * one changes nothing. */
static bool csr_precheck(struct tg_request *rq, const char **csr)
{
	_cleanup_free_ char *pem = NULL;
	struct tg_diag d = { { 0 } };
	bool is_file = false;

	*csr = field_value(rq, "csr", &is_file);
	if (!*csr)
		return true;
	if (!is_file) {
		tg_api_error(rq, 400, "csr: a file field");
		return false;
	}
	if (tg_pki_csr_load(*csr, &pem, &d) != TG_OK) {
		tg_api_scrub(rq, d.msg);
		tg_api_error(rq, 400, "csr: %s", d.msg);
		return false;
	}
	return true;
}

static void issue_host_cert(struct tg_request *rq, const char *csr, struct child_out *enrolled)
{
	static struct child_out co;
	const char *argv[24];
	size_t argc = argv_head(rq, argv);
	const char *name = field_value(rq, "name", &(bool){ false });

	argv[argc++] = "user";
	argv[argc++] = "add";
	argv[argc++] = name;
	argv[argc++] = "--role";
	argv[argc++] = "host";
	argv[argc++] = "--csr";
	argv[argc++] = csr;
	argv[argc++] = "--ca";
	argv[argc++] = tg_api_ca_dir(rq->api);
	argv[argc] = NULL;
	if (!run_child(argv, tg_api_db_path(rq->api), &co)) {
		tg_api_error(rq, 500, "host enrolled; its certificate was not issued: %s (issue it with user add)",
			     strerror(errno));
		return;
	}
	if (co.code != 0) {
		refused(rq, &co, "host enrolled; its certificate was not issued: ");
		return;
	}
	_cleanup_json_ struct json_object *h = json_tokener_parse(enrolled->out), *c = json_tokener_parse(co.out);
	if (!h || !c) {
		tg_api_error(rq, 500, "host enrolled and certificate issued, but their records did not parse");
		return;
	}
	json_object_object_add(h, "certificate", json_object_get(c));
	free(rq->body);
	rq->body = tg_strdup(json_object_to_json_string_ext(h, JSON_C_TO_STRING_PLAIN));
	rq->body_len = rq->body ? strlen(rq->body) : 0;
	rq->status = rq->body ? 201 : 500;
	rq->content_type = "application/json";
}

void tg_mutate(struct tg_request *rq)
{
	static struct child_out co;
	const struct mutation *m = NULL;
	const char *argv[48], *csr = NULL;

	for (size_t i = 0; i < TG_ARRAY_SIZE(table); i++)
		if (strcmp(table[i].route, rq->route->name) == 0)
			m = table[i].m;
	if (!m) {
		tg_api_error(rq, 500, "no command for this route");
		return;
	}
	if (!build_argv(rq, m, argv))
		return;
	if (m == &host_enroll && !csr_precheck(rq, &csr))
		return;
	if (!run_child(argv, tg_api_db_path(rq->api), &co)) {
		tg_api_error(rq, 503, "cannot run the change now: %s", strerror(errno));
		return;
	}
	if (co.code != 0) {
		refused(rq, &co, NULL);
		return;
	}
	if (csr) {
		issue_host_cert(rq, csr, &co);
		return;
	}
	free(rq->body);
	rq->body = tg_strdup(co.out);
	rq->body_len = rq->body ? strlen(rq->body) : 0;
	rq->status = rq->body ? 201 : 500;
	rq->content_type = "application/json";
}
