/*
 * trustgate attest NAME --msg ATTEST --sig SIG --eventlog LOG --nonce HEX
 *                       [--pcrs PCRS] [--bundle DIR] [--pcr-list LIST]
 *
 * A host's quote, verified with the AK enrolled for it; its event log
 * replayed and matched to the quote; every measured event in the attested
 * PCRs (default 0-7) found among the reference values of the host's model
 * or of approved releases.  TRUSTED only when all of that holds; UNTRUSTED
 * names each offending event, what was expected and where it comes from.
 * The verdict and its audit row are recorded like any check.
 */
#include <string.h>

#include <sqlite3.h>

#include "cli.h"
#include "verdict.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/integrity.h"
#include "../db/records.h"
#include "../measure/quote.h"

#define MAX_UNKNOWN_REPORTED 24

struct refs {
	struct tg_reference *r;
	size_t n, cap;
};

static enum tg_err collect_ref(const struct tg_reference *r, void *ud)
{
	struct refs *rs = ud;

	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 64;
		struct tg_reference *nr = realloc(rs->r, cap * sizeof(*nr));
		if (!nr)
			return TG_E_NOMEM;
		rs->r = nr;
		rs->cap = cap;
	}
	struct tg_reference *c = &rs->r[rs->n++];
	*c = *r;
	c->model = tg_strdup(r->model);
	c->release = tg_strdup(r->release);
	c->alg = tg_strdup(r->alg);
	c->digest = tg_strdup(r->digest);
	c->description = tg_strdup(r->description);
	return TG_OK;
}

static void refs_release(struct refs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		tg_reference_release(&rs->r[i]);
	free(rs->r);
}

static bool exists(const char *p)
{
	return access(p, F_OK) == 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = malloc(n);
	if (s)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* Match every measured event of the attested PCRs against the references
 * (THREATS cases 41, 42, 53): a measurement is known only as the triple
 * (PCR, event type, digest); a relabelled type or an unknown digest is
 * MEASUREMENT_UNKNOWN, never skipped. */
static void match_events(const struct tg_eventlog *el, size_t bank, uint32_t pcrs,
			 const struct refs *rs, struct tg_verdict *v, struct json_object *unknown,
			 size_t *ret_checked)
{
	const char *alg = tg_hash_name(el->banks[bank].hash);
	char hex[2 * TG_HASH_MAX_LEN + 1], desc[320];
	size_t bad = 0;

	*ret_checked = 0;
	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		const struct tg_reference *near = NULL;
		bool found = false;

		if (e->type == TG_EV_NO_ACTION || e->pcr >= TG_EL_PCRS || !(pcrs & (1u << e->pcr)))
			continue;
		(*ret_checked)++;
		if (e->digest[bank].p)
			tg_hex_encode(e->digest[bank].p, e->digest[bank].len, hex);
		else
			strcpy(hex, "(none)");
		for (size_t k = 0; k < rs->n && !found; k++) {
			const struct tg_reference *r = &rs->r[k];
			if (r->pcr != (int)e->pcr || strcmp(r->alg, alg) != 0)
				continue;
			if (r->event_type == e->type && strcmp(r->digest, hex) == 0)
				found = true;
			else if (!near || (near->event_type != e->type && r->event_type == e->type))
				near = r;
		}
		if (found)
			continue;
		tg_event_describe(e, desc, sizeof(desc));
		if (++bad <= MAX_UNKNOWN_REPORTED) {
			if (near)
				tg_verdict_reason(v, "MEASUREMENT_UNKNOWN",
						  "PCR %u %s %s:%.16s... (%s) is not a reference value; nearest: "
						  "%s %.16s... (%s) from %s %s", e->pcr, tg_event_type_name(e->type),
						  alg, hex, desc, tg_event_type_name(near->event_type), near->digest,
						  near->description ? near->description : "",
						  near->model ? "model" : "release",
						  near->model ? near->model : near->release);
			else
				tg_verdict_reason(v, "MEASUREMENT_UNKNOWN",
						  "PCR %u %s %s:%.16s... (%s) is not a reference value; no "
						  "reference exists for PCR %u", e->pcr, tg_event_type_name(e->type),
						  alg, hex, desc, e->pcr);
		}
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "index", json_object_new_int64(e->index));
		json_object_object_add(o, "pcr", json_object_new_int64(e->pcr));
		json_object_object_add(o, "type", json_object_new_string(tg_event_type_name(e->type)));
		json_object_object_add(o, "digest", json_object_new_string(hex));
		json_object_object_add(o, "description", json_object_new_string(desc));
		if (near) {
			struct json_object *n = json_object_new_object();
			json_object_object_add(n, "type", json_object_new_string(tg_event_type_name(near->event_type)));
			json_object_object_add(n, "digest", json_object_new_string(near->digest));
			tg_json_str(n, "description", near->description);
			tg_json_str(n, "model", near->model);
			tg_json_str(n, "release", near->release);
			json_object_object_add(o, "nearest", n);
		}
		json_object_array_add(unknown, o);
	}
	if (bad > MAX_UNKNOWN_REPORTED)
		tg_verdict_reason(v, "MEASUREMENT_UNKNOWN", "%zu further unknown measurements (see the JSON report)",
				  bad - MAX_UNKNOWN_REPORTED);
}

