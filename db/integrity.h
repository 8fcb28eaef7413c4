/*
 * Records checked against their audit history before a decision uses them
 * (THREATS case 57).  Each function leaves why[0] == '\0' when the record
 * matches, else writes one sentence saying what was altered.  Database
 * errors are returned as errors.
 */
#ifndef TG_INTEGRITY_H
#define TG_INTEGRITY_H

#include "records.h"

enum tg_err tg_integrity_supplier(struct tg_db *db, const struct tg_supplier *s, char *why,
				  size_t whylen, struct tg_diag *d);
enum tg_err tg_integrity_key(struct tg_db *db, const struct tg_keyrec *k, char *why, size_t whylen,
			     struct tg_diag *d);
enum tg_err tg_integrity_product(struct tg_db *db, const struct tg_product *p, char *why,
				 size_t whylen, struct tg_diag *d);
enum tg_err tg_integrity_release(struct tg_db *db, const struct tg_release *rel, char *why,
				 size_t whylen, struct tg_diag *d);

enum tg_err tg_integrity_host(struct tg_db *db, const struct tg_host *host, char *why, size_t whylen,
			      struct tg_diag *d);
/* The reference set of a model against the set digest of its last import. */
enum tg_err tg_integrity_references(struct tg_db *db, const char *model, char *why, size_t whylen,
				    struct tg_diag *d);

/* Reference rows of releases against their releases' audit history. */
enum tg_err tg_integrity_release_references(struct tg_db *db, char *why, size_t whylen, struct tg_diag *d);

/* The records and their history are the same set: every record the audit
 * history creates still exists, every record has a history, and no audit
 * row is missing from the numbering.  *why names the first difference ("" if
 * none). */
enum tg_err tg_integrity_complete(struct tg_db *db, char *why, size_t whylen, struct tg_diag *d);

/* Every record against its history, and the completeness check: each
 * difference found is handed to report (one sentence), all of them, not
 * only the first — what `audit verify` prints.  *ret_count is how many. */
typedef void (*tg_integrity_report)(const char *why, void *ud);
enum tg_err tg_integrity_all(struct tg_db *db, tg_integrity_report report, void *ud, size_t *ret_count,
			     struct tg_diag *d);

#endif
