/* The tier rules (DESIGN.md): findings + records -> reasons. */
#ifndef TG_POLICY_H
#define TG_POLICY_H

#include "../common/crypto.h"
#include "../common/limits.h"
#include "../db/records.h"
#include "verdict.h"

/* What the parsers and signature search found about one artifact. */
struct tg_findings {
	bool sig_given;
	/* The key whose signature verified (NULL: none did). */
	const struct tg_keyrec *signer;
	enum tg_hash sig_hash;
	enum tg_sig_scheme scheme;
	/* Set when no key verified but a recorded key's RSA public operation
	 * shows a well-formed PKCS#1 encoding: signed by that key, over other
	 * content.  Diagnostic only. */
	char other_content_fpr[65];
	/* Why the signature could not be taken at all (e.g. an OpenPGP file
	 * that is not a detached signature), or NULL. */
	const char *sig_problem;
	/* Digests of the artifact, hex, "" where not computed. */
	char digest[TG_HASH__COUNT][129];
	/* Purposes a key needs for this kind of artifact (any of them). */
	const char *const *purposes;
	/* The signature was an embedded manifest that could not be read
	 * (MANIFEST_INVALID already says why). */
	bool manifest_invalid;
	/* The container's own signature check (a FIT's signature nodes)
	 * already gave the reason when no signer was found. */
	bool sig_reported;
	/* --product / --version as given (NULL when absent). */
	const char *product;
	const char *version;
	char version_buf[TG_MAX_VERSION + 1];  /* storage when version is derived */
	char product_buf[TG_MAX_NAME + 1];     /* storage when product is derived */
};

/* What a destination tier requires (DESIGN.md), one row per tier. */
struct tg_tier_rules {
	int tier;
	bool products;        /* product, version and rollback rules reject (below: warn) */
	bool sha1;            /* SHA-1 signatures accepted, with a warning */
	bool sha256;          /* SHA-256 signatures accepted (else SHA-384, SHA-512 or SM3) */
	int rsa_min_bits;     /* smallest RSA signing key */
	bool supplier_review; /* the supplier approved for the tier (and CII), with a valid review */
	bool releases;        /* the version's release recorded by digest before use */
};

/* The row for a destination (CII is held to tier 4 at least). */
const struct tg_tier_rules *tg_tier_rules_for(int tier, bool cii);

/* The signature rules alone, pure (no records read): the signer's key
 * record in f, the tier's row, the time, and the product the file claims
 * (or NULL) for the wording of an unverified signature. */
void tg_policy_signature(const struct tg_findings *f, const struct tg_tier_rules *tr, int64_t now,
			 const struct tg_product *claimed, struct tg_verdict *v);

/* The supplier rules alone, pure: the signer's supplier record as loaded
 * (and checked against its history) by the caller. */
void tg_policy_supplier(const struct tg_supplier *s, const struct tg_tier_rules *tr, int64_t now, struct tg_verdict *v);

/* The product and release records the product rules read (one check's
 * snapshot), loaded by tg_policy_load_products: each checked against its
 * history on the way (RECORD_TAMPERED into v; a tampered release is not
 * used). */
enum tg_prod_state { TG_PROD_NONE_NAMED, TG_PROD_FOUND, TG_PROD_OTHER_SUPPLIER, TG_PROD_MISSING, TG_PROD_AMBIGUOUS };
struct tg_product_records {
	struct tg_release *revoked;   /* revoked releases carrying the file's digests */
	size_t nrevoked;
	struct tg_release approved;   /* the first approved release carrying them */
	bool have_approved;
	enum tg_prod_state state;     /* the product named (or the approved release's) */
	char name[TG_MAX_NAME + 1];
	struct tg_product prod;       /* TG_PROD_FOUND */
	char other_supplier[TG_MAX_NAME + 1];   /* TG_PROD_OTHER_SUPPLIER: whose it is */
	char highest[TG_MAX_VERSION + 1];       /* newest approved release of prod, "" none */
	struct tg_release rel;        /* prod's release of the judged version */
	bool have_release;
};
enum tg_err tg_policy_load_products(struct tg_db *db, const struct tg_findings *f, int64_t signer_supplier,
				    struct tg_verdict *v, struct tg_product_records *pr, struct tg_diag *d);
void tg_product_records_release(struct tg_product_records *pr);
/* The product, version, rollback and release rules, pure: the snapshot,
 * the findings, the tier's row. */
void tg_policy_product(const struct tg_product_records *pr, const struct tg_findings *f,
		       const struct tg_tier_rules *tr, struct tg_verdict *v);

/* Evaluate every rule into v (reasons, warnings, supplier/product/version
 * names) and mark it complete.  Database errors are returned, never turned
 * into "not found". */
enum tg_err tg_policy_evaluate(struct tg_db *db, const struct tg_findings *f,
			       struct tg_verdict *v, struct tg_diag *d);

#endif
