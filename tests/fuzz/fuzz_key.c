/*
 * libFuzzer target: every parser `key add` and `check` run on untrusted
 * key and signature files (PEM, DER SPKI and X.509 via libksba, base64,
 * DER ECDSA signatures).  Oracle: no crash, no sanitizer report, and a key
 * that parses is one the policy allows.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/crypto.h"
#include "../../common/encoding.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_key *k = NULL;
	struct tg_span in = tg_span_make(data, size);
	uint8_t *out = NULL;
	size_t n = 0;

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	if (tg_key_parse(in, "fuzz", &k, &d) == TG_OK) {
		/* Anything accepted must satisfy the import policy. */
		if (k->type == TG_KEY_RSA && k->bits != 2048 && k->bits != 3072 && k->bits != 4096)
			abort();
		if (k->type == TG_KEY_ED25519 && tg_ed25519_point_check(k->q) != 0)
			abort();
		if (k->spki_len == 0 || strlen(k->fingerprint) != 64)
			abort();
		tg_key_free(k);
	}
	if (tg_base64_decode(in, true, &out, &n) == TG_OK)
		free(out);
	(void)tg_sig_is_der_ecdsa(in);
	return 0;
}
