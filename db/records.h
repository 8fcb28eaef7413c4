/*
 * Typed access to the records.  Every struct is filled by a _get/_list
 * function and released with its _release function; strings are malloc'd
 * and owned by the struct.  Mutations must run inside tg_db_begin/commit
 * together with their audit row (the caller, a cmd_*.c, does both).
 */
#ifndef TG_RECORDS_H
#define TG_RECORDS_H

#include "db.h"

struct tg_supplier {
	int64_t id;
	char *name, *country, *status, *review_ref, *review_expires;
	char *created_at, *updated_at;
	int max_tier;
	bool cii;
};

struct tg_keyrec {
	int64_t id, supplier_id;
	char *supplier;             /* supplier name */
	char *fingerprint, *algorithm, *hashes, *purposes, *name;
	uint8_t *spki, *cert;
	size_t spki_len, cert_len;
	char *not_before, *not_after, *added_at, *revoked_at, *revoke_reason;
	/* From a U-Boot control DTB: "conf"/"image", "all"/"any", the import
	 * group the mode applies to (NULL for other keys). */
	char *fit_required, *fit_mode, *fit_group;
	int bits;
};

struct tg_product {
	int64_t id, supplier_id;
	char *supplier, *name, *kind, *min_version, *guid, *created_at;
	char *allow;   /* what it may carry from tier 3 ("setuid"), or NULL */
	int max_tier;
};

struct tg_release {
	int64_t id, product_id;
	char *version, *digest_alg, *digest, *status, *created_at, *revoked_at;
	char *product, *supplier;   /* names, for reports */
};

void tg_supplier_release(struct tg_supplier *s);
void tg_keyrec_release(struct tg_keyrec *k);
/* Deep copy of src into dst (its SPKI too when with_spki; never the
 * certificate).  On TG_E_NOMEM dst holds what was copied: release it. */
enum tg_err tg_keyrec_copy(struct tg_keyrec *dst, const struct tg_keyrec *src, bool with_spki);
void tg_product_release(struct tg_product *p);
void tg_release_release(struct tg_release *r);
/* Deep copy of src into dst; on TG_E_NOMEM nothing is left to release. */
enum tg_err tg_release_copy(struct tg_release *dst, const struct tg_release *src);

/* Lookups return TG_E_NOTFOUND (with a diagnostic) when absent. */
enum tg_err tg_rec_supplier_get(struct tg_db *db, const char *name, struct tg_supplier *ret,
				struct tg_diag *d);
enum tg_err tg_rec_supplier_get_id(struct tg_db *db, int64_t id, struct tg_supplier *ret,
				   struct tg_diag *d);
enum tg_err tg_rec_supplier_insert(struct tg_db *db, const struct tg_supplier *s,
				   int64_t *ret_id, struct tg_diag *d);
/* Write every mutable field of s (by s->id); updated_at is now. */
enum tg_err tg_rec_supplier_update(struct tg_db *db, const struct tg_supplier *s, struct tg_diag *d);
enum tg_err tg_rec_supplier_set_status(struct tg_db *db, int64_t id, const char *status,
				       struct tg_diag *d);
typedef enum tg_err (*tg_supplier_cb)(const struct tg_supplier *s, void *ud);
enum tg_err tg_rec_supplier_each(struct tg_db *db, tg_supplier_cb cb, void *ud,
				 struct tg_diag *d);

enum tg_err tg_rec_key_insert(struct tg_db *db, const struct tg_keyrec *k, struct tg_diag *d);
enum tg_err tg_rec_key_get(struct tg_db *db, const char *fingerprint, struct tg_keyrec *ret,
			   struct tg_diag *d);
/* The one fingerprint that starts with prefix (>= 8 hex digits, any case):
 * TG_E_NOTFOUND when none does, TG_E_USAGE naming two when several do. */
enum tg_err tg_rec_key_resolve(struct tg_db *db, const char *prefix, char out[65], struct tg_diag *d);
enum tg_err tg_rec_key_revoke(struct tg_db *db, int64_t id, const char *when, const char *reason,
			      struct tg_diag *d);
typedef enum tg_err (*tg_key_cb)(const struct tg_keyrec *k, void *ud);
/* All keys (supplier_id 0) or one supplier's, oldest first. */
enum tg_err tg_rec_key_each(struct tg_db *db, int64_t supplier_id, tg_key_cb cb, void *ud,
			    struct tg_diag *d);

enum tg_err tg_rec_product_insert(struct tg_db *db, const struct tg_product *p,
				  int64_t *ret_id, struct tg_diag *d);
/* Replace the product's allowances (comma list, or NULL for none). */
/* Write max_tier, min_version, guid and allow of p (by p->id). */
enum tg_err tg_rec_product_update(struct tg_db *db, const struct tg_product *p, struct tg_diag *d);
typedef enum tg_err (*tg_product_cb)(const struct tg_product *p, void *ud);
/* Products of one supplier (supplier_id != 0) or all, by supplier and name. */
enum tg_err tg_rec_product_each(struct tg_db *db, int64_t supplier_id, tg_product_cb cb, void *ud, struct tg_diag *d);
/* By supplier and name. */
enum tg_err tg_rec_product_get(struct tg_db *db, int64_t supplier_id, const char *name,
			       struct tg_product *ret, struct tg_diag *d);
/* The product of a supplier whose UEFI image type GUID (lowercase) is guid. */
enum tg_err tg_rec_product_by_guid(struct tg_db *db, int64_t supplier_id, const char *guid,
				   struct tg_product *ret, struct tg_diag *d);
