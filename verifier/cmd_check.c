/*
 * trustgate check FILE [--sig SIGFILE] [--product NAME] [--version V]
 *                 [--apt-lists DIR] | --batch LIST|- [--workers N]
 *
 * The command: options in, the core (check.c) per file, the verdict out.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "check.h"
#include "workers.h"
#include "../common/crypto.h"
#include "../common/file.h"
#include "../common/text.h"
#include "../common/version.h"

/* ------------------------------------------------------------- batch */

/* check --batch LIST|- [--workers N]: many files, each with its own
 * signature, product and version, given as JSON lines
 *   {"file": "...", "sig": "...", "product": "...", "version": "..."}
 * ("sig", "product", "version" optional).  The whole list is read and
 * checked before anything runs (a bad line is exit 2, nothing recorded).
 * Then one worker process per core (--workers) opens the records itself and
 * checks its share of the files one after another, as a single check does:
 * each verdict in its own transaction with its audit row.  Process start,
 * opening the records and preparing statements are paid once per worker,
 * not per file.  The parent prints one line per file (or one JSON verdict
 * per line with --json) in the order of the list, as soon as it can. */
struct batch_item {
	struct tg_check_args a;
	char *file, *sig, *product;
	char version[TG_MAX_VERSION + 1];
	int status;   /* -1 not reported yet, else 0 approved / 1 rejected / 2 error */
	uint32_t usec; /* how long its check took, in its worker */
	char *out;    /* the rendered verdict, or the error line */
};

struct check_batch {
	struct batch_item *it;
	size_t n, cap;
	const char *apt_lists;
};

static void check_batch_release(struct check_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->it[i].file);
		free(b->it[i].sig);
		free(b->it[i].product);
		free(b->it[i].out);
	}
	free(b->it);
}

static enum tg_err batch_line(struct check_batch *b, const char *src, size_t lineno, const char *line,
			      struct tg_diag *d)
{
	_cleanup_json_ struct json_object *o = json_tokener_parse(line);
	struct batch_item it = { .status = -1 };
	const char *file = NULL, *sig = NULL, *product = NULL, *version = NULL;

	if (!o || !json_object_is_type(o, json_type_object))
		return tg_fail(d, TG_E_FORMAT, "%s:%zu: not a JSON object", src, lineno);
	json_object_object_foreach(o, key, val) {
		const char **slot = strcmp(key, "file") == 0 ? &file : strcmp(key, "sig") == 0 ? &sig :
				    strcmp(key, "product") == 0 ? &product : strcmp(key, "version") == 0 ? &version : NULL;
		if (!slot)
			return tg_fail(d, TG_E_FORMAT, "%s:%zu: unknown key \"%s\" (file, sig, product, version)", src,
				       lineno, key);
		if (!json_object_is_type(val, json_type_string) || !*json_object_get_string(val))
			return tg_fail(d, TG_E_FORMAT, "%s:%zu: \"%s\" must be a non-empty string", src, lineno, key);
		*slot = json_object_get_string(val);
	}
	if (!file)
		return tg_fail(d, TG_E_FORMAT, "%s:%zu: no \"file\"", src, lineno);
	if (sig && b->apt_lists)
		return tg_fail(d, TG_E_USAGE, "%s:%zu: a \"sig\" and --apt-lists are two sources of the signature", src,
			       lineno);
	if (product && tg_cli_name_arg("\"product\"", product, d) != TG_OK)
		return tg_fail(d, TG_E_USAGE, "%s:%zu: %s", src, lineno, d->msg);
	if (version && !tg_version_canonical(version, it.version, sizeof(it.version)))
		return tg_fail(d, TG_E_USAGE, "%s:%zu: \"version\" '%s' is not a version", src, lineno, version);
	if (b->n == TG_MAX_BATCH)
		return tg_fail(d, TG_E_LIMIT, "%s: more than %u files", src, TG_MAX_BATCH);
	if (!(it.file = strdup(file)) || (sig && !(it.sig = strdup(sig))) || (product && !(it.product = strdup(product)))) {
		free(it.file);
		free(it.sig);
		return TG_E_NOMEM;
	}
	if (tg_grow(b->it, b->cap, b->n, 256) != TG_OK) {
		free(it.file);
		free(it.sig);
		free(it.product);
		return TG_E_NOMEM;
	}
	b->it[b->n++] = it;
	return TG_OK;
}

static enum tg_err batch_read(struct check_batch *b, const char *src, struct tg_diag *d)
{
	_cleanup_free_ uint8_t *text = NULL;
	size_t len = 0, lineno = 0;
	enum tg_err r = tg_file_read_stream(strcmp(src, "-") == 0 ? "/dev/stdin" : src, TG_MAX_BATCH_LIST, &text, &len,
					    d);

