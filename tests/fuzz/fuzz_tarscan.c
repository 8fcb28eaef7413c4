/*
 * libFuzzer target: the independent tar header scanner (THREATS case 10),
 * fed in chunks whose sizes come from the input, so headers and extension
 * data straddle chunk boundaries.  Oracle: no crash, no sanitizer report;
 * the members found do not depend on how the stream was cut.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../verifier/tarscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t scan(const uint8_t *p, size_t n, size_t step, char *err, size_t errn)
{
	struct tg_tarscan ts;
	struct tg_tar_entry e;
	size_t members = 0;

	tg_tarscan_init(&ts);
	for (size_t off = 0; off < n;) {
		size_t k = n - off < step ? n - off : step;
		tg_tarscan_feed(&ts, p + off, k);
		off += k;
		step = step * 3 % 1021 + 1;
	}
	tg_tarscan_end(&ts);
	while (tg_tarscan_take(&ts, &e)) {
		if (!e.name || !e.name[0] || ((e.cls == TG_TAR_SYMLINK || e.cls == TG_TAR_HARDLINK) && !e.link))
			abort();
		free(e.name);
		free(e.link);
		members++;
	}
	snprintf(err, errn, "%s", ts.err);
	tg_tarscan_release(&ts);
	return members;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char e1[256], e2[256];

	if (size < 1)
		return 0;
	size_t whole = scan(data + 1, size - 1, size, e1, sizeof(e1));
	size_t cut = scan(data + 1, size - 1, (size_t)data[0] + 1, e2, sizeof(e2));
	if (whole != cut || strcmp(e1, e2) != 0)
		abort();
	return 0;
}
