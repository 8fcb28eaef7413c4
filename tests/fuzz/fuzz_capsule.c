/*
 * libFuzzer target: the UEFI capsule parser and the PKCS#7 readers (THREATS
 * 24-25; Authenticode) on arbitrary bytes.  Oracle: no crash, no sanitizer report, spans
 * inside the input; with no keys nothing ever verifies.
 */
#include <stdlib.h>
#include <string.h>

#include "../../common/cms.h"
#include "../../firmware/capsule.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_capsule c;
	struct tg_cms_result res;
	uint8_t *copy;

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (tg_capsule_parse(copy, size, "fuzz", &c, &d) == TG_OK) {
		if (c.payload.p < copy || c.payload.p + c.payload.len > copy + size)
			abort();
		struct tg_span parts[2] = { c.payload, tg_span_make(c.count_le, 8) };
		if (c.signed_ && tg_cms_verify_detached(c.pkcs7, parts, 2, NULL, 0, &res) == TG_OK && res.ok)
			abort();
	}
	/* The PKCS#7 readers on the raw input as well (detached, and
	 * Authenticode's embedded SpcIndirectDataContent). */
	struct tg_span part = tg_span_make(copy, size / 2);
	struct tg_cms_authenticode a;
	if (tg_cms_verify_detached(tg_span_make(copy, size), &part, 1, NULL, 0, &res) == TG_OK && res.ok)
		abort();
	if (tg_cms_authenticode_verify(tg_span_make(copy, size), NULL, 0, &a) == TG_OK && a.ok)
		abort();
	free(copy);
	return 0;
}
