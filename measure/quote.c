/*
 * TPM 2.0 quote verification.
 *
 * Structures are unmarshalled with tss2-mu (the TCG's own marshalling
 * code) and every TSS2_RC is converted by mu() below.  The checks follow
 * TPM 2.0 Part 3 §18.4 (TPM2_Quote): the TPM signs the marshalled
 * TPMS_ATTEST with the AK's scheme; attested.quote.pcrDigest is the hash,
 * with the signing scheme's algorithm, of the selected PCR values
 * concatenated in selection order.
 */
#include <stdarg.h>
#include <string.h>

#include <json-c/json.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>

#include "quote.h"
#include "decisions.h"
#include "../common/encoding.h"
#include "../common/reasons.h"

static enum tg_err mu(TSS2_RC rc, const char *what, const char *type, struct tg_diag *d)
{
	if (rc == TSS2_RC_SUCCESS)
		return TG_OK;
	return tg_fail(d, TG_E_FORMAT, "%s: not a valid %s (%s)", what, type, Tss2_RC_Decode(rc));
}

enum tg_hash tg_tpm_alg_hash(uint16_t alg)
{
	switch (alg) {
	case TPM2_ALG_SHA1: return TG_HASH_SHA1;
	case TPM2_ALG_SHA256: return TG_HASH_SHA256;
	case TPM2_ALG_SHA384: return TG_HASH_SHA384;
	case TPM2_ALG_SHA512: return TG_HASH_SHA512;
	case TPM2_ALG_SM3_256: return TG_HASH_SM3;
	default: return TG_HASH_NONE;
	}
}

uint16_t tg_hash_tpm_alg(enum tg_hash h)
{
	switch (h) {
	case TG_HASH_SHA1: return TPM2_ALG_SHA1;
	case TG_HASH_SHA256: return TPM2_ALG_SHA256;
	case TG_HASH_SHA384: return TPM2_ALG_SHA384;
	case TG_HASH_SHA512: return TPM2_ALG_SHA512;
	case TG_HASH_SM3: return TPM2_ALG_SM3_256;
	default: return TPM2_ALG_NULL;
	}
}

/* ------------------------------------------------------------------ AK */

void tg_ak_release(struct tg_ak *ak)
{
	tg_key_free(ak->key);
	memset(ak, 0, sizeof(*ak));
}

static enum tg_err ak_from_public(const TPMT_PUBLIC *p, const char *what, struct tg_ak *ak,
				  struct tg_diag *d)
{
	uint8_t buf[sizeof(TPMT_PUBLIC)];
	size_t off = 0;
	enum tg_hash nh = tg_tpm_alg_hash(p->nameAlg);
	enum tg_err r;

	if (p->type == TPM2_ALG_RSA) {
		uint32_t e = p->parameters.rsaDetail.exponent ? p->parameters.rsaDetail.exponent : 65537;
		uint8_t eb[4] = { (uint8_t)(e >> 24), (uint8_t)(e >> 16), (uint8_t)(e >> 8), (uint8_t)e };
		r = tg_key_from_rsa(tg_span_make(p->unique.rsa.buffer, p->unique.rsa.size),
				    tg_span_make(eb, 4), what, &ak->key, d);
	} else if (p->type == TPM2_ALG_ECC) {
		enum tg_key_type t = p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P256 ? TG_KEY_P256 :
				     p->parameters.eccDetail.curveID == TPM2_ECC_NIST_P384 ? TG_KEY_P384 :
				     p->parameters.eccDetail.curveID == TPM2_ECC_SM2_P256 ? TG_KEY_SM2 :
											   TG_KEY_NONE;
		if (t == TG_KEY_NONE)
			/* THREATS case 40/48d: insecure or unknown curves. */
			return tg_fail(d, TG_E_UNSUPPORTED, "%s: AK curve 0x%04x is not accepted", what,
				       p->parameters.eccDetail.curveID);
		r = tg_key_from_ec(t, tg_span_make(p->unique.ecc.x.buffer, p->unique.ecc.x.size),
				   tg_span_make(p->unique.ecc.y.buffer, p->unique.ecc.y.size), what,
				   &ak->key, d);
	} else {
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: AK of type 0x%04x is not a signing key type", what,
			       p->type);
	}
	if (r != TG_OK)
		return r;
	ak->has_public = true;
	ak->pub = *p;
	/* Name = nameAlg || H_nameAlg(TPMT_PUBLIC) (Part 1 §16). */
	if (nh != TG_HASH_NONE && Tss2_MU_TPMT_PUBLIC_Marshal(p, buf, sizeof(buf), &off) == TSS2_RC_SUCCESS) {
		ak->name[0] = (uint8_t)(p->nameAlg >> 8);
		ak->name[1] = (uint8_t)p->nameAlg;
		tg_digest(nh, buf, off, ak->name + 2);
		ak->name_len = 2 + tg_hash_len(nh);
	}
	return TG_OK;
}

