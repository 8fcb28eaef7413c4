/*
 * A verdict under construction.  It starts rejected; tg_verdict_finish() is
 * the one place that can make it approved, and only when the policy ran to
 * the end (complete) and recorded no reason.
 */
#ifndef TG_VERDICT_H
#define TG_VERDICT_H

#include <stdio.h>

#include <json-c/json.h>

#include "../common/tg.h"

#define TG_MAX_FINDINGS 32

struct tg_finding {
	char code[32];
	char detail[320];
};

struct tg_verdict {
	bool approved;            /* written only by tg_verdict_finish() */
	bool complete;            /* the policy evaluated every rule */
	const char *kind;         /* blob, archive, fit, capsule */
	const char *path;
	uint64_t size;
	char sha256[65];
	int tier;
	bool cii, gm;
	char supplier[TG_MAX_NAME + 1], product[TG_MAX_NAME + 1], version[TG_MAX_VERSION + 1];
	bool has_key;
	char key_fpr[65];
	char key_alg[40];
	char scheme[24];          /* e.g. rsa-pss/sha256 */
	struct tg_finding reasons[TG_MAX_FINDINGS];
	size_t nreasons;
	struct tg_finding warnings[TG_MAX_FINDINGS];
	size_t nwarnings;
	struct json_object *components;  /* owned; NULL = none */
	/* Links and setuid/setgid files of a package, for the reviewer
	 * (owned; NULL = none) and their counts. */
	struct json_object *inventory;
	size_t n_symlinks, n_symlinks_out, n_hardlinks, n_setuid;
	char product_allow[64];   /* the product record's allowances */
	struct json_object *apt;  /* the apt chain that signed it (owned), or NULL */
};

void tg_verdict_reason(struct tg_verdict *v, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tg_verdict_warn(struct tg_verdict *v, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Release what the verdict owns (its JSON parts); the verdict stays readable. */
void tg_verdict_release(struct tg_verdict *v);
/* Approve iff complete and no reasons; returns v->approved. */
bool tg_verdict_finish(struct tg_verdict *v);

/* The CLI.md verdict document (caller owns the result). */
struct json_object *tg_report_json(const struct tg_verdict *v);
/* The verdict's reason codes, in order, as a JSON array (audit details). */
struct json_object *tg_verdict_codes_json(const struct tg_verdict *v);
/* Human-readable verdict on stdout. */
void tg_report_print(const struct tg_verdict *v);
void tg_report_fprint(FILE *f, const struct tg_verdict *v);

#endif
