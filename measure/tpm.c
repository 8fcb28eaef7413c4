/*
 * ESYS agent side (see tpm.h).  Key templates: the TCG EK Credential
 * Profile's RSA 2048 template (so the EK is the one tpm2_createek and the
 * EK certificate describe), and restricted signing AKs as tpm2_createak
 * makes them (RSASSA-SHA256 2048, or ECDSA-SHA256 P-256).
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "tpm.h"

/* libtss2-esys is opened when a TPM is first opened, not at start-up: it
 * pulls in OpenSSL's libcrypto, and relocating that costs every process a
 * millisecond or more — every `check`, which never talks to a TPM, paid it.
 * Every ESYS function this file calls is named in this one table and
 * resolved together; a library that is missing or lacks one of them is a
 * one-line TG_E_TPM, never a call through a null pointer. */
#define ESYS_FUNCS(X) \
	X(Esys_ActivateCredential) \
	X(Esys_Create) \
	X(Esys_CreatePrimary) \
	X(Esys_EvictControl) \
	X(Esys_Finalize) \
	X(Esys_FlushContext) \
	X(Esys_Free) \
	X(Esys_Initialize) \
	X(Esys_Load) \
	X(Esys_NV_DefineSpace) \
	X(Esys_NV_Increment) \
	X(Esys_NV_Read) \
	X(Esys_NV_Write) \
	X(Esys_PCR_Extend) \
	X(Esys_PCR_Read) \
	X(Esys_PolicySecret) \
	X(Esys_Quote) \
	X(Esys_ReadPublic) \
	X(Esys_StartAuthSession) \
	X(Esys_TR_FromTPMPublic)

static struct {
#define ESYS_PTR(fn) __typeof__(fn) *fn;
	ESYS_FUNCS(ESYS_PTR)
#undef ESYS_PTR
} esys;

static pthread_once_t esys_once = PTHREAD_ONCE_INIT;
static char esys_error[256];

