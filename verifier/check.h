/*
 * `check` as one call, for front ends other than the command line
 * (trustgate serve): inputs -> one pass -> signature -> policy -> record.
 */
#ifndef TG_CHECK_H
#define TG_CHECK_H

#include "cli.h"

struct tg_check_input {
	const char *file;              /* the artifact, a local path */
	const char *name;              /* its name as recorded and shown (NULL: file) */
	const char *sig;               /* detached signature file, or NULL */
	const char *product, *version; /* what the artifact claims to be, or NULL */
};

/* Check, record, and hand back the verdict document exactly as `check
 * --json` prints it (*ret_json malloc'd).  An error means nothing was
 * recorded. */
enum tg_err tg_check_run(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_input *in, bool *approved,
			 char **ret_json, size_t *ret_len, struct tg_diag *d);

/* The same check fed the file's bytes as they arrive (serve: an upload
 * whose signature came first).  open takes the file's first bytes (at
 * least 512) and answers *ret NULL, with TG_OK, when this input is not one
 * a single pass can decide (the caller then spools the file and calls
 * tg_check_run, with the same answer); feed every byte; finish as
 * tg_check_run.  free after finish, or instead of it (nothing recorded). */
struct tg_check_stream;
enum tg_err tg_check_stream_open(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_input *in,
				 const uint8_t *head, size_t hn, struct tg_check_stream **ret, struct tg_diag *d);
enum tg_err tg_check_stream_feed(struct tg_check_stream *s, const void *p, size_t n, struct tg_diag *d);
enum tg_err tg_check_stream_finish(struct tg_check_stream *s, const char *product, const char *version,
				   bool *approved, char **ret_json, size_t *ret_len, struct tg_diag *d);
void tg_check_stream_free(struct tg_check_stream *s);

/* The core as the command line uses it: one file, its verdict recorded and
 * shown as render says (the full report or its JSON for one file, one line
 * or one compact JSON line per file of a --batch). */
struct tg_check_args {
	const char *file, *sig, *apt_lists, *product, *version;
	const char *name;   /* the subject as recorded and shown (default: file) */
};
enum tg_check_render { RENDER_FULL, RENDER_JSON, RENDER_LINE, RENDER_JSONL };
enum tg_err tg_check_one(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_args *a,
			 enum tg_check_render render, bool *approved, struct tg_diag *d);

#endif
