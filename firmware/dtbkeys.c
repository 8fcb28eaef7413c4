/*
 * U-Boot control DTB keys (see dtbkeys.h).  Layout from U-Boot's
 * doc/usage/fit/signature.rst ("public key storage"): cells are
 * big-endian 32-bit words, most significant first.
 */
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "dtbkeys.h"
#include "fit.h"
#include "../common/limits.h"

#define DTB_MAX_KEYS 64

void tg_dtb_keys_release(struct tg_dtb_keys *dk)
{
	for (size_t i = 0; i < dk->n; i++)
		tg_key_free(dk->k[i].key);
	free(dk->k);
	memset(dk, 0, sizeof(*dk));
}

static enum tg_err one_key(const void *fdt, int node, const char *what, struct tg_dtb_key *out, struct tg_diag *d)
{
	const char *algo = tg_fdt_str(fdt, node, "algo"), *comma;
	char hash[16];
	int len;

	out->node = fdt_get_name(fdt, node, NULL);
	out->hint = tg_fdt_str(fdt, node, "key-name-hint");
	out->required = tg_fdt_str(fdt, node, "required");
	if (fdt_getprop(fdt, node, "required", NULL) &&
	    (!out->required || (strcmp(out->required, "conf") != 0 && strcmp(out->required, "image") != 0)))
		return tg_fail(d, TG_E_FORMAT, "%s: %s: required must be \"conf\" or \"image\"", what, out->node);
	if (!algo || !(comma = strchr(algo, ',')) || (size_t)(comma - algo) >= sizeof(hash))
		return tg_fail(d, TG_E_FORMAT, "%s: %s: missing or malformed algo", what, out->node);
	memcpy(hash, algo, (size_t)(comma - algo));
	hash[comma - algo] = '\0';
	out->hash = tg_hash_from_name(hash);
	if (out->hash != TG_HASH_SHA1 && out->hash != TG_HASH_SHA256 && out->hash != TG_HASH_SHA384 &&
	    out->hash != TG_HASH_SHA512)
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: %s: digest '%s' is not supported", what, out->node, hash);
	comma++;
	if (strncmp(comma, "rsa", 3) == 0) {
		const fdt32_t *bits_p = fdt_getprop(fdt, node, "rsa,num-bits", &len);
		uint32_t bits = bits_p && len == 4 ? fdt32_to_cpu(*bits_p) : 0;
		const uint8_t *n = fdt_getprop(fdt, node, "rsa,modulus", &len);
		int nlen = len, elen, rrlen;
		const uint8_t *e = fdt_getprop(fdt, node, "rsa,exponent", &elen);
		const uint8_t *rr = fdt_getprop(fdt, node, "rsa,r-squared", &rrlen);
		const fdt32_t *n0 = fdt_getprop(fdt, node, "rsa,n0-inverse", &len);
		if (!bits || bits % 32 || !n || nlen != (int)bits / 8 || !e || (elen != 8 && elen != 4) || !rr ||
		    rrlen != nlen || !n0 || len != 4 || atoi(comma + 3) != (int)bits)
			return tg_fail(d, TG_E_FORMAT, "%s: %s: RSA key properties missing or inconsistent", what,
				       out->node);
		/* Leading zero bytes of e are not part of its value. */
		while (elen > 1 && *e == 0)
			e++, elen--;
		enum tg_err r = tg_key_from_rsa(tg_span_make(n, (size_t)nlen), tg_span_make(e, (size_t)elen), what,
						&out->key, d);
		if (r != TG_OK)
			return r;
		if (out->key->bits != bits || !tg_rsa_uboot_params_ok(out->key, tg_span_make(rr, (size_t)rrlen),
								      fdt32_to_cpu(*n0)))
			return tg_fail(d, TG_E_FORMAT, "%s: %s: rsa,r-squared or rsa,n0-inverse does not belong to "
				       "the modulus (U-Boot would verify with other numbers)", what, out->node);
		return TG_OK;
	}
	if (strncmp(comma, "ecdsa", 5) == 0) {
		const char *curve = tg_fdt_str(fdt, node, "ecdsa,curve");
		enum tg_key_type t = TG_KEY_NONE;
		size_t half = 0;
		int xl, yl;
		if (curve && strcmp(curve, "prime256v1") == 0 && strcmp(comma, "ecdsa256") == 0)
			t = TG_KEY_P256, half = 32;
		else if (curve && strcmp(curve, "secp384r1") == 0 && strcmp(comma, "ecdsa384") == 0)
			t = TG_KEY_P384, half = 48;
		const uint8_t *x = fdt_getprop(fdt, node, "ecdsa,x-point", &xl);
		const uint8_t *y = fdt_getprop(fdt, node, "ecdsa,y-point", &yl);
		if (t == TG_KEY_NONE || !x || !y || (size_t)xl != half || (size_t)yl != half)
			return tg_fail(d, TG_E_FORMAT, "%s: %s: ECDSA key properties missing or inconsistent", what,
				       out->node);
		return tg_key_from_ec(t, tg_span_make(x, half), tg_span_make(y, half), what, &out->key, d);
	}
	return tg_fail(d, TG_E_UNSUPPORTED, "%s: %s: algorithm '%s' is not supported", what, out->node, algo);
}