static void esys_load(void)
{
	void *h = dlopen("libtss2-esys.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(esys_error, sizeof(esys_error), "%s", dlerror());
		return;
	}
#define ESYS_SYM(fn)                                                                          \
	if (!esys_error[0] && !(*(void **)&esys.fn = dlsym(h, #fn)))                            \
		snprintf(esys_error, sizeof(esys_error), "libtss2-esys.so.0 has no %s", #fn);
	ESYS_FUNCS(ESYS_SYM)
#undef ESYS_SYM
	if (esys_error[0])
		memset(&esys, 0, sizeof(esys));
}

static enum tg_err esys_ready(struct tg_diag *d)
{
	pthread_once(&esys_once, esys_load);
	if (esys_error[0])
		return tg_fail(d, TG_E_TPM, "TPM: cannot load the TPM software stack: %s (Debian package libtss2-esys-3.0.2-0)",
			       esys_error);
	return TG_OK;
}

struct tg_tpm {
	TSS2_TCTI_CONTEXT *tcti;
	ESYS_CONTEXT *ectx;
};

/* Every TSS2 return code becomes one line naming the step. */
static enum tg_err tss(TSS2_RC rc, const char *step, struct tg_diag *d)
{
	if (rc == TSS2_RC_SUCCESS)
		return TG_OK;
	return tg_fail(d, TG_E_TPM, "TPM: %s failed: %s (0x%x)", step, Tss2_RC_Decode(rc), rc);
}

enum tg_err tg_tpm_open(const char *conf, struct tg_tpm **ret, struct tg_diag *d)
{
	struct tg_tpm *t;
	enum tg_err r = esys_ready(d);

	if (r != TG_OK)
		return r;
	if (!(t = calloc(1, sizeof(*t))))
		return TG_E_NOMEM;
	if (!conf || !*conf)
		conf = getenv("TPM2TOOLS_TCTI");
	if (!conf || !*conf)
		conf = getenv("TSS2_TCTI");
	r = tss(Tss2_TctiLdr_Initialize(conf && *conf ? conf : NULL, &t->tcti), "opening the TCTI", d);
	if (r == TG_OK)
		r = tss(esys.Esys_Initialize(&t->ectx, t->tcti, NULL), "ESYS initialisation", d);
	if (r != TG_OK) {
		tg_tpm_close(t);
		return r;
	}
	*ret = t;
	return TG_OK;
}

void tg_tpm_close(struct tg_tpm *t)
{
	if (!t)
		return;
	if (t->ectx)
		esys.Esys_Finalize(&t->ectx);
	if (t->tcti)
		Tss2_TctiLdr_Finalize(&t->tcti);
	free(t);
}

void tg_tpm_quote_release(struct tg_tpm_quote *q)
{
	free(q->attest);
	free(q->sig);
	free(q->ak_public);
	memset(q, 0, sizeof(*q));
}

/* PolicySecret(TPM_RH_ENDORSEMENT): what the EK's authPolicy asks for. */
static const uint8_t ek_policy[32] = { 0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
				       0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
				       0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA };

/* The TCG EK Credential Profile's templates: RSA 2048 (L-1) or ECC NIST
 * P-256 (L-2), the EKs tpm2_createek makes and EK certificates describe. */
static void ek_template(TPM2B_PUBLIC *p, bool ecc)
{
	TPMT_SYM_DEF_OBJECT *sym = ecc ? &p->publicArea.parameters.eccDetail.symmetric :
					 &p->publicArea.parameters.rsaDetail.symmetric;

	memset(p, 0, sizeof(*p));
	p->publicArea.type = ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA;
	p->publicArea.nameAlg = TPM2_ALG_SHA256;
	p->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
					 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
	p->publicArea.authPolicy.size = 32;
	memcpy(p->publicArea.authPolicy.buffer, ek_policy, 32);
	sym->algorithm = TPM2_ALG_AES;
	sym->keyBits.aes = 128;
	sym->mode.aes = TPM2_ALG_CFB;
	if (ecc) {
		p->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
		p->publicArea.unique.ecc.x.size = 32;
		p->publicArea.unique.ecc.y.size = 32;
	} else {
		p->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
		p->publicArea.parameters.rsaDetail.keyBits = 2048;
		p->publicArea.unique.rsa.size = 256;
	}
}

static void ak_template(TPM2B_PUBLIC *p, bool ecc)
{
	memset(p, 0, sizeof(*p));
	p->publicArea.nameAlg = TPM2_ALG_SHA256;
	p->publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
					 TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	if (ecc) {
		p->publicArea.type = TPM2_ALG_ECC;
		p->publicArea.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->publicArea.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
		p->publicArea.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
		p->publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
		p->publicArea.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	} else {
		p->publicArea.type = TPM2_ALG_RSA;
		p->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
		p->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
		p->publicArea.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
		p->publicArea.parameters.rsaDetail.keyBits = 2048;
	}
}

static enum tg_err ek_session(ESYS_CONTEXT *e, ESYS_TR *s, struct tg_diag *d)
{
	TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_NULL };
	enum tg_err r = tss(esys.Esys_StartAuthSession(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
						  ESYS_TR_NONE, NULL, TPM2_SE_POLICY, &sym, TPM2_ALG_SHA256, s),
			    "starting a policy session", d);
	if (r == TG_OK)
		r = tss(esys.Esys_PolicySecret(e, ESYS_TR_RH_ENDORSEMENT, *s, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
					  NULL, NULL, NULL, 0, NULL, NULL),
			"PolicySecret(endorsement) for the EK", d);
	return r;
}

/* The persisted AK, or a new one made under the EK and persisted. */
static enum tg_err ak_handle(struct tg_tpm *t, bool ecc, ESYS_TR *ak, bool *created, struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	TPM2_HANDLE h = ecc ? TG_AK_HANDLE_ECC : TG_AK_HANDLE_RSA;
	TPM2B_PUBLIC ekt, akt, *ek_pub = NULL, *out_pub = NULL;
	TPM2B_PRIVATE *out_priv = NULL;
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	ESYS_TR ek = ESYS_TR_NONE, s = ESYS_TR_NONE, loaded = ESYS_TR_NONE;
	enum tg_err r;

	*created = false;
	if (esys.Esys_TR_FromTPMPublic(e, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ak) == TSS2_RC_SUCCESS) {
		/* Only a restricted signing key of the asked type is used. */
		TPM2B_PUBLIC *p = NULL;
		r = tss(esys.Esys_ReadPublic(e, *ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &p, NULL, NULL),
			"reading the persisted AK", d);
		if (r == TG_OK && (p->publicArea.type != (ecc ? TPM2_ALG_ECC : TPM2_ALG_RSA) ||
				   !(p->publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED) ||
				   !(p->publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT)))
			r = tg_fail(d, TG_E_TPM, "TPM: handle 0x%x holds a key that is not a restricted %s signing key", h,
				    ecc ? "ECC" : "RSA");
		esys.Esys_Free(p);
		return r;
	}
	ek_template(&ekt, false);
	ak_template(&akt, ecc);
	r = tss(esys.Esys_CreatePrimary(e, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &ekt,
				   &outside, &none, &ek, &ek_pub, NULL, NULL, NULL),
		"creating the EK", d);
	if (r == TG_OK)
		r = ek_session(e, &s, d);
	if (r == TG_OK)
		r = tss(esys.Esys_Create(e, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, &sens, &akt, &outside, &none, &out_priv, &out_pub,
				    NULL, NULL, NULL),
			"creating the AK under the EK", d);
	if (s != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, s);
	s = ESYS_TR_NONE;
	if (r == TG_OK)
		r = ek_session(e, &s, d);
	if (r == TG_OK)
		r = tss(esys.Esys_Load(e, ek, s, ESYS_TR_NONE, ESYS_TR_NONE, out_priv, out_pub, &loaded), "loading the AK", d);
	if (s != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, s);
	if (r == TG_OK)
		r = tss(esys.Esys_EvictControl(e, ESYS_TR_RH_OWNER, loaded, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, h, ak),
			"persisting the AK", d);
	if (loaded != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, loaded);
	if (ek != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, ek);
	esys.Esys_Free(ek_pub);
	esys.Esys_Free(out_pub);
	esys.Esys_Free(out_priv);
	*created = r == TG_OK;
	return r;
}

static enum tg_err dup_bytes(const uint8_t *p, size_t n, uint8_t **ret, size_t *ret_len)
{
	*ret = malloc(n ? n : 1);
	if (!*ret)
		return TG_E_NOMEM;
	memcpy(*ret, p, n);
	*ret_len = n;
	return TG_OK;
}

enum tg_err tg_tpm_quote(struct tg_tpm *t, bool ecc, const uint8_t *nonce, size_t nonce_len, uint32_t mask,
			 struct tg_tpm_quote *q, struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	ESYS_TR ak = ESYS_TR_NONE;
	TPM2B_DATA qd = { 0 };
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPML_PCR_SELECTION sel = { .count = 1 };
	TPM2B_ATTEST *quoted = NULL;
	TPMT_SIGNATURE *sig = NULL;
	TPM2B_PUBLIC *pub = NULL;
	uint8_t buf[sizeof(TPMT_SIGNATURE) + sizeof(TPM2B_PUBLIC)];
	size_t off;
	enum tg_err r;

	memset(q, 0, sizeof(*q));
	if (nonce_len > sizeof(qd.buffer))
		return tg_fail(d, TG_E_USAGE, "--nonce: at most %zu bytes", sizeof(qd.buffer));
	qd.size = (UINT16)nonce_len;
	memcpy(qd.buffer, nonce, nonce_len);
	sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
	sel.pcrSelections[0].sizeofSelect = 3;
	for (int i = 0; i < 24; i++)
		if (mask & (1u << i))
			sel.pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
	q->pcr_mask = mask;
	r = ak_handle(t, ecc, &ak, &q->ak_created, d);
	if (r == TG_OK)
		r = tss(esys.Esys_Quote(e, ak, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &qd, &scheme, &sel, &quoted, &sig),
			"quote", d);
	if (r == TG_OK)
		r = tss(esys.Esys_ReadPublic(e, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL),
			"reading the AK", d);
	if (r == TG_OK)
		r = dup_bytes(quoted->attestationData, quoted->size, &q->attest, &q->attest_len);
	off = 0;
	if (r == TG_OK)
		r = tss(Tss2_MU_TPMT_SIGNATURE_Marshal(sig, buf, sizeof(buf), &off), "marshalling the signature", d);
	if (r == TG_OK)
		r = dup_bytes(buf, off, &q->sig, &q->sig_len);
	off = 0;
	if (r == TG_OK)
		r = tss(Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof(buf), &off), "marshalling the AK", d);
	if (r == TG_OK)
		r = dup_bytes(buf, off, &q->ak_public, &q->ak_public_len);
	/* The PCR values, read after the quote; PCR_Read returns at most 8
	 * digests per call, so ask until every selected PCR is in. */
	uint32_t left = mask;
	while (r == TG_OK && left) {
		TPML_PCR_SELECTION ask = { .count = 1 }, *got = NULL;
		TPML_DIGEST *vals = NULL;
		ask.pcrSelections[0].hash = TPM2_ALG_SHA256;
		ask.pcrSelections[0].sizeofSelect = 3;
		for (int i = 0; i < 24; i++)
			if (left & (1u << i))
				ask.pcrSelections[0].pcrSelect[i / 8] |= (uint8_t)(1u << (i % 8));
		r = tss(esys.Esys_PCR_Read(e, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ask, NULL, &got, &vals), "reading PCRs", d);
		size_t k = 0;
		uint32_t before = left;
		for (int i = 0; r == TG_OK && i < 24 && k < vals->count; i++)
			if (got->count && (got->pcrSelections[0].pcrSelect[i / 8] & (1u << (i % 8)))) {
				if (vals->digests[k].size != 32) {
					r = tg_fail(d, TG_E_TPM, "TPM: PCR %d value is not a SHA-256 digest", i);
					break;
				}
				memcpy(q->pcr[i], vals->digests[k++].buffer, 32);
				left &= ~(1u << i);
			}
		esys.Esys_Free(got);
		esys.Esys_Free(vals);
		if (r == TG_OK && left == before)
			r = tg_fail(d, TG_E_TPM, "TPM: the SHA-256 PCR bank is not allocated");
	}
	esys.Esys_Free(quoted);
	esys.Esys_Free(sig);
	esys.Esys_Free(pub);
	if (r != TG_OK)
		tg_tpm_quote_release(q);
	return r;
}

static enum tg_err marshal_public(const TPM2B_PUBLIC *p, uint8_t **ret, size_t *ret_len, struct tg_diag *d)
{
	uint8_t buf[sizeof(TPM2B_PUBLIC)];
	size_t off = 0;
	enum tg_err r = tss(Tss2_MU_TPM2B_PUBLIC_Marshal(p, buf, sizeof(buf), &off), "marshalling a public key", d);

	return r == TG_OK ? dup_bytes(buf, off, ret, ret_len) : r;
}

enum tg_err tg_tpm_identity(struct tg_tpm *t, bool ecc, uint8_t **ak_out, size_t *akl, uint8_t **ek_out, size_t *ekl,
			    struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	ESYS_TR ak = ESYS_TR_NONE, ek = ESYS_TR_NONE;
	TPM2B_PUBLIC ekt, *ek_pub = NULL, *ak_pub = NULL;
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	bool created;
	enum tg_err r;

	*ak_out = *ek_out = NULL;
	r = ak_handle(t, ecc, &ak, &created, d);
	if (r == TG_OK)
		r = tss(esys.Esys_ReadPublic(e, ak, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &ak_pub, NULL, NULL),
			"reading the AK", d);
	if (r == TG_OK) {
		ek_template(&ekt, false);
		r = tss(esys.Esys_CreatePrimary(e, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
					   &sens, &ekt, &outside, &none, &ek, &ek_pub, NULL, NULL, NULL),
			"creating the EK", d);
	}
	if (r == TG_OK)
		r = marshal_public(ak_pub, ak_out, akl, d);
	if (r == TG_OK)
		r = marshal_public(ek_pub, ek_out, ekl, d);
	if (ek != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, ek);
	esys.Esys_Free(ek_pub);
	esys.Esys_Free(ak_pub);
	if (r != TG_OK) {
		free(*ak_out);
		free(*ek_out);
		*ak_out = *ek_out = NULL;
	}
	return r;
}

/* ------------------------------------------------------------ audit anchor */

static enum tg_err nv_handle(ESYS_CONTEXT *e, TPM2_HANDLE h, ESYS_TR *tr, bool *present)
{
	*present = esys.Esys_TR_FromTPMPublic(e, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, tr) == TSS2_RC_SUCCESS;
	return TG_OK;
}

static enum tg_err nv_define(ESYS_CONTEXT *e, TPM2_HANDLE h, TPMA_NV type, uint16_t size, struct tg_diag *d)
{
	TPM2B_AUTH auth = { 0 };
	TPM2B_NV_PUBLIC pub = { 0 };
	ESYS_TR tr;
	bool present;

	nv_handle(e, h, &tr, &present);
	if (present)
		return TG_OK;
	pub.nvPublic.nvIndex = h;
	pub.nvPublic.nameAlg = TPM2_ALG_SHA256;
	pub.nvPublic.attributes = type | TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA;
	pub.nvPublic.dataSize = size;
	return tss(esys.Esys_NV_DefineSpace(e, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &auth, &pub,
				       &tr),
		   "defining the audit anchor NV index", d);
}

enum tg_err tg_tpm_anchor_init(struct tg_tpm *t, struct tg_diag *d)
{
	enum tg_err r = nv_define(t->ectx, TG_NV_ANCHOR_COUNTER,
				  (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) & TPMA_NV_TPM2_NT_MASK, 8, d);
	if (r == TG_OK)
		r = nv_define(t->ectx, TG_NV_ANCHOR_HEAD, 0, 48, d);
	return r;
}

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static enum tg_err nv_read(ESYS_CONTEXT *e, ESYS_TR tr, uint16_t size, uint8_t *out, struct tg_diag *d)
{
	TPM2B_MAX_NV_BUFFER *data = NULL;
	enum tg_err r = tss(esys.Esys_NV_Read(e, ESYS_TR_RH_OWNER, tr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, size, 0,
					 &data),
			    "reading the audit anchor", d);
	if (r == TG_OK && data->size != size)
		r = tg_fail(d, TG_E_TPM, "TPM: the audit anchor has %u bytes, not %u", data->size, size);
	if (r == TG_OK)
		memcpy(out, data->buffer, size);
	esys.Esys_Free(data);
	return r;
}

enum tg_err tg_tpm_anchor_write(struct tg_tpm *t, uint64_t seq, const uint8_t hash[32], struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	ESYS_TR ctr, head;
	bool pc, ph;
	uint8_t c[8];
	TPM2B_MAX_NV_BUFFER data = { .size = 48 };
	enum tg_err r;

	nv_handle(e, TG_NV_ANCHOR_COUNTER, &ctr, &pc);
	nv_handle(e, TG_NV_ANCHOR_HEAD, &head, &ph);
	if (!pc || !ph)
		return tg_fail(d, TG_E_TPM, "TPM: the audit anchor NV indices are missing (audit anchor was not run on "
			       "this TPM, or they were removed)");
	r = tss(esys.Esys_NV_Increment(e, ESYS_TR_RH_OWNER, ctr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE),
		"counting the audit anchor up", d);
	if (r == TG_OK)
		r = nv_read(e, ctr, 8, c, d);
	if (r != TG_OK)
		return r;
	put_be64(data.buffer, seq);
	memcpy(data.buffer + 8, c, 8);
	memcpy(data.buffer + 16, hash, 32);
	return tss(esys.Esys_NV_Write(e, ESYS_TR_RH_OWNER, head, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &data, 0),
		   "writing the audit anchor", d);
}

enum tg_err tg_tpm_anchor_read(struct tg_tpm *t, struct tg_anchor *a, struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	ESYS_TR ctr, head;
	bool pc, ph;
	uint8_t c[8], h[48];
	enum tg_err r;

	memset(a, 0, sizeof(*a));
	nv_handle(e, TG_NV_ANCHOR_COUNTER, &ctr, &pc);
	nv_handle(e, TG_NV_ANCHOR_HEAD, &head, &ph);
	if (!pc || !ph)
		return TG_OK;
	r = nv_read(e, ctr, 8, c, d);
	if (r == TG_OK)
		r = nv_read(e, head, 48, h, d);
	if (r != TG_OK)
		return r;
	a->present = true;
	a->counter = be64(c);
	a->seq = be64(h);
	a->written_at = be64(h + 8);
	memcpy(a->hash, h + 16, 32);
	return TG_OK;
}

enum tg_err tg_tpm_extend(struct tg_tpm *t, unsigned pcr, const uint8_t digest[32], struct tg_diag *d)
{
	TPML_DIGEST_VALUES v = { .count = 1 };

	if (pcr > 23)
		return tg_fail(d, TG_E_USAGE, "PCR %u does not exist", pcr);
	v.digests[0].hashAlg = TPM2_ALG_SHA256;
	memcpy(v.digests[0].digest.sha256, digest, 32);
	return tss(esys.Esys_PCR_Extend(t->ectx, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &v),
		   "extending the decision PCR", d);
}

enum tg_err tg_tpm_activate(struct tg_tpm *t, bool ecc, bool ek_ecc, const uint8_t *blob, size_t bl, const uint8_t *enc,
			    size_t el, uint8_t *secret, size_t *sl, struct tg_diag *d)
{
	ESYS_CONTEXT *e = t->ectx;
	TPM2B_ID_OBJECT id = { 0 };
	TPM2B_ENCRYPTED_SECRET es = { 0 };
	TPM2B_DIGEST *cert = NULL;
	TPM2B_PUBLIC ekt, *ek_pub = NULL;
	TPM2B_SENSITIVE_CREATE sens = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION none = { 0 };
	ESYS_TR ak = ESYS_TR_NONE, ek = ESYS_TR_NONE, s = ESYS_TR_NONE;
	size_t off = 0;
	bool created;
	enum tg_err r;

	if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, bl, &off, &id) != TSS2_RC_SUCCESS || off != bl)
		return tg_fail(d, TG_E_FORMAT, "challenge: the credential blob is malformed");
	off = 0;
	if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(enc, el, &off, &es) != TSS2_RC_SUCCESS || off != el)
		return tg_fail(d, TG_E_FORMAT, "challenge: the encrypted secret is malformed");
	r = ak_handle(t, ecc, &ak, &created, d);
	if (r == TG_OK) {
		ek_template(&ekt, ek_ecc);
		r = tss(esys.Esys_CreatePrimary(e, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
					   &ekt, &outside, &none, &ek, &ek_pub, NULL, NULL, NULL),
			"creating the EK", d);
	}
	if (r == TG_OK)
		r = ek_session(e, &s, d);
	if (r == TG_OK)
		r = tss(esys.Esys_ActivateCredential(e, ak, ek, ESYS_TR_PASSWORD, s, ESYS_TR_NONE, &id, &es, &cert),
			"activating the credential (it was not made for this TPM's EK and AK)", d);
	if (r == TG_OK) {
		memcpy(secret, cert->buffer, cert->size);
		*sl = cert->size;
	}
	if (s != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, s);
	if (ek != ESYS_TR_NONE)
		esys.Esys_FlushContext(e, ek);
	esys.Esys_Free(ek_pub);
	esys.Esys_Free(cert);
	return r;
}
