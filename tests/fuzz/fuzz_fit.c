/*
 * libFuzzer target: the FIT parser and signed-region computation (THREATS
 * 13-21), the control-DTB key reader and the PE/COFF Authenticode hasher
 * on arbitrary bytes.  Oracle: no crash, no sanitizer report, no
 * read outside the input; a parsed FIT's images lie inside the input.
 */
#include <stdlib.h>
#include <string.h>

#include "../../firmware/fit.h"
#include "../../firmware/dtbkeys.h"
#include "../../firmware/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_fit fit;
	struct tg_dtb_keys dk;
	uint8_t *copy;

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	/* An exact-size copy, so ASan sees any read past the end. */
	copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (tg_fit_parse(copy, size, "fuzz", &fit, &d) == TG_OK) {
		for (size_t i = 0; i < fit.nimg; i++)
			if (fit.img[i].data < copy || fit.img[i].data + fit.img[i].size > copy + size)
				abort();
		tg_fit_release(&fit);
	}
	if (tg_dtb_keys_parse(copy, size, "fuzz", &dk, &d) == TG_OK)
		tg_dtb_keys_release(&dk);
	struct tg_pe pe;
	(void)tg_pe_authenticode(copy, size, "fuzz", &pe, &d);
	free(copy);
	return 0;
}
