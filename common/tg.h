/*
 * trustgate — shared definitions: the one error enum, limits, cleanup helpers.
 *
 * Every part of trustgate reports failure as an enum tg_err plus a
 * caller-owned diagnostic string (struct tg_diag).  Dependency error codes
 * (gcry_error_t, SQLITE_*, ARCHIVE_*, -FDT_ERR_*, TSS2_RC) are converted in
 * exactly one wrapper per dependency and never travel further up.
 */
#ifndef TG_H
#define TG_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <unistd.h>

#include "limits.h"

enum tg_err {
	TG_OK = 0,
	TG_E_USAGE,       /* bad command line */
	TG_E_IO,          /* file missing, unreadable, short read */
	TG_E_FORMAT,      /* malformed input */
	TG_E_LIMIT,       /* input over a named limit */
	TG_E_UNSUPPORTED, /* well-formed but an algorithm/feature we refuse */
	TG_E_CRYPTO,      /* crypto library failure (not "signature bad") */
	TG_E_DB,          /* database missing, foreign, corrupt or failing */
	TG_E_TPM,         /* TPM unreachable or failing */
	TG_E_NOMEM,
	TG_E_NOTFOUND,    /* a named record does not exist */
	TG_E_EXISTS,      /* a record that must be new already exists */
};

/* A diagnostic: one line naming the file/object and the problem. */
struct tg_diag {
	char msg[512];
};

/* Record a diagnostic; returns err so callers can `return tg_fail(...)`. */
enum tg_err tg_fail(struct tg_diag *d, enum tg_err err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *tg_strerror(enum tg_err err);

/* ---- cleanup helpers (systemd style) ---- */

static inline void tg_freep(void *p) { free(*(void **)p); }
static inline void tg_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void tg_closep(int *fd) { if (*fd >= 0) close(*fd); }

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(tg_freep)
#define _cleanup_fclose_ _cleanup_(tg_fclosep)
#define _cleanup_close_ _cleanup_(tg_closep)

/* Hand ownership out of a cleanup-managed variable. */
#define TAKE_PTR(p) ({ __typeof__(p) _tp_ = (p); (p) = NULL; _tp_; })

#define TG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation that never returns NULL silently: callers check, but
 * xmalloc-style abort is avoided in library code. */
void *tg_calloc(size_t n, size_t sz);
char *tg_strdup(const char *s);

/* Room for element n of a doubling array (cap counted in elements, first
 * allocation `first`): TG_OK, or TG_E_NOMEM with the array untouched. */
enum tg_err tg_grow_(void **p, size_t *cap, size_t n, size_t elem, size_t first);
#define tg_grow(arr, cap, n, first) tg_grow_((void **)&(arr), &(cap), (n), sizeof(*(arr)), (first))

/* Is item one of the comma-separated entries of list (NULL: none)? */
bool tg_list_has(const char *list, const char *item);

/* Constant-time comparison for secrets and nonces. */
bool tg_memeq_ct(const void *a, const void *b, size_t n);

/* Current time as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
void tg_now_iso(char out[32]);
/* Parse "YYYY-MM-DD" (start of that day, UTC) or a full ISO timestamp from
 * tg_now_iso(); returns false on anything else. */
bool tg_parse_date(const char *s, int64_t *ret_epoch);
int64_t tg_now_epoch(void);
void tg_epoch_iso(int64_t t, char out[32]);

/* A whole decimal number in [lo, hi] (no sign, no spaces, nothing after):
 * the one parser of counts, sizes and seconds given on a command line. */
bool tg_parse_uint(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *ret);

/* Seconds elapsed since t (CLOCK_MONOTONIC). */
struct timespec;
double tg_seconds_since(const struct timespec *t);

/* Two optional strings equal (NULL equals NULL and only NULL). */
static inline bool tg_str_eq0(const char *a, const char *b)
{
	return a == b || (a && b && strcmp(a, b) == 0);
}

#endif
