/* trustgate reference import|list */
#include <string.h>

#include "cli.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/records.h"
#include "../measure/eventlog.h"

/* reference import --eventlog LOG --model NAME --reason TEXT: a known-good
 * host's log becomes the golden state of its model.  Every measured event
 * (not EV_NO_ACTION) of every bank is recorded with its PCR and type. */
static int cmd_import(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *detail = NULL;
	_cleanup_free_ uint8_t *buf = NULL;
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	const char *log = NULL, *model = NULL, *reason = NULL;
	const struct tg_opt opts[] = {
		{ "eventlog", true, &log, NULL },
		{ "model", true, &model, NULL },
		{ "reason", true, &reason, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos, hex[2 * TG_HASH_MAX_LEN + 1], desc[320], set[65], logsum[65];
	uint8_t sum[32];
	size_t len = 0, events = 0, added = 0;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (!log || !model)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "reference import: --eventlog LOG and --model NAME are required"), &d);
	if ((r = tg_cli_name_arg("--model", model, &d)) != TG_OK ||
	    (r = tg_cli_text_arg("reference import: --reason TEXT", reason, TG_MAX_REASON, &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(log, TG_MAX_EVENTLOG, &buf, &len, &d);
	if (r == TG_OK)
		r = tg_eventlog_parse(tg_span_make(buf, len), log, &el, &d);
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	for (size_t i = 0; i < el->nevents && r == TG_OK; i++) {
		const struct tg_event *e = &el->events[i];
		if (e->type == TG_EV_NO_ACTION || e->pcr >= TG_EL_PCRS)
			continue;
		events++;
		tg_event_describe(e, desc, sizeof(desc));
		for (size_t b = 0; b < el->nbanks && r == TG_OK; b++) {
			bool was_added = false;
			if (!e->digest[b].p)
				continue;
			tg_hex_encode(e->digest[b].p, e->digest[b].len, hex);
			struct tg_reference ref = {
				.model = (char *)model, .pcr = (int)e->pcr,
				.alg = (char *)tg_hash_name(el->banks[b].hash), .digest = hex,
				.event_type = e->type, .description = desc,
			};
			r = tg_rec_reference_add(db, &ref, &was_added, &d);
			added += was_added;
		}
	}
	if (r == TG_OK)
		r = tg_rec_reference_set_digest(db, model, set, &d);
	if (r != TG_OK) {
		tg_db_rollback(db);
		return tg_cli_fail(ctx, r, &d);
	}
	tg_digest(TG_HASH_SHA256, buf, len, sum);
	tg_hex_encode(sum, 32, logsum);
	detail = json_object_new_object();
	tg_json_str(detail, "model", model);
	tg_json_str(detail, "eventlog_sha256", logsum);
	json_object_object_add(detail, "events", json_object_new_int64((int64_t)events));
	json_object_object_add(detail, "added", json_object_new_int64((int64_t)added));
	tg_json_str(detail, "set_digest", set);
	tg_json_str(detail, "reason", reason);
	r = tg_cli_audit_commit(ctx, db, "reference.import", model, detail, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("model %s: %zu measured events, %zu new reference values\n", model, events, added);
	return TG_EXIT_OK;
}

struct list_ctx {
	struct json_object *arr;
	const char *release;      /* SUPPLIER/PRODUCT/VERSION, or NULL for all */
};

static enum tg_err list_one(const struct tg_reference *r, void *ud)
{
	const struct list_ctx *lc = ud;
	struct json_object *arr = lc->arr;

	if (lc->release && (!r->release || strcmp(r->release, lc->release) != 0))
		return TG_OK;
	if (arr) {
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "model", r->model);
		tg_json_str(o, "release", r->release);
		json_object_object_add(o, "pcr", json_object_new_int(r->pcr));
		tg_json_str(o, "alg", r->alg);
		tg_json_str(o, "digest", r->digest);
		json_object_object_add(o, "event_type", json_object_new_string(tg_event_type_name(r->event_type)));
		tg_json_str(o, "description", r->description);
		json_object_array_add(arr, o);
	} else {
		printf("PCR%-2d %-7s %s %-34s %s  [%s]\n", r->pcr, r->alg, r->digest, tg_event_type_name(r->event_type),
		       r->description ? r->description : "", r->model ? r->model : r->release);
	}
	return TG_OK;
}

static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *arr = NULL;
	const char *model = NULL, *release = NULL;
	const struct tg_opt opts[] = {
		{ "model", true, &model, NULL },
		{ "release", true, &release, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	char **pos;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && model && release)
		r = tg_fail(&d, TG_E_USAGE, "reference list: --model or --release, not both");
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		arr = json_object_new_array();
	/* Without --model: the references of approved releases (`release add
	 * --file`), all or those of one release. */
	struct list_ctx lc = { arr, release };
	r = tg_rec_reference_each(db, model, model == NULL, -1, list_one, &lc, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (arr)
		tg_cli_print_json(arr);
	return TG_EXIT_OK;
}

int tg_cmd_reference(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "import", cmd_import },
		{ "list", cmd_list },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "reference import|list ...");
}