	if (r != TG_OK)
		return r;
	for (size_t off = 0; off < len && r == TG_OK;) {
		const uint8_t *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;
		lineno++;
		if (memchr(text + off, '\0', end - off))
			return tg_fail(d, TG_E_FORMAT, "%s:%zu: a NUL byte", src, lineno);
		_cleanup_free_ char *line = strndup((const char *)text + off, end - off);
		if (!line)
			return TG_E_NOMEM;
		off = end + 1;
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		r = batch_line(b, src, lineno, line, d);
	}
	if (r == TG_OK && !b->n)
		r = tg_fail(d, TG_E_FORMAT, "%s: no files listed", src);
	for (size_t i = 0; i < b->n; i++)
		b->it[i].a = (struct tg_check_args){ .file = b->it[i].file, .sig = b->it[i].sig,
						   .product = b->it[i].product, .apt_lists = b->apt_lists,
						   .version = b->it[i].version[0] ? b->it[i].version : NULL };
	return r;
}

/* Worker → parent, per file, one frame (workers.h): u32 index, u8 status,
 * u32 microseconds the check took, then the text (rendered verdict or
 * error message). */
#define FRAME_HDR 9
static bool send_frame(int fd, uint32_t i, uint8_t status, uint32_t usec, const char *text, size_t tl)
{
	uint8_t hdr[FRAME_HDR];

	memcpy(hdr, &i, 4);
	hdr[4] = status;
	memcpy(hdr + 5, &usec, 4);
	return tg_worker_send(fd, hdr, sizeof(hdr), text, tl);
}

static uint32_t usec_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t us = (int64_t)(t1.tv_sec - t0->tv_sec) * 1000000 + (t1.tv_nsec - t0->tv_nsec) / 1000;
	return us < 0 ? 0 : us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

struct batch_run {
	struct tg_ctx *ctx;
	struct check_batch *b;
	size_t next, counts[3];
};

static void batch_worker(size_t w, size_t nworkers, int fd, void *ud)
{
	struct batch_run *run = ud;
	const struct check_batch *b = run->b;
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct tg_diag d = { { 0 } };
	/* This process is the isolation boundary, as in attest --batch. */
	tg_crypto_set_isolation(false);
	enum tg_err r = tg_cli_open_db(run->ctx, &db, &d);

	for (size_t i = w; i < b->n; i += nworkers) {
		bool approved = false;
		struct tg_diag di = { { 0 } };
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (r != TG_OK) {
			const char *msg = d.msg[0] ? d.msg : tg_strerror(r);
			if (!send_frame(fd, (uint32_t)i, 2, 0, msg, strlen(msg)))
				_exit(TG_EXIT_ERROR);
			continue;
		}
		enum tg_err ri = tg_check_one(run->ctx, db, &b->it[i].a, run->ctx->json ? RENDER_JSONL : RENDER_LINE,
					   &approved, &di);
		if (ri == TG_OK) {
			size_t tl = 0;
			_cleanup_free_ char *text = tg_out_take(&tl);
			if (!send_frame(fd, (uint32_t)i, approved ? 0 : 1, usec_since(&t0), text ? text : "", tl))
				_exit(TG_EXIT_ERROR);
			continue;
		}
		const char *msg = di.msg[0] ? di.msg : tg_strerror(ri);
		if (!send_frame(fd, (uint32_t)i, 2, usec_since(&t0), msg, strlen(msg)))
			_exit(TG_EXIT_ERROR);
	}
	tg_db_close(TAKE_PTR(db));
	_exit(TG_EXIT_OK);
}

/* One frame from a worker into its item (the first report of an item
 * counts; a malformed frame is ignored, and its item stays unreported). */
static void batch_frame(const uint8_t *p, size_t len, void *ud)
{
	struct check_batch *b = ((struct batch_run *)ud)->b;
	uint32_t i;

	if (len < FRAME_HDR)
		return;
	memcpy(&i, p, 4);
	if (i >= b->n || b->it[i].status >= 0)
		return;
	b->it[i].out = strndup((const char *)p + FRAME_HDR, len - FRAME_HDR);
	b->it[i].status = b->it[i].out ? p[4] : 2;
	memcpy(&b->it[i].usec, p + 5, 4);
}

static void batch_print(struct tg_ctx *ctx, struct batch_item *it)
{
	char shown[1024];

	if (it->status < 2 && ctx->json) {
		fputs(it->out, stdout);
		return;
	}
	/* The human line ends with the time the check took in its worker
	 * (the verdict document of --json stays the single check's). */
	if (it->status < 2) {
		size_t l = strlen(it->out);
		printf("%.*s  %.1f ms\n", (int)(l && it->out[l - 1] == '\n' ? l - 1 : l), it->out, it->usec / 1000.0);
		return;
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		tg_json_str(o, "file", it->file);
		tg_json_str(o, "error", it->out ? it->out : "not reported");
		printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		tg_text_quote(it->file, shown, sizeof(shown));
		printf("ERROR  %s  %s\n", shown, it->out ? it->out : "not reported");
	}
}

