/*
 * trustgate verdict show ID [--json]
 *
 * A recorded verdict as it was decided, with its place in the audit chain:
 * the stored document, its id, and the audit row that carries its digest.
 * The stored document is compared with that digest and the row's own hash
 * is recomputed, so a report edited in the database is named (exit 1)
 * instead of shown as evidence.
 */
#include <string.h>


#include "cli.h"
#include "evidence.h"

static void print_findings(struct json_object *o, const char *key, const char *label)
{
	struct json_object *arr = NULL;

	if (!json_object_object_get_ex(o, key, &arr) || !json_object_is_type(arr, json_type_array))
		return;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *f = json_object_array_get_idx(arr, i);
		printf("  %-9s %s: %s\n", label, tg_jstr(f, "code") ? tg_jstr(f, "code") : "?",
		       tg_jstr(f, "detail") ? tg_jstr(f, "detail") : "");
	}
}

/* The text form, from the stored document (the same for check and attest). */
static void print_text(struct json_object *o, const struct tg_anchoring *a)
{
	struct json_object *subj = NULL, *key = NULL, *recs = NULL, *sup = NULL, *pol = NULL, *tier = NULL;
	const char *verdict = tg_jstr(o, "verdict");
	char up[16];
	size_t i;

	for (i = 0; verdict && verdict[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(verdict[i] >= 'a' && verdict[i] <= 'z' ? verdict[i] - 32 : verdict[i]);
	up[i] = '\0';
	json_object_object_get_ex(o, "subject", &subj);
	printf("%s  %s  %s\n", up, tg_jstr(o, "kind") ? tg_jstr(o, "kind") : "?",
	       tg_jstr(o, "host") ? tg_jstr(o, "host") : tg_jstr(subj, "path") ? tg_jstr(subj, "path") : "?");
	if (tg_jstr(subj, "sha256"))
		printf("  sha256    %s\n", tg_jstr(subj, "sha256"));
	json_object_object_get_ex(o, "policy", &pol);
	if (json_object_object_get_ex(pol, "tier", &tier) || json_object_object_get_ex(o, "tier", &tier))
		printf("  policy    tier %d\n", json_object_get_int(tier));
	if (json_object_object_get_ex(o, "key", &key) && key && tg_jstr(key, "fingerprint"))
		printf("  signer    %s (%s) of %s\n", tg_jstr(key, "fingerprint"), tg_jstr(key, "algorithm") ? tg_jstr(key, "algorithm") : "?",
		       tg_jstr(o, "supplier") ? tg_jstr(o, "supplier") : "?");
	if (tg_jstr(o, "product"))
		printf("  product   %s %s\n", tg_jstr(o, "product"), tg_jstr(o, "version") ? tg_jstr(o, "version") : "(no version)");
	if (json_object_object_get_ex(o, "records", &recs) && json_object_object_get_ex(recs, "supplier", &sup) && sup)
		printf("  supplier  %s, %s, review %s%s%s\n", tg_jstr(sup, "name"), tg_jstr(sup, "status"),
		       tg_jstr(sup, "review") ? tg_jstr(sup, "review") : "none", tg_jstr(sup, "review_expires") ? " until " : "",
		       tg_jstr(sup, "review_expires") ? tg_jstr(sup, "review_expires") : "");
	print_findings(o, "reasons", "reason");
	print_findings(o, "warnings", "warning");
	tg_evidence_fprint(stdout, o);
	if (a->problem[0])
		printf("  TAMPERED  %s\n", a->problem);
	else if (!a->covered)
		printf("  anchoring audit row %lld names this verdict; it was recorded before reports were digested\n",
		       (long long)a->seq);
	else
		printf("  anchoring the report's SHA-256 is in audit row %lld, whose hash chains to the rows before\n",
		       (long long)a->seq);
}

static int cmd_show(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_anchoring a;
	char **pos;
	int npos;
	int64_t id = 0;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);

	if (r == TG_OK)
		r = tg_evidence_parse_id(pos[0], &id, &d);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_evidence_load(db, id, &o, &a, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(o);
	else
		print_text(o, &a);
	return a.found && !a.problem[0] ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
}

int tg_cmd_verdict(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "show", cmd_show },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "verdict show ID");
}