/* The strongest bank both the quote selected and the log carries. */
static int pick_bank(const struct tg_eventlog *el, const TPML_PCR_SELECTION *sel)
{
	static const enum tg_hash pref[] = { TG_HASH_SHA512, TG_HASH_SHA384, TG_HASH_SHA256, TG_HASH_SM3 };

	for (size_t p = 0; p < TG_ARRAY_SIZE(pref); p++) {
		int b = tg_eventlog_bank(el, pref[p]);
		if (b < 0)
			continue;
		for (uint32_t i = 0; i < sel->count && i < TPM2_NUM_PCR_BANKS; i++)
			if (tg_tpm_alg_hash(sel->pcrSelections[i].hash) == pref[p])
				return b;
	}
	return -1;
}

static bool parse_pcr_list(const char *s, uint32_t *ret)
{
	uint32_t mask = 0;
	const char *p = s;

	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;
		if (end == p || a < 0 || a >= TG_EL_PCRS)
			return false;
		b = a;
		if (*end == '-') {
			p = end + 1;
			b = strtol(p, &end, 10);
			if (end == p || b < a || b >= TG_EL_PCRS)
				return false;
		}
		for (long i = a; i <= b; i++)
			mask |= 1u << i;
		if (*end == ',')
			end++;
		else if (*end)
			return false;
		p = end;
	}
	*ret = mask;
	return mask != 0;
}

static enum tg_err nonce_used(struct tg_db *db, const char *host, const char *nonce, bool *ret,
			      struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT 1 FROM verdict WHERE command = 'attest' AND nonce = ?1 "
					  "AND subject_path = ?2 LIMIT 1;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, nonce);
	tg_db_bind_text(st, 2, host);
	r = tg_db_step(db, st, &row, d);
	*ret = row;
	return r;
}

