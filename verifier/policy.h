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

/* Evaluate every rule into v (reasons, warnings, supplier/product/version
 * names) and mark it complete.  Database errors are returned, never turned
 * into "not found". */
enum tg_err tg_policy_evaluate(struct tg_db *db, const struct tg_findings *f,
			       struct tg_verdict *v, struct tg_diag *d);

#endif
