/*
 * libFuzzer target: TPM quote structures (THREATS case 55).  Input layout:
 * u16 big-endian length L, L bytes of attestation, then the signature.
 * The same bytes also go through the AK and PCR-file parsers, and parsed
 * quotes through every check with a fixed AK.  Oracle: no crash, no
 * sanitizer report, and a garbage quote is never complete-and-clean.
 */
#include <stdlib.h>
#include <string.h>

#include <gcrypt.h>

#include "../../measure/quote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tg_ak ak;

static void init(void)
{
	struct tg_diag d = { { 0 } };
	gcry_sexp_t parm = NULL, pair = NULL, n = NULL;
	size_t nl = 0;
	const char *np;

	if (tg_crypto_init(&d) != TG_OK)
		abort();
	gcry_sexp_build(&parm, NULL, "(genkey(rsa(nbits 4:2048)))");
	if (gcry_pk_genkey(&pair, parm))
		abort();
	n = gcry_sexp_find_token(pair, "n", 0);
	np = gcry_sexp_nth_data(n, 1, &nl);
	if (tg_key_from_rsa(tg_span_make(np, nl), tg_span_make("\x01\x00\x01", 3), "fuzz", &ak.key, &d) != TG_OK)
		abort();
	gcry_sexp_release(n);
	gcry_sexp_release(pair);
	gcry_sexp_release(parm);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool done;
	struct tg_diag d = { { 0 } };
	struct tg_quote q;
	struct tg_ak a;
	struct tg_pcr_values pv;
	struct tg_quote_result res;

	if (!done) {
		init();
		done = true;
	}
	if (tg_ak_parse(tg_span_make(data, size), "fuzz", &a, &d) == TG_OK)
		tg_ak_release(&a);
	(void)tg_pcrs_parse(tg_span_make(data, size), "fuzz", NULL, &pv, &d);
	if (size < 2)
		return 0;
	size_t l = (size_t)(data[0] << 8 | data[1]);
	if (l > size - 2)
		return 0;
	if (tg_quote_parse(tg_span_make(data + 2, l), "fuzz", tg_span_make(data + 2 + l, size - 2 - l),
			   "fuzz", &q, &d) != TG_OK)
		return 0;
	memset(&pv, 0, sizeof(pv));
	struct tg_quote_inputs in = { .ak = &ak, .quote = &q, .nonce = (const uint8_t *)"0123456789abcdef",
				      .nonce_len = 16, .pcrs = &pv, .required_pcrs = 0xff };
	if (tg_quote_check(&in, &res, &d) == TG_OK && res.complete && res.n == 0)
		abort(); /* a fuzzed quote can never verify under a fresh AK */
	tg_quote_release(&q);
	return 0;
}
