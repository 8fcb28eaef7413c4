/*
 * Credential activation (TPM 2.0 Part 1, 24: "Credential Protection"):
 * TPM2_MakeCredential computed in software on the verifier side, bound to
 * the AK's name and encrypted to the EK, so only the TPM holding both can
 * return the secret (TPM2_ActivateCredential, measure/tpm.c).
 */
#ifndef TG_CREDENTIAL_H
#define TG_CREDENTIAL_H

#include "quote.h"

struct tg_credential {
	uint8_t blob[2 + 2 + 64 + 2 + 64];      /* TPM2B_ID_OBJECT, marshalled */
	size_t blob_len;
	uint8_t secret_enc[2 + 512];            /* TPM2B_ENCRYPTED_SECRET, marshalled */
	size_t secret_enc_len;
};

/* Make a credential for secret (1..32 bytes) to the AK named ak->name,
 * readable only by the TPM of ek (RSA EK with AES-128-CFB symmetric, as the
 * TCG EK templates have it). */
enum tg_err tg_make_credential(const struct tg_ak *ek, const struct tg_ak *ak, const uint8_t *secret, size_t sl,
			       struct tg_credential *out, struct tg_diag *d);

#endif
