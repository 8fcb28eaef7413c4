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

/* Did issuer's key sign this X.509 certificate (DER)? */
enum tg_err tg_cert_signed_by_key(struct tg_span cert_der, const struct tg_key *issuer, bool *ok);

#endif

/* Authenticode (embedded SpcIndirectDataContent): the signer certificate
 * comes from the SignedData, and must be one of the anchors or be issued
 * (through certificates of the SignedData, up to 4 levels) by one of them;
 * the anchors are keys of the records.  On success res->ok, res->signer is
 * the anchor index, and the DigestInfo the signature covers is in
 * res->image_hash / res->image_digest. */
struct tg_cms_authenticode {
	bool malformed, ok;
	size_t signer;
	enum tg_hash hash, image_hash;
	uint8_t image_digest[TG_HASH_MAX_LEN];
	char signer_subject[160];
	char why[240];
};
enum tg_err tg_cms_authenticode_verify(struct tg_span der, struct tg_key *const *anchors, size_t nanchors,
				       struct tg_cms_authenticode *res);
