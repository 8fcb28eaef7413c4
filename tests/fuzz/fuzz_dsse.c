/*
 * libFuzzer target: the embedded-manifest parser (DSSE envelope + in-toto
 * statement).  Oracle: no crash, no sanitizer report; a parsed envelope is
 * self-consistent (PAE starts with "DSSEv1 ", subjects normalised).
 */
#include <stdlib.h>
#include <string.h>

#include "../../verifier/dsse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_envelope e;

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	if (tg_envelope_parse(tg_span_make(data, size), "fuzz", &e, &d) != TG_OK)
		return 0;
	if (e.pae_len < 7 || memcmp(e.pae, "DSSEv1 ", 7) != 0 || e.nsig == 0 || e.st.n == 0)
		abort();
	for (size_t i = 0; i < e.st.n; i++)
		if (!e.st.s[i].name || e.st.s[i].name[0] == '/' || strlen(e.st.s[i].sha256) != 64)
			abort();
	tg_envelope_release(&e);
	return 0;
}