int tg_cmd_attest(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_free_ uint8_t *msgb = NULL, *sigb = NULL, *pcrb = NULL, *logb = NULL, *bakb = NULL;
	_cleanup_free_ char *bmsg = NULL, *bsig = NULL, *bpcrs = NULL, *blog = NULL, *bak = NULL;
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	_cleanup_json_ struct json_object *report = NULL;
	const char *msg = NULL, *sig = NULL, *pcrs = NULL, *log = NULL, *nonce = NULL, *bundle = NULL;
	const char *pcr_list = NULL;
	const struct tg_opt opts[] = {
		{ "msg", true, &msg, NULL },       { "sig", true, &sig, NULL },
		{ "pcrs", true, &pcrs, NULL },     { "eventlog", true, &log, NULL },
		{ "nonce", true, &nonce, NULL },   { "bundle", true, &bundle, NULL },
		{ "pcr-list", true, &pcr_list, NULL }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } }, logd = { { 0 } };
	struct tg_host host = { 0 };
	struct tg_ak ak = { 0 }, bundle_ak = { 0 };
	struct tg_quote q = { 0 };
	struct tg_pcr_values pv;
	struct tg_quote_result qr;
	struct tg_verdict v = { .kind = "attestation" };
	struct refs rs = { 0 };
	uint8_t nonce_b[64], sum[32];
	size_t nonce_len = 0, msgl = 0, sigl = 0, pcrl = 0, logl = 0, bakl = 0, checked = 0;
	uint32_t required = 0xff;
	char **pos, subject[65], why[320];
	bool have_host = false, used = false;
	int npos;
	enum tg_err r;

	/* -- options */
	r = tg_cli_parse(ctx, argc, argv, opts, 1, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (bundle) {
		bmsg = join(bundle, "attest.bin");
		bsig = join(bundle, "sig.bin");
		bpcrs = join(bundle, "pcrs.json");
		blog = join(bundle, "eventlog.bin");
		bak = join(bundle, "ak.tpm2b");
		if (!bmsg || !bsig || !bpcrs || !blog || !bak)
			return tg_cli_fail(ctx, TG_E_NOMEM, &d);
		msg = msg ? msg : bmsg;
		sig = sig ? sig : bsig;
		pcrs = pcrs ? pcrs : (exists(bpcrs) ? bpcrs : NULL);
		log = log ? log : (exists(blog) ? blog : NULL);
	}
	if (!tg_cli_name_ok(pos[0]))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "host name '%s' is not valid", pos[0]), &d);
	if (!msg || !sig || !log || !nonce)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "attest: --msg, --sig, --eventlog and --nonce (or --bundle DIR and --nonce) are required"), &d);
	if (!tg_hex_decode(nonce, nonce_b, sizeof(nonce_b), &nonce_len) || nonce_len == 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--nonce must be hex (at most 64 bytes)"), &d);
	if (pcr_list && !parse_pcr_list(pcr_list, &required))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--pcr-list '%s': use e.g. 0-7", pcr_list), &d);

	/* -- inputs */
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = tg_file_read(msg, sizeof(TPM2B_ATTEST) + 2, &msgb, &msgl, &d);
	if (r == TG_OK)
		r = tg_file_read(sig, sizeof(TPMT_SIGNATURE) + 16, &sigb, &sigl, &d);
	if (r == TG_OK)
		r = tg_quote_parse(tg_span_make(msgb, msgl), msg, tg_span_make(sigb, sigl), sig, &q, &d);
	if (r == TG_OK && pcrs) {
		r = tg_file_read(pcrs, 1024 * 1024, &pcrb, &pcrl, &d);
		if (r == TG_OK)
			r = tg_pcrs_parse(tg_span_make(pcrb, pcrl), pcrs,
					  q.attest.type == TPM2_ST_ATTEST_QUOTE ? &q.attest.attested.quote.pcrSelect : NULL,
					  &pv, &d);
	}
	if (r == TG_OK)
		r = tg_file_read(log, TG_MAX_EVENTLOG, &logb, &logl, &d);
	if (r == TG_OK && bundle && exists(bak)) {
		r = tg_file_read(bak, TG_MAX_KEY_FILE, &bakb, &bakl, &d);
		if (r == TG_OK)
			r = tg_ak_parse(tg_span_make(bakb, bakl), bak, &bundle_ak, &d);
	}
	if (r == TG_OK) {
		r = tg_rec_host_get(db, pos[0], &host, &d);
		if (r == TG_OK)
			have_host = true;
		else if (r == TG_E_NOTFOUND)
			r = TG_OK;
	}
	if (r == TG_OK && have_host) {
		r = tg_ak_parse(tg_span_make(host.ak_public, host.ak_public_len), "records: host AK", &ak, &d);
		if (r != TG_OK)
			r = tg_fail(&d, TG_E_DB, "records: the AK of host %s is unusable", host.name);
	}
	if (r != TG_OK)
		goto fail;
	tg_digest(TG_HASH_SHA256, q.raw, q.raw_len, sum);
	tg_hex_encode(sum, 32, subject);
	v.path = pos[0];
	v.tier = have_host ? host.tier : ctx->tier;
	v.cii = ctx->cii;
	v.gm = ctx->gm;
	memcpy(v.sha256, subject, sizeof(v.sha256));
	report = json_object_new_object();
	struct json_object *unknown = json_object_new_array();
	json_object_object_add(report, "unknown_measurements", unknown);

	/* -- checks */
	if (!have_host) {
		tg_verdict_reason(&v, "HOST_UNKNOWN", "host %s is not enrolled", pos[0]);
		v.complete = true;
		goto decide;
	}
	if (strcmp(host.status, "enrolled") != 0)
		tg_verdict_reason(&v, "HOST_UNKNOWN", "host %s is %s", host.name, host.status);
	r = tg_integrity_host(db, &host, why, sizeof(why), &d);
	if (r != TG_OK)
		goto fail;
	if (why[0])
		tg_verdict_reason(&v, "RECORD_TAMPERED", "%s", why);
	v.has_key = true;
	snprintf(v.key_fpr, sizeof(v.key_fpr), "%s", ak.key->fingerprint);
	snprintf(v.key_alg, sizeof(v.key_alg), "%s", tg_key_algorithm(ak.key));
	/* A bundle that brings another AK than the enrolled one (case 49). */
	if (bundle_ak.key && strcmp(bundle_ak.key->fingerprint, ak.key->fingerprint) != 0)
		tg_verdict_reason(&v, "AK_NOT_ENROLLED", "the bundle's AK %.16s... is not the AK enrolled for %s",
				  bundle_ak.key->fingerprint, host.name);
	struct tg_quote_inputs in = {
		.ak = &ak, .quote = &q, .nonce = nonce_b, .nonce_len = nonce_len,
		.pcrs = pcrs ? &pv : NULL, .required_pcrs = required,
	};
	if (tg_eventlog_parse(tg_span_make(logb, logl), log, &el, &logd) == TG_OK)
		in.eventlog = el;
	else
		tg_verdict_reason(&v, "EVENTLOG_MALFORMED", "%.300s", logd.msg);
	r = tg_quote_check(&in, &qr, &d);
	if (r != TG_OK)
		goto fail;
	for (size_t i = 0; i < qr.n; i++)
		tg_verdict_reason(&v, qr.f[i].code, "%s", qr.f[i].detail);
	/* One nonce, one attestation (THREATS case 46). */
	r = nonce_used(db, host.name, nonce, &used, &d);
	if (r != TG_OK)
		goto fail;
	if (used)
		tg_verdict_reason(&v, "QUOTE_NONCE", "nonce was already used for an attestation of %s", host.name);
	/* TPM clock and counters only move forward (THREATS case 47). */
	if (host.has_clock) {
		const TPMS_CLOCK_INFO *c = &q.attest.clockInfo;
		if (c->resetCount < host.last_reset ||
		    (c->resetCount == host.last_reset && c->restartCount < host.last_restart) ||
		    (c->resetCount == host.last_reset && c->restartCount == host.last_restart &&
		     c->clock <= (uint64_t)host.last_clock))
			tg_verdict_reason(&v, "QUOTE_CLOCK", "TPM clock/reset counters moved backwards since the last "
							      "trusted attestation (replayed or rewound)");
		else if (c->resetCount > host.last_reset)
			tg_verdict_warn(&v, "HOST_REBOOTED", "the TPM was reset since the last attestation");
	}
	/* References: the host's model and approved releases; an empty
	 * reference set can never attest a host (THREATS case 53). */
	if (host.model) {
		r = tg_integrity_references(db, host.model, why, sizeof(why), &d);
		if (r != TG_OK)
			goto fail;
		if (why[0])
			tg_verdict_reason(&v, "RECORD_TAMPERED", "%s", why);
	}
	r = tg_rec_reference_each(db, host.model, true, -1, collect_ref, &rs, &d);
	if (r != TG_OK)
		goto fail;
	if (rs.n == 0)
		tg_verdict_reason(&v, "REFERENCE_EMPTY", "no reference values for host %s%s%s", host.name,
				  host.model ? " (model " : "", host.model ? host.model : "");
	if (el && q.attest.type == TPM2_ST_ATTEST_QUOTE) {
		int bank = pick_bank(el, &q.attest.attested.quote.pcrSelect);
		if (bank < 0)
			tg_verdict_reason(&v, "EVENTLOG_REPLAY_MISMATCH", "the log carries no bank the quote selects");
		else
			match_events(el, (size_t)bank, required, &rs, &v, unknown, &checked);
	}
	v.complete = qr.complete;

decide:
	tg_verdict_finish(&v);
	json_object_object_add(report, "verdict", json_object_new_string(v.approved ? "trusted" : "untrusted"));
	json_object_object_add(report, "kind", json_object_new_string("attestation"));
	tg_json_str(report, "host", pos[0]);
	json_object_object_add(report, "tier", json_object_new_int(v.tier));
	tg_json_str(report, "model", have_host ? host.model : NULL);
	if (v.has_key) {
		struct json_object *ako = json_object_new_object();
		json_object_object_add(ako, "fingerprint", json_object_new_string(v.key_fpr));
		json_object_object_add(ako, "algorithm", json_object_new_string(v.key_alg));
		tg_json_str(ako, "name", host.ak_name);
		json_object_object_add(report, "ak", ako);
	}
	tg_json_str(report, "nonce", nonce);
	tg_json_str(report, "attest_sha256", subject);
	json_object_object_add(report, "measurements_checked", json_object_new_int64((int64_t)checked));
	{
		struct json_object *tmp = tg_report_json(&v);
		struct json_object *reasons = NULL, *warnings = NULL;
		json_object_object_get_ex(tmp, "reasons", &reasons);
		json_object_object_get_ex(tmp, "warnings", &warnings);
		json_object_object_add(report, "reasons", json_object_get(reasons));
		json_object_object_add(report, "warnings", json_object_get(warnings));
		json_object_put(tmp);
	}

	/* -- record, then report */
	{
		_cleanup_json_ struct json_object *detail = json_object_new_object();
		struct json_object *codes = json_object_new_array();
		const char *text = json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN |
									  JSON_C_TO_STRING_NOSLASHESCAPE);
		struct tg_verdict_row row = {
			.actor = ctx->actor, .command = "attest", .kind = "attestation", .subject_path = pos[0],
			.subject_sha256 = subject, .result = v.approved ? "trusted" : "untrusted",
			.key_fingerprint = v.has_key ? v.key_fpr : NULL, .report = text, .nonce = nonce,
			.subject_size = q.raw_len, .tier = v.tier, .cii = v.cii, .gm = v.gm,
		};
		int64_t id = 0;
		r = tg_db_begin(db, &d);
		if (r == TG_OK)
			r = tg_rec_verdict_insert(db, &row, &id, &d);
		if (r == TG_OK && v.approved)
			r = tg_rec_host_set_clock(db, host.id, q.attest.clockInfo.clock, q.attest.clockInfo.resetCount,
						  q.attest.clockInfo.restartCount, &d);
		if (r != TG_OK) {
			tg_db_rollback(db);
			goto fail;
		}
		json_object_object_add(detail, "verdict_id", json_object_new_int64(id));
		tg_json_str(detail, "result", row.result);
		for (size_t i = 0; i < v.nreasons; i++)
			json_object_array_add(codes, json_object_new_string(v.reasons[i].code));
		json_object_object_add(detail, "reasons", codes);
		tg_json_str(detail, "attest_sha256", subject);
		r = tg_cli_audit_commit(ctx, db, "attest", pos[0], detail, &d);
		if (r != TG_OK)
			goto fail;
	}
	if (ctx->json) {
		tg_cli_print_json(report);
	} else {
		printf("%s  host %s  tier %d%s%s\n", v.approved ? "TRUSTED" : "UNTRUSTED", pos[0], v.tier,
		       have_host && host.model ? "  model " : "", have_host && host.model ? host.model : "");
		if (v.has_key)
			printf("  AK        %s (%s)\n", v.key_fpr, v.key_alg);
		printf("  checked   %zu measurements\n", checked);
		for (size_t i = 0; i < v.nreasons; i++)
			printf("  reason    %s: %s\n", v.reasons[i].code, v.reasons[i].detail);
		for (size_t i = 0; i < v.nwarnings; i++)
			printf("  warning   %s: %s\n", v.warnings[i].code, v.warnings[i].detail);
	}
	refs_release(&rs);
	tg_host_release(&host);
	tg_ak_release(&ak);
	tg_ak_release(&bundle_ak);
	tg_quote_release(&q);
	return v.approved ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
fail:
	refs_release(&rs);
	tg_host_release(&host);
	tg_ak_release(&ak);
	tg_ak_release(&bundle_ak);
	tg_quote_release(&q);
	return tg_cli_fail(ctx, r, &d);
}
