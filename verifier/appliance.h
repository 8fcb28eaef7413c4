/*
 * The appliance's own signing key: what makes the machine-readable twins of
 * a verdict (in-toto VSA for a check, IETF RATS EAR for an attestation) and
 * the audit export verifiable by anyone holding its public key, offline,
 * with openssl.
 *
 * Ed25519 by default, SM2 (SM3, GM/T 0009 default identity) with --gm.  The
 * private key is a PKCS#8 PEM file beside the records (DATABASE.appliance.pem,
 * mode 0600) — never inside them, so an export or a copy of the records
 * carries no secret; its public key, fingerprint and algorithm are kept in
 * the records' meta, and its creation is audited.
 */
#ifndef TG_APPLIANCE_H
#define TG_APPLIANCE_H

#include <json-c/json.h>

#include "cli.h"
#include "../common/privkey.h"

/* Create the key (refuses when one exists). */
enum tg_err tg_appliance_key_init(struct tg_ctx *ctx, struct tg_db *db, bool gm, struct json_object **ret_info,
				  struct tg_diag *d);
/* Load the private key (TG_E_NOTFOUND: none; run appliance-key init). */
enum tg_err tg_appliance_key_load(struct tg_db *db, struct tg_privkey **ret, struct tg_diag *d);
/* Its public key as PEM (malloc'd). */
char *tg_appliance_pub_pem(const struct tg_privkey *k);

/* A DSSE envelope (JSON text, malloc'd) over payload, signed with k. */
enum tg_err tg_appliance_dsse(const struct tg_privkey *k, const char *payload_type, const char *payload,
			      char **ret, struct tg_diag *d);
/* A JWS compact serialisation (JWT) of claims, signed with k: "EdDSA"
 * (RFC 8037) for Ed25519; "SM2SM3" (private use: DER SM2 signature with SM3
 * and the default identity) under GM. */
enum tg_err tg_appliance_jwt(const struct tg_privkey *k, const char *claims, char **ret, struct tg_diag *d);

/* An appliance's public key from a PEM file (appliance-key show), for
 * what it signed elsewhere: exports, backups. */
enum tg_err tg_appliance_pub_load(const char *path, struct tg_key **ret, struct tg_diag *d);

/* Verify an appliance signature (Ed25519 raw, or SM2 DER with SM3 and the
 * default identity) over msg with the public key k. */
enum tg_err tg_appliance_verify(const struct tg_key *k, struct tg_span msg, struct tg_span sig, bool *ret_valid,
				struct tg_diag *d);

#define TG_AUDIT_EXPORT_TYPE "application/vnd.trustgate.audit-export+json"

#endif
