/* Private keys for the supplier's signer (`vendor sign`). */
#ifndef TG_PRIVKEY_H
#define TG_PRIVKEY_H

#include "crypto.h"

struct gcry_sexp;

struct tg_privkey {
	struct gcry_sexp *sexp;   /* libgcrypt private key */
	struct tg_key *pub;       /* its public key, validated like any other */
};

enum tg_err tg_privkey_parse(struct tg_span in, const char *what, struct tg_privkey **ret, struct tg_diag *d);
void tg_privkey_free(struct tg_privkey *k);
enum tg_err tg_privkey_sign(const struct tg_privkey *k, struct tg_span msg, uint8_t **ret, size_t *ret_len,
			    struct tg_diag *d);

#endif
