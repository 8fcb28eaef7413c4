/*
 * Embedded package manifests: a DSSE envelope (payloadType
 * "application/vnd.in-toto+json") carrying an in-toto Statement v1 whose
 * subjects are the package's members, stored at the archive root as
 * trustgate.intoto.jsonl (or trustgate.dsse.json).  The signature covers
 * PAE(payloadType, payload) = "DSSEv1 " len(type) " " type " " len(body) " " body.
 */
#ifndef TG_DSSE_H
#define TG_DSSE_H

#include "../common/crypto.h"
#include "../db/records.h"

#define TG_MANIFEST_NAME "trustgate.intoto.jsonl"
#define TG_MANIFEST_NAME_ALT "trustgate.dsse.json"
#define TG_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define TG_INTOTO_STATEMENT "https://in-toto.io/Statement/v1"
#define TG_PACKAGE_PREDICATE "https://trustgate.dev/package/v1"

/* A link is listed with annotations {"trustgate.link": "symlink" or
 * "hardlink", "trustgate.target": TARGET} and the digest of TARGET's bytes
 * (a symlink's target as stored, a hard link's as a normalised member path). */
#define TG_ANNOT_LINK "trustgate.link"
#define TG_ANNOT_TARGET "trustgate.target"

struct tg_subject {
	char *name;             /* normalised member path */
	char sha256[65];
	char sm3[65];           /* "" when absent */
	char link_type[10];     /* "symlink", "hardlink", "" for a file */
	char *link;             /* the link's target, NULL for a file */
};

struct tg_statement {
	struct tg_subject *s;
	size_t n;
	char *supplier, *product, *version;
};

/* A parsed envelope: the PAE bytes that were signed, the statement, and
 * the raw signatures.  Released with tg_envelope_release(). */
struct tg_envelope {
	uint8_t *pae;
	size_t pae_len;
	struct tg_statement st;
	uint8_t *sig[8];
	size_t sig_len[8];
	size_t nsig;
};

/* Parse (strictly: one envelope, known types, canonical base64, no
 * duplicate subjects).  Errors are TG_E_FORMAT with a diagnostic. */
enum tg_err tg_envelope_parse(struct tg_span text, const char *what, struct tg_envelope *ret,
			      struct tg_diag *d);
void tg_envelope_release(struct tg_envelope *e);

/* The key of the records that made one of the envelope's signatures.
 * keys: candidate records; *ret_index = -1 when none verifies. */
struct tg_signer_match {
	int index;
	enum tg_hash hash;
	enum tg_sig_scheme scheme;
};
enum tg_err tg_envelope_verify(const struct tg_envelope *e, const struct tg_keyrec *keys, size_t nkeys,
			       struct tg_signer_match *ret, struct tg_diag *d);

#endif
