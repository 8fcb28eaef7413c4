/*
 * The TPM side of the appliance (TPM2-TSS ESYS): an attestation key under
 * the endorsement key, persisted, and quotes with it.  TSS2 return codes are
 * converted here, decoded by tss2-rc into one line.
 */
#ifndef TG_TPM_H
#define TG_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/tg.h"

/* Persistent handles trustgate keeps its AKs at (owner range). */
#define TG_AK_HANDLE_RSA 0x81010010u
#define TG_AK_HANDLE_ECC 0x81010011u

struct tg_tpm;

/* Open the TPM through a TCTI: conf, else $TPM2TOOLS_TCTI, else
 * $TSS2_TCTI, else the TSS default (/dev/tpmrm0...). */
enum tg_err tg_tpm_open(const char *conf, struct tg_tpm **ret, struct tg_diag *d);
void tg_tpm_close(struct tg_tpm *t);

struct tg_tpm_quote {
	uint8_t *attest, *sig, *ak_public;     /* TPMS_ATTEST, TPMT_SIGNATURE, TPM2B_PUBLIC (marshalled) */
	size_t attest_len, sig_len, ak_public_len;
	uint8_t pcr[24][32];                    /* SHA-256 bank values read after the quote */
	uint32_t pcr_mask;                      /* PCRs quoted */
	bool ak_created;                        /* the AK was made now (else loaded) */
};

/* Load the AK of that type (creating it under the EK and persisting it if
 * absent), quote the SHA-256 bank PCRs in mask with nonce, and read them. */
enum tg_err tg_tpm_quote(struct tg_tpm *t, bool ecc, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
			 struct tg_tpm_quote *q, struct tg_diag *d);
void tg_tpm_quote_release(struct tg_tpm_quote *q);

/* The identity a host enrols with: the public parts (marshalled
 * TPM2B_PUBLIC, as tpm2_createek -u and quote's ak.tpm2b) of the AK of
 * that type (created and persisted if absent) and of the RSA EK it lives
 * under.  Both malloc'd. */
enum tg_err tg_tpm_identity(struct tg_tpm *t, bool ecc, uint8_t **ak, size_t *akl, uint8_t **ek, size_t *ekl,
			    struct tg_diag *d);


/* The audit anchor: an NV counter (monotonic: it cannot be set back) and
 * an NV index holding the last anchored audit row (sequence number, the
 * counter value when it was written, the row hash). */
#define TG_NV_ANCHOR_COUNTER 0x01500010u
#define TG_NV_ANCHOR_HEAD    0x01500011u

struct tg_anchor {
	bool present;            /* the NV indices exist */
	uint64_t seq, written_at, counter;
	uint8_t hash[32];
};

/* Define the two NV indices if absent. */
enum tg_err tg_tpm_anchor_init(struct tg_tpm *t, struct tg_diag *d);
/* Count up and record (seq, hash) as the anchored head. */
enum tg_err tg_tpm_anchor_write(struct tg_tpm *t, uint64_t seq, const uint8_t hash[32], struct tg_diag *d);
enum tg_err tg_tpm_anchor_read(struct tg_tpm *t, struct tg_anchor *a, struct tg_diag *d);

/* Extend a PCR's SHA-256 bank with digest. */
enum tg_err tg_tpm_extend(struct tg_tpm *t, unsigned pcr, const uint8_t digest[32], struct tg_diag *d);

/* TPM2_ActivateCredential with trustgate's AK of that type and the EK:
 * the secret of a credential made for them (blob: TPM2B_ID_OBJECT,
 * enc: TPM2B_ENCRYPTED_SECRET, both marshalled). */
enum tg_err tg_tpm_activate(struct tg_tpm *t, bool ecc, bool ek_ecc, const uint8_t *blob, size_t bl, const uint8_t *enc,
			    size_t el, uint8_t *secret, size_t *sl, struct tg_diag *d);

#endif
