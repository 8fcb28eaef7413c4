/*
 * libFuzzer target: the PKCS#8 reader of `vendor sign` (common/privkey.c).
 * Oracle: no crash, no sanitizer report, and a key that parses has a
 * validated public key and can sign.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/crypto.h"
#include "../../common/privkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_privkey *k = NULL;

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	if (tg_privkey_parse(tg_span_make(data, size), "fuzz", &k, &d) == TG_OK) {
		uint8_t *sig = NULL;
		size_t n = 0;
		if (!k->pub || strlen(k->pub->fingerprint) != 64)
			abort();
		/* A key whose public half does not match its private half may
		 * fail to sign; it must fail cleanly, not crash. */
		if (tg_privkey_sign(k, tg_span_make((const uint8_t *)"abc", 3), &sig, &n, &d) == TG_OK && n == 0)
			abort();
		free(sig);
		tg_privkey_free(k);
	}
	return 0;
}
