/*
 * Public keys from a U-Boot control DTB: each /signature/key-* node as
 * `mkimage -K` writes it (RSA modulus, exponent and Montgomery values, or
 * an ECDSA curve point), with its `required` setting and the DTB's
 * `required-mode`.  These become firmware keys of a supplier; FITs are
 * then verified with them and never with keys found in the FIT itself
 * (THREATS 22).
 */
#ifndef TG_DTBKEYS_H
#define TG_DTBKEYS_H

#include "../common/crypto.h"

struct tg_dtb_key {
	struct tg_key *key;
	const char *node;        /* "key-dev" */
	const char *hint;        /* key-name-hint, or NULL */
	const char *required;    /* "conf", "image", or NULL */
	enum tg_hash hash;       /* the digest its algo names */
};

struct tg_dtb_keys {
	struct tg_dtb_key *k;
	size_t n;
	const char *mode;        /* "all" (U-Boot's default) or "any" */
	uint8_t sha256[32];      /* of the DTB: the group these keys share */
};

/* Parse buf[0..len) (kept alive by the caller: strings point into it). */
enum tg_err tg_dtb_keys_parse(const uint8_t *buf, size_t len, const char *what, struct tg_dtb_keys *ret,
			      struct tg_diag *d);
void tg_dtb_keys_release(struct tg_dtb_keys *dk);

#endif
