/*
 * libFuzzer target: the TCG event log parser and replay (THREATS case 52).
 * Oracle: no crash or sanitizer report; a parsed log is self-consistent.
 */
#include <stdlib.h>

#include "../../measure/eventlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool init;
	struct tg_diag d = { { 0 } };
	struct tg_eventlog *el = NULL;
	char desc[320];

	if (!init) {
		if (tg_crypto_init(&d) != TG_OK)
			abort();
		init = true;
	}
	if (tg_eventlog_parse(tg_span_make(data, size), "fuzz", &el, &d) != TG_OK)
		return 0;
	if (el->nbanks == 0 || el->nbanks > TG_EL_MAX_BANKS || el->nevents == 0)
		abort();
	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		if (e->data.len && (e->data.p < el->buf || e->data.p + e->data.len > el->buf + el->len))
			abort();
		tg_event_describe(e, desc, sizeof(desc));
	}
	tg_eventlog_free(el);
	return 0;
}
