/*
 * Revocation impact and re-evaluation (the monitoring and early-warning
 * duty of the Guiding Opinions IV.1-2).
 *
 * A verdict that is "in force" is an APPROVED check (or re-evaluation) that
 * no later re-evaluation superseded.  When a key is revoked, a release
 * revoked, a supplier suspended or revoked or a product's record changed,
 * tg_impact() names the verdicts in force that relied on it and the
 * releases they approved; tg_reevaluate() re-runs the policy for them from
 * the facts recorded with each verdict (verifier/cmd_check.c facts_json)
 * against the records as they are now, and records every verdict whose
 * outcome changed as a new verdict that supersedes the old one.
 */
#ifndef TG_REEVALUATE_H
#define TG_REEVALUATE_H

#include <json-c/json.h>

#include "cli.h"

enum tg_impact_kind {
	TG_IMPACT_KEY,      /* a: fingerprint */
	TG_IMPACT_SUPPLIER, /* a: supplier */
	TG_IMPACT_PRODUCT,  /* a: supplier, b: product */
	TG_IMPACT_RELEASE,  /* a: supplier, b: product, c: version, digest: sha256 of the release or NULL */
};

/* {"verdicts": [{id, time, kind, path, sha256, supplier, product, version}],
 *  "releases": ["supplier/product/version", ...]} for the verdicts in force
 * that relied on the record. */
enum tg_err tg_impact(struct tg_db *db, enum tg_impact_kind kind, const char *a, const char *b, const char *c,
		      const char *digest, struct json_object **ret, struct tg_diag *d);
/* Print an impact object after a revocation ("relied on it: ..."). */
void tg_impact_print(struct json_object *impact);

/* After a committed revocation (r == TG_OK): print what changed (detail,
 * with "impact" added under --json; else "WHAT NAME revoked" and the
 * impact), return the exit code. */
int tg_revoked_report(struct tg_ctx *ctx, struct tg_db *db, enum tg_err r, struct tg_diag *d,
		      struct json_object *detail, enum tg_impact_kind kind, const char *a, const char *b,
		      const char *c, const char *digest, const char *what, const char *name);

struct tg_reeval_stats {
	size_t considered, unchanged, changed, skipped;
};

/* Re-decide the verdicts in force that rely on a record changed since
 * since_iso ("" for ever).  Changed outcomes are recorded (unless dry_run)
 * in one transaction, each with its audit row; changed[] lists them. */
enum tg_err tg_reevaluate(struct tg_ctx *ctx, struct tg_db *db, const char *since_iso, bool dry_run,
			  struct json_object *changed, struct tg_reeval_stats *st, struct tg_diag *d);

#endif