enum tg_err tg_ak_parse(struct tg_span in, const char *what, struct tg_ak *ret, struct tg_diag *d)
{
	TPM2B_PUBLIC p2b = { 0 };
	TPMT_PUBLIC pt = { 0 };
	size_t off = 0;

	memset(ret, 0, sizeof(*ret));
	if (in.len >= 5 && memcmp(in.p, "-----", 5) == 0)
		return tg_key_parse(in, what, &ret->key, d);
	/* tpm2-tools `-u` writes TPM2B_PUBLIC, `-f tpmt` TPMT_PUBLIC; both
	 * must consume the file exactly. */
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(in.p, in.len, &off, &p2b) == TSS2_RC_SUCCESS && off == in.len)
		return ak_from_public(&p2b.publicArea, what, ret, d);
	off = 0;
	if (Tss2_MU_TPMT_PUBLIC_Unmarshal(in.p, in.len, &off, &pt) == TSS2_RC_SUCCESS && off == in.len)
		return ak_from_public(&pt, what, ret, d);
	if (in.len > 0 && in.p[0] == 0x30)
		return tg_key_parse(in, what, &ret->key, d);
	return tg_fail(d, TG_E_FORMAT, "%s: not a PEM key, TPM2B_PUBLIC or TPMT_PUBLIC", what);
}

/* --------------------------------------------------------------- quote */

void tg_quote_release(struct tg_quote *q)
{
	free(q->raw);
	memset(q, 0, sizeof(*q));
}

