/*
 * trustgate reevaluate [--since YYYY-MM-DD] [--dry-run]
 *
 * Re-decide every approved verdict in force that relied on a record changed
 * since the date (a revoked key or release, a supplier or product record
 * changed): the policy runs again from the facts recorded with the verdict
 * against the records as they are now.  A verdict whose outcome changes is
 * recorded as a new verdict superseding the old one.  Exit 0 when every
 * verdict stands, 1 when any turned negative (the early warning), 2 when
 * it could not decide.
 */
#include <string.h>

#include "cli.h"
#include "reevaluate.h"

int tg_cmd_reevaluate(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *changed = json_object_new_array();
	const char *since = NULL;
	bool dry_run = false;
	const struct tg_opt opts[] = {
		{ "since", true, &since, NULL }, { "dry-run", false, NULL, &dry_run }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	struct tg_reeval_stats st;
	char since_iso[32] = "", **pos;
	int64_t t;
	int npos;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (since) {
		if (!tg_parse_date(since, &t))
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--since '%.32s' is not a date YYYY-MM-DD", since), &d);
		tg_epoch_iso(t, since_iso);
	}
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_reevaluate(ctx, db, since_iso, dry_run, changed, &st, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		json_object_object_add(o, "considered", json_object_new_int64((int64_t)st.considered));
		json_object_object_add(o, "unchanged", json_object_new_int64((int64_t)st.unchanged));
		json_object_object_add(o, "changed", json_object_new_int64((int64_t)st.changed));
		json_object_object_add(o, "without_facts", json_object_new_int64((int64_t)st.skipped));
		json_object_object_add(o, "dry_run", json_object_new_boolean(dry_run));
		json_object_object_add(o, "verdicts", json_object_get(changed));
		tg_cli_print_json(o);
	} else {
		for (size_t i = 0; i < json_object_array_length(changed); i++) {
			struct json_object *v = json_object_array_get_idx(changed, i), *x = NULL, *rs = NULL, *subj = NULL;
			json_object_object_get_ex(v, "reevaluates", &x);
			json_object_object_get_ex(v, "reasons", &rs);
			json_object_object_get_ex(v, "subject", &subj);
			bool att = tg_jstr(v, "kind") && strcmp(tg_jstr(v, "kind"), "attestation") == 0;
			printf("verdict %lld  %s  %s%s%s%s%s: %s -> %s%s", (long long)json_object_get_int64(x),
			       tg_jstr(subj, "path") ? tg_jstr(subj, "path") : "?",
			       att ? "attestation" : tg_jstr(v, "supplier") ? tg_jstr(v, "supplier") : "-",
			       tg_jstr(v, "product") ? "/" : "", tg_jstr(v, "product") ? tg_jstr(v, "product") : "",
			       tg_jstr(v, "version") ? " " : "", tg_jstr(v, "version") ? tg_jstr(v, "version") : "",
			       att ? "TRUSTED" : "APPROVED", dry_run ? "would be " : "", att ? "UNTRUSTED" : "REJECTED");
			if (json_object_object_get_ex(v, "id", &x))
				printf(" (verdict %lld)", (long long)json_object_get_int64(x));
			for (size_t k = 0; rs && k < json_object_array_length(rs); k++)
				printf("%s%s", k ? ", " : ": ", tg_jstr(json_object_array_get_idx(rs, k), "code"));
			printf("\n");
		}
		printf("re-evaluated %zu verdict%s in force that relied on changed records: %zu now rejected%s, %zu "
		       "unchanged, %zu recorded without facts (not re-evaluated)\n", st.considered,
		       st.considered == 1 ? "" : "s", st.changed, dry_run ? " (dry run: nothing recorded)" : "",
		       st.unchanged, st.skipped);
	}
	return st.changed ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
}