enum tg_err tg_dtb_keys_parse(const uint8_t *buf, size_t len, const char *what, struct tg_dtb_keys *ret,
			      struct tg_diag *d)
{
	const void *fdt = buf;
	int sig = -1, n, rc;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	if (len < sizeof(struct fdt_header) || fdt_totalsize(fdt) != len)
		return tg_fail(d, TG_E_FORMAT, "%s: device tree header size does not match the file", what);
	if (!tg_fdt_version_ok(buf, len))
		return tg_fail(d, TG_E_FORMAT, "%s: device-tree version %u is not 16 or 17", what, fdt_version(fdt));
	rc = fdt_check_full(fdt, len);
	if (rc != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: not a well-formed device tree: %s", what, fdt_strerror(rc));
	/* Exact name: "signature@1" is not the key node U-Boot reads. */
	fdt_for_each_subnode(n, fdt, 0)
		if (strcmp(fdt_get_name(fdt, n, NULL), "signature") == 0)
			sig = n;
	if (sig < 0)
		return tg_fail(d, TG_E_FORMAT, "%s: no /signature node (not a U-Boot control DTB with keys)", what);
	ret->mode = tg_fdt_str(fdt, sig, "required-mode");
	if (fdt_getprop(fdt, sig, "required-mode", NULL) &&
	    (!ret->mode || (strcmp(ret->mode, "all") != 0 && strcmp(ret->mode, "any") != 0)))
		return tg_fail(d, TG_E_FORMAT, "%s: required-mode must be \"all\" or \"any\"", what);
	if (!ret->mode)
		ret->mode = "all";
	ret->k = calloc(DTB_MAX_KEYS, sizeof(*ret->k));
	if (!ret->k)
		return TG_E_NOMEM;
	fdt_for_each_subnode(n, fdt, sig) {
		if (ret->n == DTB_MAX_KEYS) {
			r = tg_fail(d, TG_E_LIMIT, "%s: more than %d keys", what, DTB_MAX_KEYS);
			goto fail;
		}
		if (strncmp(fdt_get_name(fdt, n, NULL), "key-", 4) != 0) {
			r = tg_fail(d, TG_E_FORMAT, "%s: /signature/%s is not a key node", what, fdt_get_name(fdt, n, NULL));
			goto fail;
		}
		r = one_key(fdt, n, what, &ret->k[ret->n], d);
		if (ret->k[ret->n].key)
			ret->n++;
		if (r != TG_OK)
			goto fail;
	}
	if (ret->n == 0) {
		r = tg_fail(d, TG_E_FORMAT, "%s: /signature holds no key-* nodes", what);
		goto fail;
	}
	r = tg_digest(TG_HASH_SHA256, buf, len, ret->sha256);
	if (r == TG_OK)
		return TG_OK;
fail:
	tg_dtb_keys_release(ret);
	return r;
}
