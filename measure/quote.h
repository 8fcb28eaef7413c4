/*
 * TPM 2.0 quotes: TPMS_ATTEST + TPMT_SIGNATURE as tpm2-tools 5.x writes
 * them, AK public keys (PEM, TPM2B_PUBLIC, TPMT_PUBLIC), PCR value files,
 * and the checks of a quote against a nonce and PCR values.  TSS2_RC codes
 * are converted in quote.c and nowhere else.
 */
#ifndef TG_QUOTE_H
#define TG_QUOTE_H

#include <tss2/tss2_tpm2_types.h>

#include "../common/crypto.h"
#include "eventlog.h"

/* PCR values by bank: v[h][i] valid where have[h][i]. */
struct tg_pcr_values {
	bool have[TG_HASH__COUNT][TG_EL_PCRS];
	uint8_t v[TG_HASH__COUNT][TG_EL_PCRS][TG_HASH_MAX_LEN];
};

struct tg_ak {
	struct tg_key *key;
	bool has_public;          /* came as TPMT_PUBLIC: attributes known */
	TPMT_PUBLIC pub;
	uint8_t name[2 + TG_HASH_MAX_LEN];  /* TPM name: nameAlg || H(TPMT_PUBLIC) */
	size_t name_len;
};

struct tg_quote {
	uint8_t *raw;             /* the signed TPMS_ATTEST bytes (owned) */
	size_t raw_len;
	TPMS_ATTEST attest;
	TPMT_SIGNATURE sig;
};

enum tg_err tg_ak_parse(struct tg_span in, const char *what, struct tg_ak *ret, struct tg_diag *d);
void tg_ak_release(struct tg_ak *ak);
/* The TPMT_PUBLIC of an AK that came with one, marshalled. */
enum tg_err tg_ak_marshal(const struct tg_ak *ak, uint8_t *buf, size_t cap, size_t *ret_len);
/* restricted, sign, fixedTPM, fixedParent, sensitiveDataOrigin, not decrypt
 * (THREATS case 48a). */
bool tg_ak_attributes_ok(const struct tg_ak *ak);
/* TPMS_ATTEST or TPM2B_ATTEST; no trailing bytes. */
enum tg_err tg_quote_parse(struct tg_span attest, const char *attest_what, struct tg_span sig,
			   const char *sig_what, struct tg_quote *ret, struct tg_diag *d);
void tg_quote_release(struct tg_quote *q);

/* tpm2-tools `-o` PCR files (serialized, or plain values in the order of
 * sel when given) and the JSON form {"sha256": {"0": "hex", ...}}. */
enum tg_err tg_pcrs_parse(struct tg_span in, const char *what, const TPML_PCR_SELECTION *sel,
			  struct tg_pcr_values *ret, struct tg_diag *d);
/* PCR values a replayed log determines for the banks it carries (PCRs it
 * never touches hold their initial values). */
void tg_pcrs_from_eventlog(const struct tg_eventlog *el, struct tg_pcr_values *ret);

enum tg_hash tg_tpm_alg_hash(uint16_t alg);
uint16_t tg_hash_tpm_alg(enum tg_hash h);

/* One finding about a quote: code from CLI.md and a sentence. */
struct tg_quote_finding {
	const char *code;
	char detail[256];
};

#define TG_QUOTE_MAX_FINDINGS 16
struct tg_quote_result {
	struct tg_quote_finding f[TG_QUOTE_MAX_FINDINGS];
	size_t n;
	struct tg_quote_finding w[TG_QUOTE_MAX_FINDINGS];
	size_t nw;
	bool complete;            /* every check ran */
};

struct tg_quote_inputs {
	const struct tg_ak *ak;
	const struct tg_quote *quote;
	const uint8_t *nonce;       /* NULL: none given */
	size_t nonce_len;
	const struct tg_pcr_values *pcrs;      /* --pcrs, or NULL */
	const struct tg_eventlog *eventlog;    /* --eventlog, or NULL */
	uint32_t required_pcrs;     /* bitmask the selection must cover */
};

/* Run every check (THREATS cases 44-46, 48, 50, 51).  Errors are only
 * for library failures; every problem with the evidence is a finding. */
enum tg_err tg_quote_check(const struct tg_quote_inputs *in, struct tg_quote_result *res,
			   struct tg_diag *d);

#endif