/* In the order of the list, as soon as the next one is in. */
static void batch_progress(void *ud)
{
	struct batch_run *run = ud;

	for (; run->next < run->b->n && run->b->it[run->next].status >= 0; run->next++) {
		batch_print(run->ctx, &run->b->it[run->next]);
		run->counts[run->b->it[run->next].status]++;
	}
	fflush(stdout);
}

static int check_batch(struct tg_ctx *ctx, const char *src, const char *workers_opt, const char *apt_lists)
{
	struct check_batch b = { .apt_lists = apt_lists };
	struct tg_diag d = { { 0 } };
	size_t nworkers = 1;
	enum tg_err r;

	r = tg_workers_count(workers_opt, &nworkers, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = batch_read(&b, src, &d);
	if (r == TG_OK) {
		/* The records must open before anything is forked: a wrong
		 * --db is one line, not one per file.  Closed again: a SQLite
		 * connection is never carried across fork(). */
		_cleanup_(tg_db_closep) struct tg_db *probe = NULL;
		_cleanup_free_ char *anchor = NULL;
		r = tg_cli_open_db(ctx, &probe, &d);
		/* Records anchored in a TPM: every commit also writes the TPM,
		 * and a TPM connection (swtpm's socket, a TCTI without a
		 * resource manager) is one client at a time — one worker. */
		if (r == TG_OK)
			r = tg_db_local_get(probe, "tpm_anchor", &anchor, &d);
		if (r == TG_OK && anchor)
			nworkers = 1;
	}
	if (r != TG_OK) {
		check_batch_release(&b);
		return tg_cli_fail(ctx, r, &d);
	}
	if (nworkers > b.n)
		nworkers = b.n;

	struct batch_run run = { .ctx = ctx, .b = &b };
	/* A worker that could not be started leaves its files unreported:
	 * errors below, never skipped silently. */
	r = tg_workers_run(nworkers, batch_worker, batch_frame, batch_progress, &run, &d);
	if (r != TG_OK) {
		check_batch_release(&b);
		return tg_cli_fail(ctx, r, &d);
	}
	size_t next = run.next;
	size_t *counts = run.counts;
	for (; next < b.n; next++) {
		if (b.it[next].status < 0) {
			b.it[next].status = 2;
			b.it[next].out = strdup("not reported: its worker process ended first (a verdict it recorded is in "
						"the audit log)");
		}
		batch_print(ctx, &b.it[next]);
		counts[b.it[next].status]++;
	}
	if (!ctx->json)
		printf("%zu approved, %zu rejected, %zu not decided\n", counts[0], counts[1], counts[2]);
	fflush(stdout);
	check_batch_release(&b);
	return counts[2] ? TG_EXIT_ERROR : counts[1] ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
}

int tg_cmd_check(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	const char *sigpath = NULL, *product = NULL, *version = NULL, *apt_lists = NULL, *batch = NULL,
		   *workers = NULL;
	const struct tg_opt opts[] = {
		{ "sig", true, &sigpath, NULL },
		{ "apt-lists", true, &apt_lists, NULL },
		{ "product", true, &product, NULL },
		{ "version", true, &version, NULL },
		{ "batch", true, &batch, NULL },
		{ "workers", true, &workers, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char vcanon[TG_MAX_VERSION + 1];
	bool approved = false;
	char **pos;
	int npos;
	enum tg_err r;

	/* -- options */
	r = tg_cli_parse(ctx, argc, argv, opts, 0, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (batch) {
		if (npos || sigpath || product || version)
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--batch takes each file with its --sig, "
							"--product and --version from %s, one JSON object per line; "
							"give no FILE or per-file option beside it", batch), &d);
		return check_batch(ctx, batch, workers, apt_lists);
	}
	if (workers)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--workers goes with --batch"), &d);
	if (npos != 1)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "check: missing argument: FILE, or --batch LIST (see "
						"'trustgate check --help')"), &d);
	if (apt_lists && sigpath)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--sig and --apt-lists are two sources of the signature: "
						"give one"), &d);
	if (product && (r = tg_cli_name_arg("--product", product, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (version && !tg_version_canonical(version, vcanon, sizeof(vcanon)))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--version '%s' is not a version", version), &d);

	const struct tg_check_args a = {
		.file = pos[0], .sig = sigpath, .apt_lists = apt_lists, .product = product,
		.version = version ? vcanon : NULL,  /* one spelling per version: lookups and reports */
	};
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_check_one(ctx, db, &a, ctx->json ? RENDER_JSON : RENDER_FULL, &approved, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!tg_out_flush())
		fprintf(stderr, "trustgate: the verdict was recorded but could not be written to stdout\n");
	return approved ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}
