/*
 * Detached CMS / PKCS#7 SignedData (UEFI capsule authentication):
 * libksba parses the ASN.1, libgcrypt verifies.  No hand-written ASN.1.
 * The signer is whichever of the caller's keys (from the records) verifies
 * the signature; certificates inside the SignedData are never trusted.
 */
#ifndef TG_CMS_H
#define TG_CMS_H

#include "crypto.h"

struct tg_cms_result {
	bool malformed;         /* the SignedData does not parse (why says why) */
	bool ok;                /* a key verified it */
	size_t signer;          /* index in keys[] of that key */
	enum tg_hash hash;      /* digest algorithm of the signer */
	enum tg_sig_scheme scheme;
	bool signed_attrs;      /* signature over signed attributes (messageDigest checked) */
	char why[240];          /* when !ok */
};

/* Verify `der` over the detached content (the concatenation of parts).
 * TG_OK with res filled; an error only when verification could not run. */
enum tg_err tg_cms_verify_detached(struct tg_span der, const struct tg_span *parts, size_t nparts,
				   struct tg_key *const *keys, size_t nkeys, struct tg_cms_result *res);

#endif
