/*
 * Host attestation, split so that many hosts can be verified in parallel:
 * tg_attest_load() reads everything the records say (in the parent),
 * tg_attest_eval() decides on evidence and those records alone (no
 * database, so it runs in worker processes), tg_attest_record() writes the
 * verdict and its audit row (in the parent, inside a transaction).
 */
#ifndef TG_ATTEST_H
#define TG_ATTEST_H

#include "cli.h"
#include "verdict.h"
#include "../db/records.h"
#include "../measure/quote.h"

struct tg_attest_records {
	bool have_host;
	struct tg_host host;
	struct tg_reference *refs;   /* model references + approved release references */
	size_t nrefs;
	bool refs_shared;            /* refs and denied belong to another record of the same model */
	char refs_set[65];           /* SHA-256 of the model's reference set ("" without a model) */
	char **denied;               /* revoked digests, "alg:hex", sorted */
	size_t ndenied;
	char host_tampered[320];     /* "" when the host row matches its audit history */
	char refs_tampered[320];
	bool nonce_used;
};

struct tg_attest_evidence {
	const char *host;
	struct tg_span msg, sig, pcrs, log, bundle_ak;   /* pcrs/bundle_ak: .p NULL when absent */
	const char *msg_what, *sig_what, *pcrs_what, *log_what, *ak_what;
	uint8_t nonce[64];
	size_t nonce_len;
	const char *nonce_hex;
	uint32_t required;            /* PCRs every measurement of which must be known */
};

struct tg_attest_outcome {
	struct tg_verdict v;
	struct json_object *report;   /* owned; the verdict document */
	char subject[65];             /* SHA-256 of the TPMS_ATTEST */
	size_t attest_len, checked;
	uint64_t clock;
	uint32_t reset, restart;
};

/* Load the records for one host.  When `same` is a loaded record of a host
 * of the same model, its references (and their integrity finding) are
 * shared instead of read again. */
enum tg_err tg_attest_load(struct tg_db *db, const char *host, const char *nonce_hex,
			   const struct tg_attest_records *same, struct tg_attest_records *ret,
			   struct tg_diag *d);
void tg_attest_records_release(struct tg_attest_records *r);

/* Decide.  Returns an error (exit 2) only for unreadable evidence; every
 * problem with what the evidence says is a reason in out->v. */
enum tg_err tg_attest_eval(const struct tg_attest_evidence *ev, const struct tg_attest_records *rec,
			   struct tg_attest_outcome *out, struct tg_diag *d);
void tg_attest_outcome_release(struct tg_attest_outcome *out);

/* Verdict row, audit row and (when trusted) the host's clock, inside the
 * caller's transaction; the report is stamped as evidence before it is
 * stored and gets its id and audit row after (verifier/evidence.h). */
enum tg_err tg_attest_record(struct tg_ctx *ctx, struct tg_db *db, const char *host,
			     const struct tg_attest_records *rec, const char *nonce_hex, bool approved,
			     struct json_object *report, const char *subject, size_t attest_len,
			     const char *ak_fpr, int tier, uint64_t clock, uint32_t reset, uint32_t restart,
			     struct json_object *reason_codes, struct tg_diag *d);

/* One host, whole: load its records (sharing same's references when it is
 * a record of the same model, as tg_attest_load), evaluate ev, and record
 * the verdict.
 * Inside the verdict's transaction, before the record, in_tx (when given)
 * may refuse (the service takes its nonce there: an error rolls back and
 * nothing is written); render writes what the user sees before the commit,
 * into tg_out_open()'s stream (a recorded verdict is a shown one).  rec and
 * out are the caller's to release, on success and on failure.  Called
 * inside a transaction of the caller's, the verdict is a savepoint in it
 * and is kept only when the caller commits. */
typedef enum tg_err (*tg_attest_in_tx_fn)(struct tg_db *db, void *ud, struct tg_diag *d);
typedef void (*tg_attest_render_fn)(FILE *o, const struct tg_attest_records *rec, const struct tg_attest_outcome *out,
				    void *ud);
enum tg_err tg_attest_decide(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			     const struct tg_attest_records *same, tg_attest_in_tx_fn in_tx, void *in_tx_ud, tg_attest_render_fn render, void *render_ud,
			     struct tg_attest_records *rec, struct tg_attest_outcome *out, struct tg_diag *d);

/* tg_attest_decide in its two halves: prepare (load and evaluate; no
 * transaction, no lock) and commit (the transaction part: in_tx, record,
 * render), so that a service can evaluate many attestations and record
 * them together. */
enum tg_err tg_attest_prepare(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			      const struct tg_attest_records *same, struct tg_attest_records *rec,
			      struct tg_attest_outcome *out, struct tg_diag *d);
enum tg_err tg_attest_commit(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			     tg_attest_in_tx_fn in_tx, void *in_tx_ud, tg_attest_render_fn render, void *render_ud,
			     struct tg_attest_records *rec, struct tg_attest_outcome *out, struct tg_diag *d);

/* The PCRs whose every measurement must be a known reference unless the
 * caller says otherwise (`attest --pcr-list`): 0-7, the boot. */
#define TG_ATTEST_DEFAULT_PCRS 0xffu

/* "0-7", "0,2,4", "0-7,14": a PCR bitmask. */
bool tg_attest_parse_pcr_list(const char *s, uint32_t *ret);

/* The file names of an evidence bundle directory (`trustgate quote --out
 * DIR`, and each host of `attest --batch DIR`).  All six are always set;
 * which may be absent is the caller's rule (tg_bundle_if_present). */
struct tg_bundle {
	char *msg, *sig, *pcrs, *log, *ak_tpm2b, *ak_pem;
};
enum tg_err tg_bundle_open(const char *dir, struct tg_bundle *b);
void tg_bundle_release(struct tg_bundle *b);
/* path when the file exists, else NULL. */
const char *tg_bundle_if_present(const char *path);

/* An attestation recorded as trusted, judged again from the facts its
 * report keeps (the measured events of the attested PCRs) against the
 * records as they are now (rec, from tg_attest_load): the host still
 * enrolled, every measurement still a reference value and not revoked.  The
 * quote, its signature, nonce and replay were proven when it was recorded
 * and depend on no record.  False when the report has no facts (recorded
 * before they were kept). */
bool tg_attest_rejudge(struct json_object *report, const struct tg_attest_records *rec, struct tg_verdict *v);

#endif