enum tg_err tg_quote_parse(struct tg_span attest, const char *attest_what, struct tg_span sig,
			   const char *sig_what, struct tg_quote *ret, struct tg_diag *d)
{
	struct tg_span body = attest;
	size_t off = 0;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	if (attest.len == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: attestation is empty", attest_what);
	if (attest.len > sizeof(TPM2B_ATTEST))
		return tg_fail(d, TG_E_LIMIT, "%s: attestation larger than a TPM2B_ATTEST", attest_what);
	/* TPM2B_ATTEST: a 16-bit size that covers exactly the rest. */
	if (attest.len >= 2 && (size_t)(attest.p[0] << 8 | attest.p[1]) == attest.len - 2)
		tg_span_take(&body, 2, NULL);
	r = mu(Tss2_MU_TPMS_ATTEST_Unmarshal(body.p, body.len, &off, &ret->attest), attest_what,
	       "TPMS_ATTEST", d);
	if (r != TG_OK)
		return r;
	if (off != body.len)
		return tg_fail(d, TG_E_FORMAT, "%s: %zu trailing bytes after the TPMS_ATTEST", attest_what,
			       body.len - off);
	off = 0;
	r = mu(Tss2_MU_TPMT_SIGNATURE_Unmarshal(sig.p, sig.len, &off, &ret->sig), sig_what,
	       "TPMT_SIGNATURE", d);
	if (r != TG_OK)
		return r;
	if (off != sig.len)
		return tg_fail(d, TG_E_FORMAT, "%s: %zu trailing bytes after the TPMT_SIGNATURE", sig_what,
			       sig.len - off);
	ret->raw = malloc(body.len);
	if (!ret->raw)
		return TG_E_NOMEM;
	memcpy(ret->raw, body.p, body.len);
	ret->raw_len = body.len;
	return TG_OK;
}

/* ---------------------------------------------------------------- PCRs */

static enum tg_err pcrs_json(struct tg_span in, const char *what, struct tg_pcr_values *v,
			     struct tg_diag *d)
{
	_cleanup_free_ char *text = strndup((const char *)in.p, in.len);
	struct json_tokener *tok = json_tokener_new();
	struct json_object *root;
	enum tg_err r = TG_OK;

	if (!text || !tok) {
		json_tokener_free(tok);
		return TG_E_NOMEM;
	}
	root = json_tokener_parse_ex(tok, text, (int)strlen(text));
	if (!root || tok->char_offset != (int)strlen(text) || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		json_tokener_free(tok);
		return tg_fail(d, TG_E_FORMAT, "%s: not a JSON object of PCR banks", what);
	}
	json_tokener_free(tok);
	json_object_object_foreach(root, bank, vals) {
		enum tg_hash h = tg_hash_from_name(bank);
		if (h == TG_HASH_NONE || !json_object_is_type(vals, json_type_object)) {
			r = tg_fail(d, TG_E_FORMAT, "%s: unknown PCR bank \"%s\"", what, bank);
			break;
		}
		json_object_object_foreach(vals, idx, hex) {
			char *end = NULL;
			long i = strtol(idx, &end, 10);
			size_t n = 0;
			const char *hs = json_object_get_string(hex);
			if (!*idx || *end || i < 0 || i >= TG_EL_PCRS || (idx[0] == '0' && idx[1]) ||
			    !json_object_is_type(hex, json_type_string)) {
				r = tg_fail(d, TG_E_FORMAT, "%s: bad PCR index \"%s\" in %s", what, idx, bank);
				break;
			}
			if (!tg_hex_decode(hs, v->v[h][i], TG_HASH_MAX_LEN, &n) || n != tg_hash_len(h)) {
				r = tg_fail(d, TG_E_FORMAT, "%s: PCR %s of %s is not a %zu-byte hex value", what,
					    idx, bank, tg_hash_len(h));
				break;
			}
			v->have[h][i] = true;
		}
		if (r != TG_OK)
			break;
	}
	json_object_put(root);
	return r;
}

/* tpm2-tools "serialized" PCR file: its in-memory little-endian structs:
 * TPML_PCR_SELECTION (u32 count, 16 x {u16 hash, u8 sizeofSelect,
 * u8 pcrSelect[4], pad}), u32 number of TPML_DIGEST, then each TPML_DIGEST
 * (u32 count, 8 x {u16 size, u8 buffer[64]}).  Values follow the selection
 * order. */
static enum tg_err pcrs_serialized(struct tg_span in, const char *what, struct tg_pcr_values *v,
				   struct tg_diag *d)
{
	struct tg_span s = in;
	uint32_t nsel, nlists;
	struct { uint16_t hash; uint8_t size; uint8_t sel[4]; } sels[16];
	struct tg_span digests[16 * 8];
	size_t ndig = 0, used = 0;

	if (!tg_span_le32(&s, &nsel) || nsel == 0 || nsel > 16)
		return tg_fail(d, TG_E_FORMAT, "%s: not a tpm2-tools PCR file", what);
	for (int i = 0; i < 16; i++) {
		struct tg_span slot;
		if (!tg_span_take(&s, 8, &slot))
			return tg_fail(d, TG_E_FORMAT, "%s: truncated PCR selection", what);
		sels[i].hash = (uint16_t)(slot.p[0] | slot.p[1] << 8);
		sels[i].size = slot.p[2];
		memcpy(sels[i].sel, slot.p + 3, 4);
	}
	if (!tg_span_le32(&s, &nlists) || nlists > 16)
		return tg_fail(d, TG_E_FORMAT, "%s: bad digest list count", what);
	for (uint32_t l = 0; l < nlists; l++) {
		uint32_t cnt;
		if (!tg_span_le32(&s, &cnt) || cnt > 8)
			return tg_fail(d, TG_E_FORMAT, "%s: bad digest count", what);
		for (int k = 0; k < 8; k++) {
			uint16_t size;
			struct tg_span buf;
			if (!tg_span_le16(&s, &size) || !tg_span_take(&s, 64, &buf) || size > 64)
				return tg_fail(d, TG_E_FORMAT, "%s: truncated digest list", what);
			if ((uint32_t)k < cnt)
				digests[ndig++] = tg_span_make(buf.p, size);
		}
	}
	if (s.len != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: %zu trailing bytes", what, s.len);
	for (uint32_t i = 0; i < nsel; i++) {
		enum tg_hash h = tg_tpm_alg_hash(sels[i].hash);
		if (h == TG_HASH_NONE || sels[i].size > 4)
			return tg_fail(d, TG_E_FORMAT, "%s: unknown bank 0x%04x", what, sels[i].hash);
		for (int pcr = 0; pcr < 8 * sels[i].size; pcr++) {
			if (!(sels[i].sel[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (pcr >= TG_EL_PCRS)
				return tg_fail(d, TG_E_FORMAT, "%s: PCR %d out of range", what, pcr);
			if (used >= ndig || digests[used].len != tg_hash_len(h))
				return tg_fail(d, TG_E_FORMAT, "%s: PCR values do not match the selection", what);
			memcpy(v->v[h][pcr], digests[used].p, digests[used].len);
			v->have[h][pcr] = true;
			used++;
		}
	}
	if (used != ndig)
		return tg_fail(d, TG_E_FORMAT, "%s: more PCR values than selected PCRs", what);
	return TG_OK;
}

/* tpm2-tools "values" PCR file: the digests alone, in the order of sel. */
static enum tg_err pcrs_values(struct tg_span in, const char *what, const TPML_PCR_SELECTION *sel,
			       struct tg_pcr_values *v, struct tg_diag *d)
{
	struct tg_span s = in;

	for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
		enum tg_hash h = tg_tpm_alg_hash(sel->pcrSelections[i].hash);
		for (int pcr = 0; pcr < 8 * sel->pcrSelections[i].sizeofSelect && pcr < TG_EL_PCRS; pcr++) {
			struct tg_span val;
			if (!(sel->pcrSelections[i].pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (h == TG_HASH_NONE || !tg_span_take(&s, tg_hash_len(h), &val))
				return tg_fail(d, TG_E_FORMAT, "%s: PCR values do not match the quote's selection", what);
			memcpy(v->v[h][pcr], val.p, val.len);
			v->have[h][pcr] = true;
		}
	}
	if (s.len != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: PCR values do not match the quote's selection", what);
	return TG_OK;
}

enum tg_err tg_pcrs_parse(struct tg_span in, const char *what, const TPML_PCR_SELECTION *sel,
			  struct tg_pcr_values *ret, struct tg_diag *d)
{
	struct tg_diag ignore;
	size_t i = 0;

	memset(ret, 0, sizeof(*ret));
	while (i < in.len && (in.p[i] == ' ' || in.p[i] == '\n' || in.p[i] == '\t' || in.p[i] == '\r'))
		i++;
	if (i < in.len && in.p[i] == '{')
		return pcrs_json(in, what, ret, d);
	if (pcrs_serialized(in, what, ret, &ignore) == TG_OK)
		return TG_OK;
	memset(ret, 0, sizeof(*ret));
	if (sel)
		return pcrs_values(in, what, sel, ret, d);
	return tg_fail(d, TG_E_FORMAT, "%s: not a tpm2-tools PCR file or PCR JSON", what);
}

void tg_pcrs_from_eventlog(const struct tg_eventlog *el, struct tg_pcr_values *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t b = 0; b < el->nbanks; b++) {
		enum tg_hash h = el->banks[b].hash;
		for (int i = 0; i < TG_EL_PCRS; i++) {
			/* Untouched PCRs hold their reset value, which is what a
			 * TPM reports for a PCR the firmware never extended. */
			if (el->incomplete[b][i])
				continue;
			memcpy(ret->v[h][i], el->pcr[b][i], el->banks[b].size);
			ret->have[h][i] = true;
		}
	}
}

/* ------------------------------------------------------------- checks */

/* Does any event of the log extend this PCR?  (EV_NO_ACTION events extend
 * nothing: TCG PC Client PFP, 10.4.1.) */
static bool log_extends(const struct tg_eventlog *el, int pcr)
{
	for (size_t i = 0; i < el->nevents; i++)
		if (el->events[i].pcr == (uint32_t)pcr && el->events[i].type != 0x00000003)
			return true;
	return false;
}

static void finding(struct tg_quote_result *res, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void finding(struct tg_quote_result *res, const char *code, const char *fmt, ...)
{
	va_list ap;
	struct tg_quote_finding *f;

	if (res->n >= TG_QUOTE_MAX_FINDINGS)
		return;
	f = &res->f[res->n++];
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static void warning(struct tg_quote_result *res, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warning(struct tg_quote_result *res, const char *code, const char *fmt, ...)
{
	va_list ap;
	struct tg_quote_finding *f;

	if (res->nw >= TG_QUOTE_MAX_FINDINGS)
		return;
	f = &res->w[res->nw++];
	f->code = code;
	va_start(ap, fmt);
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	va_end(ap);
}

static enum tg_err check_signature(const struct tg_quote_inputs *in, struct tg_quote_result *res)
{
	const struct tg_quote *q = in->quote;
	const TPMT_SIGNATURE *sig = &q->sig;
	const struct tg_key *k = in->ak->key;
	uint8_t digest[TG_HASH_MAX_LEN], der[2 * 72 + 8];
	struct tg_span s;
	enum tg_sig_scheme want, got = TG_SCHEME_NONE;
	enum tg_hash h;
	bool ok = false;
	enum tg_err r;

	switch (sig->sigAlg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		h = tg_tpm_alg_hash(sig->signature.rsassa.hash);
		s = tg_span_make(sig->signature.rsassa.sig.buffer, sig->signature.rsassa.sig.size);
		want = sig->sigAlg == TPM2_ALG_RSASSA ? TG_SCHEME_RSA_PKCS1 : TG_SCHEME_RSA_PSS;
		if (k->type != TG_KEY_RSA) {
			finding(res, TG_R(QUOTE_SIG_INVALID), "RSA signature presented with a %s AK", tg_key_algorithm(k));
			return TG_OK;
		}
		break;
	case TPM2_ALG_ECDSA:
	case TPM2_ALG_SM2:
		h = tg_tpm_alg_hash(sig->signature.ecdsa.hash);
		s = tg_span_make(der, tg_ecdsa_der_encode(sig->signature.ecdsa.signatureR.buffer,
							  sig->signature.ecdsa.signatureR.size,
							  sig->signature.ecdsa.signatureS.buffer,
							  sig->signature.ecdsa.signatureS.size, der));
		want = sig->sigAlg == TPM2_ALG_SM2 ? TG_SCHEME_SM2 : TG_SCHEME_ECDSA;
		if ((want == TG_SCHEME_SM2) != (k->type == TG_KEY_SM2) ||
		    (k->type != TG_KEY_P256 && k->type != TG_KEY_P384 && k->type != TG_KEY_SM2)) {
			finding(res, TG_R(QUOTE_SIG_INVALID), "signature scheme does not fit the %s AK",
				tg_key_algorithm(k));
			return TG_OK;
		}
		break;
	default:
		finding(res, TG_R(QUOTE_SIG_INVALID), "signature algorithm 0x%04x is not accepted", sig->sigAlg);
		return TG_OK;
	}
	/* SHA-1 quotes are refused: a SHA-1 collision forges the attestation
	 * (THREATS cases 35, 51). */
	if (h == TG_HASH_NONE || h == TG_HASH_SHA1) {
		finding(res, TG_R(QUOTE_SIG_INVALID), "signature hash %s is not accepted", tg_hash_name(h));
		return TG_OK;
	}
	if (in->ak->has_public) {
		const TPMT_PUBLIC *p = &in->ak->pub;
		const TPMT_SIG_SCHEME *ks = (const TPMT_SIG_SCHEME *)(p->type == TPM2_ALG_RSA ?
			(const void *)&p->parameters.rsaDetail.scheme : (const void *)&p->parameters.eccDetail.scheme);
		/* The AK's own scheme pins algorithm and hash (case 40). */
		if (ks->scheme != TPM2_ALG_NULL &&
		    (ks->scheme != sig->sigAlg || tg_tpm_alg_hash(ks->details.any.hashAlg) != h)) {
			finding(res, TG_R(QUOTE_SIG_INVALID), "signature scheme differs from the AK's scheme");
			return TG_OK;
		}
	}
	tg_digest(h, q->raw, q->raw_len, digest);
	r = tg_verify_digest(k, h, digest, s, &ok, &got);
	if (r != TG_OK)
		return r;
	if (!ok || got != want)
		finding(res, TG_R(QUOTE_SIG_INVALID), "quote signature does not verify with AK %.16s...",
			k->fingerprint);
	return TG_OK;
}

static bool strong_bank(enum tg_hash h)
{
	return h == TG_HASH_SHA256 || h == TG_HASH_SHA384 || h == TG_HASH_SHA512 || h == TG_HASH_SM3;
}

/* An appliance's decisions are read from the text of its PCR 15 events,
 * but the replay proves only the digests: a log whose text was changed
 * after the measurement still replays.  Each decision's digest must be the
 * hash of its text, in every bank the log carries (stops a decision log
 * edited to say another verdict than the one measured). */
static void check_decision_texts(const struct tg_eventlog *el, struct tg_quote_result *res)
{
	const size_t pl = strlen(TG_DECISION_PREFIX);
	uint8_t want[TG_HASH_MAX_LEN];

	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		if (e->pcr != TG_DECISION_PCR || e->type != TG_EV_ACTION || e->data.len < pl ||
		    memcmp(e->data.p, TG_DECISION_PREFIX, pl) != 0)
			continue;
		for (size_t b = 0; b < el->nbanks; b++) {
			if (!e->digest[b].p)
				continue;
			if (tg_digest(el->banks[b].hash, e->data.p, e->data.len, want) != TG_OK ||
			    e->digest[b].len != tg_hash_len(el->banks[b].hash) ||
			    memcmp(want, e->digest[b].p, e->digest[b].len) != 0) {
				finding(res, TG_R(EVENTLOG_REPLAY_MISMATCH), "PCR %d event %u: the decision's text is not "
					"what was measured (its %s digest is not the hash of the text)", TG_DECISION_PCR,
					e->index, tg_hash_name(el->banks[b].hash));
				break;
			}
		}
	}
}

enum tg_err tg_quote_check(const struct tg_quote_inputs *in, struct tg_quote_result *res,
			   struct tg_diag *d)
{
	const TPMS_ATTEST *a = &in->quote->attest;
	char hex[2 * TG_HASH_MAX_LEN + 1], hex2[2 * TG_HASH_MAX_LEN + 1];
	enum tg_err r;

	memset(res, 0, sizeof(*res));
	/* THREATS case 45: only the TPM itself writes TPM_GENERATED_VALUE,
	 * and only into attestations; TPM2_Sign of a look-alike cannot. */
	if (a->magic != TPM2_GENERATED_VALUE)
		finding(res, TG_R(QUOTE_NOT_TPM_GENERATED), "magic is 0x%08x, not TPM_GENERATED_VALUE", a->magic);
	if (a->type != TPM2_ST_ATTEST_QUOTE)
		finding(res, TG_R(QUOTE_TYPE), "attestation type 0x%04x is not a quote (0x%04x)", a->type,
			TPM2_ST_ATTEST_QUOTE);
	/* THREATS case 46: freshness is the caller's nonce, compared in
	 * constant time, and long enough not to be guessed or reused. */
	if (!in->nonce)
		finding(res, TG_R(QUOTE_NONCE), "no nonce given: the quote's freshness is unproven");
	else if (in->nonce_len < 16)
		finding(res, TG_R(QUOTE_NONCE), "nonce is %zu bytes; at least 16 are required", in->nonce_len);
	else if (a->extraData.size != in->nonce_len ||
		 !tg_memeq_ct(a->extraData.buffer, in->nonce, in->nonce_len))
		finding(res, TG_R(QUOTE_NONCE), "the quote's qualifying data is not the expected nonce");
	r = check_signature(in, res);
	if (r != TG_OK)
		return tg_fail(d, r, "quote signature verification failed to run");
	if (in->ak->has_public) {
		TPMA_OBJECT at = in->ak->pub.objectAttributes;
		TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
				   TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
				   TPMA_OBJECT_SENSITIVEDATAORIGIN;
		/* THREATS case 48a: an unrestricted key signs anything. */
		if ((at & need) != need || (at & TPMA_OBJECT_DECRYPT))
			finding(res, TG_R(AK_ATTRIBUTES), "AK attributes 0x%08x: not a restricted, fixed, "
						     "TPM-generated signing key", at);
	} else {
		warning(res, TG_R(AK_ATTRIBUTES), "AK given as a plain public key: its TPM attributes are not shown");
	}
	if (a->type != TPM2_ST_ATTEST_QUOTE) {
		res->complete = true;
		return TG_OK;
	}

	/* Selection (THREATS cases 44, 51, 55). */
	const TPML_PCR_SELECTION *sel = &a->attested.quote.pcrSelect;
	uint32_t strong = 0;
	bool bank_seen[TG_HASH__COUNT] = { false };
	if (sel->count == 0 || sel->count > TPM2_NUM_PCR_BANKS)
		finding(res, TG_R(QUOTE_PCR_SELECTION), "the quote selects no PCR bank");
	for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *ps = &sel->pcrSelections[i];
		enum tg_hash h = tg_tpm_alg_hash(ps->hash);
		if (h == TG_HASH_NONE || bank_seen[h] || ps->sizeofSelect > 3) {
			finding(res, TG_R(QUOTE_PCR_SELECTION), "malformed selection entry %u (bank 0x%04x)", i, ps->hash);
			res->complete = true;
			return TG_OK;
		}
		bank_seen[h] = true;
		if (strong_bank(h))
			strong |= (uint32_t)ps->pcrSelect[0] | (uint32_t)ps->pcrSelect[1] << 8 |
				  (uint32_t)ps->pcrSelect[2] << 16;
	}
	if ((strong & in->required_pcrs) != in->required_pcrs)
		finding(res, TG_R(QUOTE_PCR_SELECTION), "the quote does not cover PCR mask 0x%06x in a SHA-256 "
						   "or stronger bank (covers 0x%06x)", in->required_pcrs, strong);

	/* PCR values: from --pcrs, from the replayed log, or both (then they
	 * must agree on every selected PCR). */
	struct tg_pcr_values logv;
	const struct tg_pcr_values *src = in->pcrs;
	if (in->eventlog)
		tg_pcrs_from_eventlog(in->eventlog, &logv);
	if (!in->pcrs && !in->eventlog) {
		finding(res, TG_R(QUOTE_PCR_DIGEST), "no PCR values (--pcrs or --eventlog) to check the "
						 "quote's PCR digest against");
		res->complete = true;
		return TG_OK;
	}
	if (!src)
		src = &logv;
	enum tg_hash sh = in->quote->sig.sigAlg == TPM2_ALG_RSASSA || in->quote->sig.sigAlg == TPM2_ALG_RSAPSS ?
		tg_tpm_alg_hash(in->quote->sig.signature.rsassa.hash) : tg_tpm_alg_hash(in->quote->sig.signature.ecdsa.hash);
	struct tg_md *md = NULL;
	bool missing = false;
	if (sh == TG_HASH_NONE || tg_md_new(sh, &md) != TG_OK) {
		finding(res, TG_R(QUOTE_PCR_DIGEST), "cannot compute the PCR digest with the quote's hash");
		res->complete = true;
		return TG_OK;
	}
	for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++) {
		const TPMS_PCR_SELECTION *ps = &sel->pcrSelections[i];
		enum tg_hash h = tg_tpm_alg_hash(ps->hash);
		for (int pcr = 0; pcr < 8 * ps->sizeofSelect; pcr++) {
			if (!(ps->pcrSelect[pcr / 8] & (1u << (pcr % 8))))
				continue;
			if (in->pcrs && in->eventlog && !(in->required_pcrs & (1u << pcr)) &&
			    !log_extends(in->eventlog, pcr)) {
				/* A PCR the boot log never extends (IMA's PCR 10 on any
				 * Linux host running IMA) and the policy does not ask
				 * for: its value is authenticated by the quote through
				 * --pcrs, only not explained by this log.  Reported,
				 * not failed. */
				warning(res, TG_R(PCR_NOT_IN_LOG), "PCR %d (%s) is quoted but no event of the log extends it; "
					"not judged (not in the policy's PCR list)", pcr, tg_hash_name(h));
			} else if (in->pcrs && in->eventlog) {
				if (!in->pcrs->have[h][pcr] || !logv.have[h][pcr]) {
					finding(res, TG_R(EVENTLOG_REPLAY_MISMATCH), "PCR %d (%s) is not determined by %s",
						pcr, tg_hash_name(h), in->pcrs->have[h][pcr] ? "the event log" : "--pcrs");
				} else if (memcmp(in->pcrs->v[h][pcr], logv.v[h][pcr], tg_hash_len(h)) != 0) {
					tg_hex_encode(logv.v[h][pcr], tg_hash_len(h), hex);
					tg_hex_encode(in->pcrs->v[h][pcr], tg_hash_len(h), hex2);
					finding(res, TG_R(EVENTLOG_REPLAY_MISMATCH), "PCR %d (%s): the log replays to %.16s..., "
						"the PCR values say %.16s...", pcr, tg_hash_name(h), hex, hex2);
				}
			}
			if (!src->have[h][pcr]) {
				missing = true;
				finding(res, in->pcrs ? TG_R(QUOTE_PCR_DIGEST) : TG_R(EVENTLOG_REPLAY_MISMATCH),
					"no value for quoted PCR %d in bank %s", pcr, tg_hash_name(h));
				continue;
			}
			tg_md_write(md, src->v[h][pcr], tg_hash_len(h));
		}
	}
	if (in->eventlog)
		check_decision_texts(in->eventlog, res);
	uint8_t digest[TG_HASH_MAX_LEN];
	tg_md_final(md, digest);
	tg_md_free(md);
	const TPM2B_DIGEST *qd = &a->attested.quote.pcrDigest;
	if (!missing && (qd->size != tg_hash_len(sh) || memcmp(qd->buffer, digest, qd->size) != 0)) {
		if (in->pcrs)
			finding(res, TG_R(QUOTE_PCR_DIGEST), "the quoted PCR digest does not match the PCR values");
		else
			finding(res, TG_R(EVENTLOG_REPLAY_MISMATCH), "the event log does not replay to the quoted PCRs");
	}
	res->complete = true;
	return TG_OK;
}

enum tg_err tg_ak_marshal(const struct tg_ak *ak, uint8_t *buf, size_t cap, size_t *ret_len)
{
	size_t off = 0;

	if (!ak->has_public)
		return TG_E_UNSUPPORTED;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&ak->pub, buf, cap, &off) != TSS2_RC_SUCCESS)
		return TG_E_FORMAT;
	*ret_len = off;
	return TG_OK;
}

bool tg_ak_attributes_ok(const struct tg_ak *ak)
{
	TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
			   TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;

	return ak->has_public && (ak->pub.objectAttributes & need) == need &&
	       !(ak->pub.objectAttributes & TPMA_OBJECT_DECRYPT);
}
