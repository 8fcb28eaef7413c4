/*
 * trustgate eventlog FILE [--json]
 *
 * Parse and replay a TCG PC Client event log (legacy SHA-1 or
 * crypto-agile); print its events and the PCR values it produces.
 * Needs no database: it decides nothing.
 */
#include <string.h>

#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../measure/eventlog.h"

static struct json_object *event_json(const struct tg_eventlog *el, const struct tg_event *e)
{
	struct json_object *o = json_object_new_object(), *dg = json_object_new_object();
	char hex[2 * TG_HASH_MAX_LEN + 1], desc[320];

	json_object_object_add(o, "index", json_object_new_int64(e->index));
	json_object_object_add(o, "pcr", e->pcr == 0xffffffffu ? json_object_new_int(-1) : json_object_new_int64(e->pcr));
	json_object_object_add(o, "type", json_object_new_string(tg_event_type_name(e->type)));
	json_object_object_add(o, "type_value", json_object_new_int64(e->type));
	for (size_t b = 0; b < el->nbanks; b++) {
		if (!e->digest[b].p)
			continue;
		tg_hex_encode(e->digest[b].p, e->digest[b].len, hex);
		json_object_object_add(dg, tg_hash_name(el->banks[b].hash), json_object_new_string(hex));
	}
	json_object_object_add(o, "digests", dg);
	json_object_object_add(o, "data_size", json_object_new_int64((int64_t)e->data.len));
	tg_event_describe(e, desc, sizeof(desc));
	json_object_object_add(o, "description", json_object_new_string(desc));
	return o;
}

int tg_cmd_eventlog(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	struct tg_diag d = { { 0 } };
	char hex[2 * TG_HASH_MAX_LEN + 1], desc[320], **pos;
	size_t len = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);
	if (r == TG_OK)
		r = tg_file_read(pos[0], TG_MAX_EVENTLOG, &buf, &len, &d);
	if (r == TG_OK)
		r = tg_eventlog_parse(tg_span_make(buf, len), pos[0], &el, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);

	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		struct json_object *events = json_object_new_array(), *pcrs = json_object_new_object();
		json_object_object_add(o, "format", json_object_new_string(el->crypto_agile ? "crypto-agile" : "sha1"));
		if (el->startup_locality >= 0)
			json_object_object_add(o, "startup_locality", json_object_new_int(el->startup_locality));
		for (size_t i = 0; i < el->nevents; i++)
			json_object_array_add(events, event_json(el, &el->events[i]));
		json_object_object_add(o, "events", events);
		for (size_t b = 0; b < el->nbanks; b++) {
			struct json_object *bank = json_object_new_object();
			for (int i = 0; i < TG_EL_PCRS; i++) {
				char idx[4];
				const uint8_t *v = tg_eventlog_pcr(el, b, (unsigned)i);
				if (!v)
					continue;
				tg_hex_encode(v, el->banks[b].size, hex);
				snprintf(idx, sizeof(idx), "%d", i);
				json_object_object_add(bank, idx, json_object_new_string(hex));
			}
			json_object_object_add(pcrs, tg_hash_name(el->banks[b].hash), bank);
		}
		json_object_object_add(o, "pcrs", pcrs);
		tg_cli_print_json(o);
		return TG_EXIT_OK;
	}
	printf("%s: %s event log, %zu events, banks", pos[0], el->crypto_agile ? "crypto-agile" : "SHA-1",
	       el->nevents);
	for (size_t b = 0; b < el->nbanks; b++)
		printf(" %s", tg_hash_name(el->banks[b].hash));
	printf("\n");
	int last = el->nbanks > 0 ? (int)el->nbanks - 1 : 0;
	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		tg_event_describe(e, desc, sizeof(desc));
		if (e->digest[last].p)
			tg_hex_encode(e->digest[last].p, e->digest[last].len > 16 ? 16 : e->digest[last].len, hex);
		else
			strcpy(hex, "-");
		if (e->pcr == 0xffffffffu)
			printf("%5zu  PCR-  %-34s %s..  %s\n", i, tg_event_type_name(e->type), hex, desc);
		else
			printf("%5zu  PCR%-2u %-34s %s..  %s\n", i, e->pcr, tg_event_type_name(e->type), hex, desc);
	}
	for (size_t b = 0; b < el->nbanks; b++)
		for (int i = 0; i < TG_EL_PCRS; i++)
			if (tg_eventlog_pcr(el, b, (unsigned)i)) {
				tg_hex_encode(el->pcr[b][i], el->banks[b].size, hex);
				printf("%-7s PCR%-2d %s\n", tg_hash_name(el->banks[b].hash), i, hex);
			}
	return TG_EXIT_OK;
}
