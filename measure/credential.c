/* TPM2_MakeCredential in software (see credential.h). */
#include <string.h>

#include "credential.h"

/* SP 800-108 counter-mode KDF with HMAC-SHA256, as the TPM's KDFa:
 * HMAC(key, i || label || 0 || contextU || contextV || bits). */
static enum tg_err kdfa(const uint8_t *key, size_t kl, const char *label, struct tg_span u, uint32_t bits,
			uint8_t *out)
{
	uint8_t ctr[4], bl[4] = { (uint8_t)(bits >> 24), (uint8_t)(bits >> 16), (uint8_t)(bits >> 8), (uint8_t)bits };
	uint8_t block[32];
	size_t need = bits / 8;

	for (uint32_t i = 1; need; i++) {
		ctr[0] = (uint8_t)(i >> 24), ctr[1] = (uint8_t)(i >> 16), ctr[2] = (uint8_t)(i >> 8), ctr[3] = (uint8_t)i;
		struct tg_span parts[] = { tg_span_make(ctr, 4), tg_span_make(label, strlen(label) + 1), u,
					   tg_span_make(bl, 4) };
		enum tg_err r = tg_hmac(TG_HASH_SHA256, key, kl, parts, 4, block);
		if (r != TG_OK)
			return r;
		size_t n = need < 32 ? need : 32;
		memcpy(out, block, n);
		out += n;
		need -= n;
	}
	return TG_OK;
}

/* The TPM's KDFe (SP 800-56A concatenation KDF, SHA-256):
 * H(counter || Z || label || 0 || partyU || partyV), one block. */
static enum tg_err kdfe(const uint8_t z[32], const char *label, const uint8_t u[32], const uint8_t v[32], uint8_t out[32])
{
	static const uint8_t one[4] = { 0, 0, 0, 1 };
	struct tg_md *md = NULL;
	enum tg_err r = tg_md_new(TG_HASH_SHA256, &md);

	if (r != TG_OK)
		return r;
	tg_md_write(md, one, 4);
	tg_md_write(md, z, 32);
	tg_md_write(md, label, strlen(label) + 1);
	tg_md_write(md, u, 32);
	tg_md_write(md, v, 32);
	tg_md_final(md, out);
	tg_md_free(md);
	return TG_OK;
}

/* The seed and its encryption to an ECC EK: ECDH with an ephemeral key;
 * the encrypted secret is the ephemeral point (TPMS_ECC_POINT). */
static enum tg_err ecc_seed(const struct tg_ak *ek, uint8_t seed[32], struct tg_credential *out)
{
	uint8_t z[32], x[32], y[32];
	enum tg_err r = tg_ecdh_p256(ek->key, z, x, y);

	if (r == TG_OK)
		r = kdfe(z, "IDENTITY", x, ek->key->q + 1, seed);
	if (r != TG_OK)
		return r;
	uint8_t *p = out->secret_enc;
	p[0] = 0, p[1] = 68;             /* TPM2B_ENCRYPTED_SECRET size */
	p[2] = 0, p[3] = 32;
	memcpy(p + 4, x, 32);
	p[36] = 0, p[37] = 32;
	memcpy(p + 38, y, 32);
	out->secret_enc_len = 70;
	return TG_OK;
}

enum tg_err tg_make_credential(const struct tg_ak *ek, const struct tg_ak *ak, const uint8_t *secret, size_t sl,
			       struct tg_credential *out, struct tg_diag *d)
{
	static const uint8_t label[] = "IDENTITY";      /* with its NUL */
	const TPMT_PUBLIC *p = &ek->pub;
	uint8_t seed[32], sym[16], hkey[32], enc[2 + 32], hmac[32];
	size_t el = 0;
	enum tg_err r;

	memset(out, 0, sizeof(*out));
	bool ecc = ek->has_public && p->type == TPM2_ALG_ECC;
	const TPMT_SYM_DEF_OBJECT *sym_def = ecc ? &p->parameters.eccDetail.symmetric : &p->parameters.rsaDetail.symmetric;
	if (!ek->has_public || (p->type != TPM2_ALG_RSA && !(ecc && p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256)) ||
	    p->nameAlg != TPM2_ALG_SHA256 || sym_def->algorithm != TPM2_ALG_AES || sym_def->keyBits.aes != 128 ||
	    sym_def->mode.aes != TPM2_ALG_CFB || !(p->objectAttributes & TPMA_OBJECT_RESTRICTED) ||
	    !(p->objectAttributes & TPMA_OBJECT_DECRYPT))
		return tg_fail(d, TG_E_UNSUPPORTED, "the EK is not an RSA or P-256 storage key with SHA-256 and AES-128-CFB "
			       "(the TCG EK templates)");
	if (sl == 0 || sl > 32 || ak->name_len != 34)
		return tg_fail(d, TG_E_USAGE, "credential: secret of 1..32 bytes and a SHA-256 AK name needed");
	if (ecc) {
		r = ecc_seed(ek, seed, out);
		if (r != TG_OK)
			return tg_fail(d, r, "credential: ECDH with the EK failed");
	} else {
		tg_random(seed, sizeof(seed));
		/* The seed, encrypted to the EK (OAEP, label "IDENTITY"). */
		r = tg_rsa_oaep_encrypt(ek->key, TG_HASH_SHA256, label, sizeof(label), seed, sizeof(seed),
					out->secret_enc + 2, sizeof(out->secret_enc) - 2, &el);
		if (r != TG_OK)
			return tg_fail(d, r, "credential: RSA-OAEP encryption to the EK failed");
		out->secret_enc[0] = (uint8_t)(el >> 8), out->secret_enc[1] = (uint8_t)el;
		out->secret_enc_len = 2 + el;
	}
	/* Keys derived from the seed, the symmetric one bound to the AK name. */
	r = kdfa(seed, sizeof(seed), "STORAGE", tg_span_make(ak->name, ak->name_len), 128, sym);
	if (r == TG_OK)
		r = kdfa(seed, sizeof(seed), "INTEGRITY", tg_span_make(NULL, 0), 256, hkey);
	if (r != TG_OK)
		return r;
	enc[0] = 0, enc[1] = (uint8_t)sl;
	memcpy(enc + 2, secret, sl);
	r = tg_aes128_cfb(true, sym, enc, 2 + sl);
	if (r != TG_OK)
		return r;
	struct tg_span hp[] = { tg_span_make(enc, 2 + sl), tg_span_make(ak->name, ak->name_len) };
	r = tg_hmac(TG_HASH_SHA256, hkey, sizeof(hkey), hp, 2, hmac);
	if (r != TG_OK)
		return r;
	/* TPM2B_ID_OBJECT: size, TPM2B_DIGEST integrityHMAC, encIdentity. */
	size_t n = 2 + 32 + 2 + sl;
	uint8_t *b = out->blob;
	b[0] = (uint8_t)(n >> 8), b[1] = (uint8_t)n;
	b[2] = 0, b[3] = 32;
	memcpy(b + 4, hmac, 32);
	memcpy(b + 36, enc, 2 + sl);
	out->blob_len = 2 + n;
	return TG_OK;
}