enum tg_err tg_rec_product_get_id(struct tg_db *db, int64_t id, struct tg_product *ret,
				  struct tg_diag *d);
/* How many products carry this name across suppliers, and the first. */
enum tg_err tg_rec_product_find(struct tg_db *db, const char *name, int *ret_count,
				struct tg_product *ret_first, struct tg_diag *d);

enum tg_err tg_rec_release_insert(struct tg_db *db, const struct tg_release *r,
				  struct tg_diag *d);
enum tg_err tg_rec_release_get(struct tg_db *db, int64_t product_id, const char *version,
			       struct tg_release *ret, struct tg_diag *d);
enum tg_err tg_rec_release_revoke(struct tg_db *db, int64_t id, const char *when,
				  struct tg_diag *d);
typedef enum tg_err (*tg_release_cb)(const struct tg_release *r, void *ud);
/* Releases of one product (product_id != 0) or those with a digest. */
enum tg_err tg_rec_release_each(struct tg_db *db, int64_t product_id, const char *digest_alg, const char *digest,
				tg_release_cb cb, void *ud, struct tg_diag *d);
/* The digest algorithms any release of the records is recorded in (a bit
 * per enum tg_hash).  TG_E_DB for one this build does not know. */
enum tg_err tg_rec_release_algs(struct tg_db *db, unsigned *ret_mask, struct tg_diag *d);

struct tg_host {
	int64_t id;
	char *name, *model, *ak_name, *ak_fingerprint, *status, *enrolled_at;
	uint8_t *ak_public, *ek_public, *ek_cert;
	size_t ak_public_len, ek_public_len, ek_cert_len;
	int tier;
	bool has_clock;
	int64_t last_clock, last_reset, last_restart;
};

struct tg_reference {
	int64_t id;
	char *model;             /* NULL for a release reference */
	char *release;           /* "supplier/product/version" for a release reference */
	int pcr;
	char *alg, *digest, *description;
	uint32_t event_type;
	bool revoked;            /* withdrawn by `reference revoke` */
};

void tg_host_release(struct tg_host *h);
void tg_reference_release(struct tg_reference *r);
enum tg_err tg_rec_host_insert(struct tg_db *db, const struct tg_host *h, struct tg_diag *d);
enum tg_err tg_rec_host_get(struct tg_db *db, const char *name, struct tg_host *ret, struct tg_diag *d);
/* Write model, tier and status of h (by h->id). */
enum tg_err tg_rec_host_update(struct tg_db *db, const struct tg_host *h, struct tg_diag *d);
enum tg_err tg_rec_host_set_clock(struct tg_db *db, int64_t id, uint64_t clock, uint32_t reset,
				  uint32_t restart, struct tg_diag *d);
typedef enum tg_err (*tg_host_cb)(const struct tg_host *h, void *ud);
enum tg_err tg_rec_host_each(struct tg_db *db, tg_host_cb cb, void *ud, struct tg_diag *d);
/* Insert unless the same (model, pcr, alg, digest, type) is already there. */
enum tg_err tg_rec_reference_add(struct tg_db *db, const struct tg_reference *r, bool *ret_added,
				 struct tg_diag *d);
typedef enum tg_err (*tg_reference_cb)(const struct tg_reference *r, void *ud);
/* References of a model (model != NULL), of approved releases (model NULL,
 * releases true), filtered by pcr (-1 any). */
enum tg_err tg_rec_reference_each(struct tg_db *db, const char *model, bool releases, int pcr,
				  tg_reference_cb cb, void *ud, struct tg_diag *d);
/* SHA-256 over a model's (or a release's) reference rows in a canonical
 * order (hex). */
enum tg_err tg_rec_reference_set_digest(struct tg_db *db, const char *model, char out[65],
					struct tg_diag *d);
enum tg_err tg_rec_release_reference_set_digest(struct tg_db *db, int64_t release_id, char out[65],
						struct tg_diag *d);
/* Mark reference values revoked (now): all of a model (model), of a
 * release (release_id), or every row with one digest (alg+digest).
 * *ret_count: rows newly revoked. */
enum tg_err tg_rec_reference_revoke(struct tg_db *db, const char *model, int64_t release_id, const char *alg,
				    const char *digest, size_t *ret_count, struct tg_diag *d);
/* Known-bad digests (measurement_revoked). */
enum tg_err tg_rec_measurement_deny(struct tg_db *db, const char *alg, const char *digest, const char *reason,
				    struct tg_diag *d);
/* Every denied digest as "alg:hex", sorted (malloc'd array of malloc'd strings). */
enum tg_err tg_rec_measurement_denied(struct tg_db *db, char ***ret, size_t *ret_n, struct tg_diag *d);
/* A measurement an approved release produces at boot (release add --file). */
enum tg_err tg_rec_reference_add_release(struct tg_db *db, int64_t release_id, const struct tg_reference *ref,
					 struct tg_diag *d);

struct tg_verdict_row {
	const char *actor, *command, *kind, *subject_path, *subject_sha256, *result;
	const char *supplier, *product, *version, *key_fingerprint, *report, *nonce;
	uint64_t subject_size;
	int tier;
	bool cii, gm;
	int64_t supersedes;   /* the verdict this one re-decides (0: none) */
	int64_t audit_seq;    /* the audit row about to record it (tg_audit_next_seq) */
};
enum tg_err tg_rec_verdict_insert(struct tg_db *db, const struct tg_verdict_row *v,
				  int64_t *ret_id, struct tg_diag *d);

#endif
