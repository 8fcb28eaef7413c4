/* Host attestation: load the records, decide on evidence, record. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>


#include "attest.h"
#include "notify.h"
#include "evidence.h"
#include "../measure/decisions.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../db/integrity.h"
#include "../common/reasons.h"

#define MAX_UNKNOWN_REPORTED 24

bool tg_attest_parse_pcr_list(const char *s, uint32_t *ret)
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

enum tg_err tg_bundle_open(const char *dir, struct tg_bundle *b)
{
	b->msg = tg_path_join(dir, "attest.bin");
	b->sig = tg_path_join(dir, "sig.bin");
	b->pcrs = tg_path_join(dir, "pcrs.json");
	b->log = tg_path_join(dir, "eventlog.bin");
	b->ak_tpm2b = tg_path_join(dir, "ak.tpm2b");
	b->ak_pem = tg_path_join(dir, "ak.pem");
	if (!b->msg || !b->sig || !b->pcrs || !b->log || !b->ak_tpm2b || !b->ak_pem) {
		tg_bundle_release(b);
		return TG_E_NOMEM;
	}
	return TG_OK;
}

void tg_bundle_release(struct tg_bundle *b)
{
	free(b->msg);
	free(b->sig);
	free(b->pcrs);
	free(b->log);
	free(b->ak_tpm2b);
	free(b->ak_pem);
	memset(b, 0, sizeof(*b));
}

const char *tg_bundle_if_present(const char *path)
{
	return path && access(path, F_OK) == 0 ? path : NULL;
}

/* ---------------------------------------------------------------- load */

struct refs_acc {
	struct tg_reference *r;
	size_t n, cap;
};

static enum tg_err collect_ref(const struct tg_reference *r, void *ud)
{
	struct refs_acc *rs = ud;

	/* A withdrawn reference value is known no more. */
	if (r->revoked)
		return TG_OK;
	if (tg_grow(rs->r, rs->cap, rs->n, 64) != TG_OK)
		return TG_E_NOMEM;
	struct tg_reference *c = &rs->r[rs->n++];
	*c = *r;
	c->model = tg_strdup(r->model);
	c->release = tg_strdup(r->release);
	c->alg = tg_strdup(r->alg);
	c->digest = tg_strdup(r->digest);
	c->description = tg_strdup(r->description);
	return TG_OK;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* References ordered by (pcr, alg, event type, digest) for bsearch. */
static int ref_cmp(const void *a, const void *b)
{
	const struct tg_reference *x = a, *y = b;
	int c;

	if (x->pcr != y->pcr)
		return x->pcr < y->pcr ? -1 : 1;
	if ((c = strcmp(x->alg, y->alg)))
		return c;
	if (x->event_type != y->event_type)
		return x->event_type < y->event_type ? -1 : 1;
	return strcmp(x->digest, y->digest);
}

void tg_attest_records_release(struct tg_attest_records *r)
{
	if (r->have_host)
		tg_host_release(&r->host);
	if (!r->refs_shared) {
		for (size_t i = 0; i < r->nrefs; i++)
			tg_reference_release(&r->refs[i]);
		free(r->refs);
		for (size_t i = 0; i < r->ndenied; i++)
			free(r->denied[i]);
		free(r->denied);
	}
	memset(r, 0, sizeof(*r));
}

enum tg_err tg_attest_load(struct tg_db *db, const char *host, const char *nonce_hex,
			   const struct tg_attest_records *same, struct tg_attest_records *ret,
			   struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct refs_acc acc = { 0 };
	bool row = false;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	r = tg_rec_host_get(db, host, &ret->host, d);
	if (r == TG_E_NOTFOUND)
		return TG_OK;
	if (r != TG_OK)
		return r;
	ret->have_host = true;
	r = tg_integrity_host(db, &ret->host, ret->host_tampered, sizeof(ret->host_tampered), d);
	if (r == TG_OK && same && same->have_host && ret->host.model && same->host.model &&
	    strcmp(ret->host.model, same->host.model) == 0) {
		ret->refs = same->refs;
		ret->nrefs = same->nrefs;
		ret->denied = same->denied;
		ret->ndenied = same->ndenied;
		memcpy(ret->refs_set, same->refs_set, sizeof(ret->refs_set));
		ret->refs_shared = true;
		memcpy(ret->refs_tampered, same->refs_tampered, sizeof(ret->refs_tampered));
	} else {
		if (r == TG_OK && ret->host.model)
			r = tg_integrity_references(db, ret->host.model, ret->refs_tampered,
						    sizeof(ret->refs_tampered), d);
		if (r == TG_OK && !ret->refs_tampered[0])
			r = tg_integrity_release_references(db, ret->refs_tampered, sizeof(ret->refs_tampered), d);
		/* A record deleted outside trustgate (a host, a release whose
		 * references were revoked with it) shows only against the whole
		 * history. */
		if (r == TG_OK && !ret->refs_tampered[0])
			r = tg_integrity_complete(db, ret->refs_tampered, sizeof(ret->refs_tampered), d);
		if (r == TG_OK)
			r = tg_rec_reference_each(db, ret->host.model, true, -1, collect_ref, &acc, d);
		if (r == TG_OK)
			r = tg_rec_measurement_denied(db, &ret->denied, &ret->ndenied, d);
		if (r == TG_OK && ret->host.model)
			r = tg_rec_reference_set_digest(db, ret->host.model, ret->refs_set, d);
		ret->refs = acc.r;
		ret->nrefs = acc.n;
		if (acc.n > 1)
			qsort(acc.r, acc.n, sizeof(*acc.r), ref_cmp);
	}
	if (r != TG_OK)
		return r;
	/* One nonce, one attestation, failed attempts included (case 46). */
	/* By the nonce index: comparing `command || ''` (an expression, not
	 * the column) keeps SQLite's planner off the (command, subject_path)
	 * index, which would read every attestation of the host (a cost
	 * growing with its history); PostgreSQL reads it the same way. */
	r = tg_db_prepare(db, "SELECT 1 FROM verdict WHERE nonce = ?1 AND command || '' = 'attest' "
			      "AND subject_path || '' = ?2 LIMIT 1;", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, nonce_hex);
	tg_db_bind_text(st, 2, host);
	r = tg_db_step(db, st, &row, d);
	ret->nonce_used = row;
	return r;
}

/* ---------------------------------------------------------------- eval */

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

/* Every measured event of the attested PCRs must be a reference value
 * (THREATS cases 41, 42, 53): known only as the triple (PCR, event type,
 * digest); a relabelled type or an unknown digest is MEASUREMENT_UNKNOWN,
 * never skipped. */
/* Does some event of this log (bank) carry reference r's digest?  Such a
 * reference is accounted for, and is not the one a stranger should have
 * matched. */
static bool ref_in_log(const struct tg_eventlog *el, size_t bank, const struct tg_reference *r)
{
	char hex[2 * TG_HASH_MAX_LEN + 1];

	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		if ((int)e->pcr != r->pcr || e->type != r->event_type || !e->digest[bank].p)
			continue;
		tg_hex_encode(e->digest[bank].p, e->digest[bank].len, hex);
		if (strcmp(hex, r->digest) == 0)
			return true;
	}
	return false;
}

/* One measurement against the records: revoked (on the deny list, whatever
 * reference also carries it: a vulnerable bootloader stays refused even if
 * a golden log imported later lists it), known (a reference value), or
 * unknown.  The attestation and its re-judgement both decide by this. */
enum measurement { MEAS_KNOWN, MEAS_REVOKED, MEAS_UNKNOWN };

static enum measurement measurement_status(const struct tg_attest_records *rec, const char *alg, int pcr,
					   uint32_t type, const char *hex)
{
	char deny_key[16 + 2 * TG_HASH_MAX_LEN + 2];
	const char *dk = deny_key;
	struct tg_reference key = { .pcr = pcr, .alg = (char *)alg, .event_type = type, .digest = (char *)hex };

	snprintf(deny_key, sizeof(deny_key), "%s:%s", alg, hex);
	if (rec->ndenied && bsearch(&dk, rec->denied, rec->ndenied, sizeof(*rec->denied), str_cmp))
		return MEAS_REVOKED;
	if (rec->nrefs && bsearch(&key, rec->refs, rec->nrefs, sizeof(*rec->refs), ref_cmp))
		return MEAS_KNOWN;
	return MEAS_UNKNOWN;
}

/* The measured events as one string, "PCR:TYPE:HEX" joined by spaces:
 * one JSON string per attestation, not an object per event (building,
 * parsing and storing thousands of small objects per batch cost a third of
 * attest --batch's throughput). */
struct measured {
	char *s;
	size_t len, cap;
};

static void measured_add(struct measured *m, unsigned pcr, uint32_t type, const char *hex)
{
	char item[16 + 2 * TG_HASH_MAX_LEN + 4];
	int n = snprintf(item, sizeof(item), "%s%u:%u:%s", m->len ? " " : "", pcr, type, hex);

	if (n < 0 || (size_t)n >= sizeof(item))
		return;
	if (m->len + (size_t)n + 1 > m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 4096;
		while (cap < m->len + (size_t)n + 1)
			cap *= 2;
		char *ns = realloc(m->s, cap);
		if (!ns)
			return;
		m->s = ns;
		m->cap = cap;
	}
	memcpy(m->s + m->len, item, (size_t)n + 1);
	m->len += (size_t)n;
}

static void match_events(const struct tg_eventlog *el, size_t bank, uint32_t pcrs,
			 const struct tg_attest_records *rec, struct tg_verdict *v,
			 struct json_object *unknown, struct json_object *decisions, struct measured *measured,
			 size_t *ret_checked)
{
	const char *alg = tg_hash_name(el->banks[bank].hash);
	char hex[2 * TG_HASH_MAX_LEN + 1], desc[320];
	size_t bad = 0;

	*ret_checked = 0;
	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		const struct tg_reference *near = NULL;

		if (e->type == TG_EV_NO_ACTION || e->pcr >= TG_EL_PCRS || !(pcrs & (1u << e->pcr)))
			continue;
		/* An appliance's decisions (PCR 15): facts to report, in log
		 * order, not measurements to match; the replay against the
		 * quote already proved the sequence. */
		size_t pl = strlen(TG_DECISION_PREFIX);
		if (e->pcr == TG_DECISION_PCR && e->type == TG_EV_ACTION && e->data.len > pl &&
		    memcmp(e->data.p, TG_DECISION_PREFIX, pl) == 0) {
			char line[400];
			size_t n = e->data.len - pl < sizeof(line) - 1 ? e->data.len - pl : sizeof(line) - 1;
			memcpy(line, e->data.p + pl, n);
			line[n] = '\0';
			for (char *c = line; *c; c++)
				if ((unsigned char)*c < 0x20 || *c == 0x7f)
					*c = '?';
			json_object_array_add(decisions, json_object_new_string(line));
			continue;
		}
		(*ret_checked)++;
		if (e->digest[bank].p)
			tg_hex_encode(e->digest[bank].p, e->digest[bank].len, hex);
		else
			strcpy(hex, "(none)");
		/* The fact `reevaluate` judges again when references change. */
		measured_add(measured, e->pcr, e->type, hex);
		enum measurement st = measurement_status(rec, alg, (int)e->pcr, e->type, hex);
		if (st == MEAS_REVOKED) {
			tg_event_describe(e, desc, sizeof(desc));
			tg_verdict_reason(v, TG_R(MEASUREMENT_REVOKED), "PCR %u %s %s:%.16s... (%s) is a revoked measurement",
					  e->pcr, tg_event_type_name(e->type), alg, hex, desc);
			continue;
		}
		if (st == MEAS_KNOWN)
			continue;
		/* Not a reference: find the nearest one to show (same PCR, same
		 * type preferred). */
		for (size_t k = 0; k < rec->nrefs; k++) {
			const struct tg_reference *r = &rec->refs[k];
			if (r->pcr != (int)e->pcr || strcmp(r->alg, alg) != 0)
				continue;
			/* Same PCR; same type preferred; one no event of this log
			 * used preferred (that is what this event replaced). */
			int score = (r->event_type == e->type) * 2 + !ref_in_log(el, bank, r);
			int best = !near ? -1 : (near->event_type == e->type) * 2 + !ref_in_log(el, bank, near);
			if (score > best)
				near = r;
		}
		tg_event_describe(e, desc, sizeof(desc));
		if (++bad <= MAX_UNKNOWN_REPORTED) {
			if (near)
				tg_verdict_reason(v, TG_R(MEASUREMENT_UNKNOWN),
						  "PCR %u %s %s:%.16s... (%s) is not a reference value; nearest: "
						  "%s %.16s... (%s) from %s %s", e->pcr, tg_event_type_name(e->type),
						  alg, hex, desc, tg_event_type_name(near->event_type), near->digest,
						  near->description ? near->description : "",
						  near->model ? "model" : "release",
						  near->model ? near->model : near->release);
			else
				tg_verdict_reason(v, TG_R(MEASUREMENT_UNKNOWN),
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
			struct json_object *nr = json_object_new_object();
			json_object_object_add(nr, "type", json_object_new_string(tg_event_type_name(near->event_type)));
			json_object_object_add(nr, "digest", json_object_new_string(near->digest));
			tg_json_str(nr, "description", near->description);
			tg_json_str(nr, "model", near->model);
			tg_json_str(nr, "release", near->release);
			json_object_object_add(o, "nearest", nr);
		}
		json_object_array_add(unknown, o);
	}
	if (bad > MAX_UNKNOWN_REPORTED)
		tg_verdict_reason(v, TG_R(MEASUREMENT_UNKNOWN), "%zu further unknown measurements (see the JSON report)",
				  bad - MAX_UNKNOWN_REPORTED);
}

/* Separators (PFP §10.4.2, THREATS case 42): each attested PCR is closed
 * by exactly one EV_SEPARATOR whose data is 00000000 (FFFFFFFF means the
 * firmware reported an error), and no other event may carry a
 * separator's digest under another type. */
static void check_separators(const struct tg_eventlog *el, size_t bank, uint32_t pcrs, struct tg_verdict *v)
{
	static const uint8_t zero[4] = { 0 }, ones[4] = { 0xff, 0xff, 0xff, 0xff };
	uint8_t dz[TG_HASH_MAX_LEN], df[TG_HASH_MAX_LEN];
	size_t hl = el->banks[bank].size;
	int count[TG_EL_PCRS] = { 0 };

	tg_digest(el->banks[bank].hash, zero, 4, dz);
	tg_digest(el->banks[bank].hash, ones, 4, df);
	for (size_t i = 0; i < el->nevents; i++) {
		const struct tg_event *e = &el->events[i];
		if (e->pcr >= TG_EL_PCRS || !(pcrs & (1u << e->pcr)) || e->type == TG_EV_NO_ACTION)
			continue;
		bool sep_digest = e->digest[bank].p && (memcmp(e->digest[bank].p, dz, hl) == 0 ||
							  memcmp(e->digest[bank].p, df, hl) == 0);
		if (e->type == TG_EV_SEPARATOR) {
			count[e->pcr]++;
			if (e->data.len != 4 || memcmp(e->data.p, zero, 4) != 0)
				tg_verdict_reason(v, TG_R(SEPARATOR_INVALID), "PCR %u separator (event %u) %s", e->pcr,
						  e->index, e->data.len == 4 && memcmp(e->data.p, ones, 4) == 0 ?
						  "reports a firmware error (FFFFFFFF)" : "has unexpected data");
			else if (!e->digest[bank].p || memcmp(e->digest[bank].p, dz, hl) != 0)
				tg_verdict_reason(v, TG_R(SEPARATOR_INVALID), "PCR %u separator (event %u) digest is not "
									 "the digest of its data", e->pcr, e->index);
		} else if (sep_digest) {
			tg_verdict_reason(v, TG_R(SEPARATOR_INVALID), "PCR %u event %u (%s) carries a separator digest "
								 "under another type", e->pcr, e->index,
					  tg_event_type_name(e->type));
		}
	}
	for (int p = 0; p < TG_EL_PCRS; p++)
		if ((pcrs & (1u << p)) && p <= 7 && count[p] != 1)
			tg_verdict_reason(v, TG_R(SEPARATOR_INVALID), "PCR %d has %d separators; exactly one is expected",
					  p, count[p]);
}

bool tg_attest_rejudge(struct json_object *report, const struct tg_attest_records *rec, struct tg_verdict *v)
{
	struct json_object *facts = tg_jget(report, "facts"), *measured = tg_jget(facts, "measured");
	const char *alg = tg_jstr(facts, "bank"), *host = tg_jstr(report, "host");
	size_t unknown = 0;

	if (!facts || !alg || !host || !measured || !json_object_is_type(measured, json_type_string))
		return false;
	v->kind = "attestation";
	v->path = host;
	if (!rec->have_host) {
		tg_verdict_reason(v, TG_R(HOST_UNKNOWN), "host %s is no longer in the records", host);
	} else if (strcmp(rec->host.status, "enrolled") != 0) {
		tg_verdict_reason(v, TG_R(HOST_UNKNOWN), "host %s is %s", host, rec->host.status);
	}
	if (rec->host_tampered[0])
		tg_verdict_reason(v, TG_R(RECORD_TAMPERED), "%s", rec->host_tampered);
	if (rec->refs_tampered[0])
		tg_verdict_reason(v, TG_R(RECORD_TAMPERED), "%s", rec->refs_tampered);
	if (rec->have_host && rec->nrefs == 0)
		tg_verdict_reason(v, TG_R(REFERENCE_EMPTY), "no reference values for host %s any more", host);
	const char *p = json_object_get_string(measured);
	for (size_t i = 0; *p; i++) {
		size_t n = strcspn(p, " ");
		char item[16 + 2 * TG_HASH_MAX_LEN + 4], hexbuf[2 * TG_HASH_MAX_LEN + 1];
		unsigned upcr = 0, utype = 0;
		int used = 0;
		if (n >= sizeof(item)) {
			tg_verdict_reason(v, TG_R(INCOMPLETE), "the recorded measurement %zu is unreadable", i);
			break;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		p += n + (p[n] == ' ');
		if (sscanf(item, "%u:%u:%128[0-9a-f]%n", &upcr, &utype, hexbuf, &used) != 3 || (size_t)used != n) {
			tg_verdict_reason(v, TG_R(INCOMPLETE), "the recorded measurement %zu is unreadable", i);
			continue;
		}
		int pcr = (int)upcr;
		uint32_t type = utype;
		const char *hex = hexbuf;
		enum measurement st = measurement_status(rec, alg, pcr, type, hex);
		if (st == MEAS_REVOKED) {
			tg_verdict_reason(v, TG_R(MEASUREMENT_REVOKED), "PCR %d %s %s:%.16s... measured at that "
									"attestation is now a revoked measurement", pcr,
					  tg_event_type_name(type), alg, hex);
			continue;
		}
		if (st == MEAS_KNOWN)
			continue;
		if (++unknown <= MAX_UNKNOWN_REPORTED)
			tg_verdict_reason(v, TG_R(MEASUREMENT_UNKNOWN), "PCR %d %s %s:%.16s... measured at that "
									"attestation is no longer a reference value",
					  pcr, tg_event_type_name(type), alg, hex);
	}
	if (unknown > MAX_UNKNOWN_REPORTED)
		tg_verdict_reason(v, TG_R(MEASUREMENT_UNKNOWN), "%zu further measurements are no longer reference values",
				  unknown - MAX_UNKNOWN_REPORTED);
	v->complete = true;
	tg_verdict_finish(v);
	return true;
}

void tg_attest_outcome_release(struct tg_attest_outcome *out)
{
	if (out->report)
		json_object_put(out->report);
	memset(out, 0, sizeof(*out));
}

enum tg_err tg_attest_eval(const struct tg_attest_evidence *ev, const struct tg_attest_records *rec,
			   struct tg_attest_outcome *out, struct tg_diag *d)
{
	_cleanup_(tg_eventlog_freep) struct tg_eventlog *el = NULL;
	struct tg_verdict *v = &out->v;
	struct tg_ak ak = { 0 }, bundle_ak = { 0 };
	struct tg_quote q = { 0 };
	struct tg_pcr_values pv;
	struct tg_quote_result qr;
	struct tg_diag logd = { { 0 } };
	uint8_t sum[32];
	enum tg_err r;

	memset(out, 0, sizeof(*out));
	v->kind = "attestation";
	v->path = ev->host;
	r = tg_quote_parse(ev->msg, ev->msg_what, ev->sig, ev->sig_what, &q, d);
	if (r == TG_OK && ev->pcrs.p)
		r = tg_pcrs_parse(ev->pcrs, ev->pcrs_what,
				  q.attest.type == TPM2_ST_ATTEST_QUOTE ? &q.attest.attested.quote.pcrSelect : NULL,
				  &pv, d);
	if (r == TG_OK && ev->bundle_ak.p)
		r = tg_ak_parse(ev->bundle_ak, ev->ak_what, &bundle_ak, d);
	if (r == TG_OK && rec->have_host) {
		r = tg_ak_parse(tg_span_make(rec->host.ak_public, rec->host.ak_public_len),
				"records: host AK", &ak, d);
		if (r != TG_OK)
			r = tg_fail(d, TG_E_DB, "records: the AK of host %s is unusable", rec->host.name);
	}
	if (r != TG_OK)
		goto out;
	tg_digest(TG_HASH_SHA256, q.raw, q.raw_len, sum);
	tg_hex_encode(sum, 32, out->subject);
	memcpy(v->sha256, out->subject, sizeof(v->sha256));
	out->attest_len = q.raw_len;
	out->clock = q.attest.clockInfo.clock;
	out->reset = q.attest.clockInfo.resetCount;
	out->restart = q.attest.clockInfo.restartCount;
	out->report = json_object_new_object();
	struct json_object *unknown = json_object_new_array(), *decisions = json_object_new_array();
	json_object_object_add(out->report, "unknown_measurements", unknown);
	json_object_object_add(out->report, "decisions", decisions);

	if (!rec->have_host) {
		tg_verdict_reason(v, TG_R(HOST_UNKNOWN), "host %s is not enrolled", ev->host);
		v->complete = true;
		goto decide;
	}
	const struct tg_host *host = &rec->host;
	v->tier = host->tier;
	if (strcmp(host->status, "enrolled") != 0)
		tg_verdict_reason(v, TG_R(HOST_UNKNOWN), "host %s is %s", host->name, host->status);
	if (rec->host_tampered[0])
		tg_verdict_reason(v, TG_R(RECORD_TAMPERED), "%s", rec->host_tampered);
	v->has_key = true;
	snprintf(v->key_fpr, sizeof(v->key_fpr), "%s", ak.key->fingerprint);
	snprintf(v->key_alg, sizeof(v->key_alg), "%s", tg_key_algorithm(ak.key));
	/* A bundle bringing another AK than the enrolled one (case 49). */
	if (bundle_ak.key && strcmp(bundle_ak.key->fingerprint, ak.key->fingerprint) != 0)
		tg_verdict_reason(v, TG_R(AK_NOT_ENROLLED), "the bundle's AK %.16s... is not the AK enrolled for %s",
				  bundle_ak.key->fingerprint, host->name);
	struct tg_quote_inputs in = {
		.ak = &ak, .quote = &q, .nonce = ev->nonce, .nonce_len = ev->nonce_len,
		.pcrs = ev->pcrs.p ? &pv : NULL, .required_pcrs = ev->required,
	};
	if (tg_eventlog_parse(ev->log, ev->log_what, &el, &logd) == TG_OK)
		in.eventlog = el;
	else
		tg_verdict_reason(v, TG_R(EVENTLOG_MALFORMED), "%.300s", logd.msg);
	r = tg_quote_check(&in, &qr, d);
	if (r != TG_OK)
		goto out;
	for (size_t i = 0; i < qr.n; i++)
		tg_verdict_reason(v, qr.f[i].code, "%s", qr.f[i].detail);
	for (size_t i = 0; i < qr.nw; i++)
		tg_verdict_warn(v, qr.w[i].code, "%s", qr.w[i].detail);
	if (rec->nonce_used)
		tg_verdict_reason(v, TG_R(QUOTE_NONCE), "nonce was already used for an attestation of %s", host->name);
	/* TPM clock and counters only move forward (THREATS case 47). */
	if (host->has_clock) {
		if (out->reset < host->last_reset ||
		    (out->reset == host->last_reset && out->restart < host->last_restart) ||
		    (out->reset == host->last_reset && out->restart == host->last_restart &&
		     out->clock <= (uint64_t)host->last_clock))
			tg_verdict_reason(v, TG_R(QUOTE_CLOCK), "TPM clock/reset counters moved backwards since the last "
							     "trusted attestation (replayed or rewound)");
		else if (out->reset > host->last_reset)
			tg_verdict_warn(v, TG_R(HOST_REBOOTED), "the TPM was reset since the last attestation");
	}
	if (rec->refs_tampered[0])
		tg_verdict_reason(v, TG_R(RECORD_TAMPERED), "%s", rec->refs_tampered);
	/* An empty reference set can never attest a host (case 53). */
	if (rec->nrefs == 0)
		tg_verdict_reason(v, TG_R(REFERENCE_EMPTY), "no reference values for host %s%s%s", host->name,
				  host->model ? " (model " : "", host->model ? host->model : "");
	if (el && q.attest.type == TPM2_ST_ATTEST_QUOTE) {
		int bank = pick_bank(el, &q.attest.attested.quote.pcrSelect);
		if (bank < 0)
			tg_verdict_reason(v, TG_R(EVENTLOG_REPLAY_MISMATCH), "the log carries no bank the quote selects");
		else {
			struct json_object *facts = json_object_new_object();
			struct measured measured = { 0 };
			check_separators(el, (size_t)bank, ev->required, v);
			match_events(el, (size_t)bank, ev->required, rec, v, unknown, decisions, &measured, &out->checked);
			json_object_object_add(facts, "bank", json_object_new_string(tg_hash_name(el->banks[bank].hash)));
			json_object_object_add(facts, "measured", json_object_new_string(measured.s ? measured.s : ""));
			json_object_object_add(out->report, "facts", facts);
			free(measured.s);
		}
	}
	v->complete = qr.complete;

decide:
	tg_verdict_finish(v);
	json_object_object_add(out->report, "verdict", json_object_new_string(v->approved ? "trusted" : "untrusted"));
	json_object_object_add(out->report, "kind", json_object_new_string("attestation"));
	tg_json_str(out->report, "host", ev->host);
	json_object_object_add(out->report, "tier", json_object_new_int(v->tier));
	tg_json_str(out->report, "model", rec->have_host ? rec->host.model : NULL);
	if (v->has_key) {
		struct json_object *ako = json_object_new_object();
		json_object_object_add(ako, "fingerprint", json_object_new_string(v->key_fpr));
		json_object_object_add(ako, "algorithm", json_object_new_string(v->key_alg));
		tg_json_str(ako, "name", rec->host.ak_name);
		json_object_object_add(out->report, "ak", ako);
	}
	tg_json_str(out->report, "nonce", ev->nonce_hex);
	tg_json_str(out->report, "attest_sha256", out->subject);
	json_object_object_add(out->report, "measurements_checked", json_object_new_int64((int64_t)out->checked));
	{
		struct json_object *tmp = tg_report_json(v), *reasons = NULL, *warnings = NULL;
		json_object_object_get_ex(tmp, "reasons", &reasons);
		json_object_object_get_ex(tmp, "warnings", &warnings);
		json_object_object_add(out->report, "reasons", json_object_get(reasons));
		json_object_object_add(out->report, "warnings", json_object_get(warnings));
		json_object_put(tmp);
	}
out:
	tg_ak_release(&ak);
	tg_ak_release(&bundle_ak);
	tg_quote_release(&q);
	return r;
}

/* -------------------------------------------------------------- record */

enum tg_err tg_attest_record(struct tg_ctx *ctx, struct tg_db *db, const char *host,
			     const struct tg_attest_records *rec, const char *nonce_hex, bool approved,
			     struct json_object *report, const char *subject, size_t attest_len,
			     const char *ak_fpr, int tier, uint64_t clock, uint32_t reset, uint32_t restart,
			     struct json_object *reason_codes, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	_cleanup_free_ char *report_text = NULL;
	char report_sha[65];
	struct json_object *recs = json_object_new_object();
	enum tg_err r;

	/* The records this decision used, as loaded for it. */
	if (rec->have_host) {
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "name", rec->host.name);
		tg_json_str(o, "status", rec->host.status);
		json_object_object_add(o, "tier", json_object_new_int(rec->host.tier));
		tg_json_str(o, "model", rec->host.model);
		tg_json_str(o, "ak_fingerprint", rec->host.ak_fingerprint);
		json_object_object_add(recs, "host", o);
		if (rec->refs_set[0])
			tg_json_str(recs, "reference_set_sha256", rec->refs_set);
	}
	r = tg_evidence_stamp_with(db, report, ctx->actor, recs, d);
	if (r != TG_OK)
		return r;
	if (!(report_text = strdup(tg_evidence_text(report))))
		return TG_E_NOMEM;
	tg_evidence_digest(report_text, report_sha);
	struct tg_verdict_row row = {
		.actor = ctx->actor, .command = "attest", .kind = "attestation", .subject_path = host,
		.subject_sha256 = subject, .result = approved ? "trusted" : "untrusted",
		.key_fingerprint = ak_fpr, .report = report_text, .nonce = nonce_hex,
		.subject_size = attest_len, .tier = tier, .cii = ctx->cii, .gm = ctx->gm,
	};
	int64_t id = 0;

	r = tg_audit_next_seq(db, &row.audit_seq, d);
	if (r == TG_OK)
		r = tg_rec_verdict_insert(db, &row, &id, d);
	if (r == TG_OK && approved && rec->have_host)
		r = tg_rec_host_set_clock(db, rec->host.id, clock, reset, restart, d);
	if (r != TG_OK)
		return r;
	json_object_object_add(detail, "verdict_id", json_object_new_int64(id));
	tg_json_str(detail, "result", row.result);
	json_object_object_add(detail, "reasons", json_object_get(reason_codes));
	tg_json_str(detail, "attest_sha256", subject);
	tg_json_str(detail, "report_sha256", report_sha);
	char line[400];
	snprintf(line, sizeof(line), "attest %s %s %s verdict %lld", row.result, host, subject, (long long)id);
	r = tg_cli_measure_decision(db, line, d);
	if (r != TG_OK)
		return r;
	r = tg_audit_append(db, ctx->actor, "attest", host,
			    json_object_to_json_string_ext(detail, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE), d);
	if (r == TG_OK)
		r = tg_evidence_link(db, id, row.audit_seq, report, d);
	if (r == TG_OK && !approved) {
		/* Somebody must hear of it without reading the log. */
		struct json_object *n = json_object_new_object();
		json_object_object_add(n, "verdict_id", json_object_new_int64(id));
		tg_json_str(n, "result", row.result);
		json_object_object_add(n, "reasons", json_object_get(reason_codes));
		r = tg_notify_enqueue(db, "host.untrusted", host, NULL, n, d);
		json_object_put(n);
	}
	return r;
}

enum tg_err tg_attest_prepare(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			      const struct tg_attest_records *same, struct tg_attest_records *rec,
			      struct tg_attest_outcome *out, struct tg_diag *d)
{
	enum tg_err r = tg_attest_load(db, ev->host, ev->nonce_hex, same, rec, d);

	if (r != TG_OK)
		return r;
	if (!rec->have_host)
		out->v.tier = ctx->tier;
	return tg_attest_eval(ev, rec, out, d);
}

enum tg_err tg_attest_commit(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			     tg_attest_in_tx_fn in_tx, void *in_tx_ud, tg_attest_render_fn render, void *render_ud,
			     struct tg_attest_records *rec, struct tg_attest_outcome *out, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *codes = tg_verdict_codes_json(&out->v);
	enum tg_err r;

	/* The caller's transaction, when it has one, holds other decisions:
	 * this one is a savepoint in it, and the caller commits. */
	bool own = !db->in_tx;
	r = own ? tg_db_begin(db, d) : tg_db_savepoint(db, d);
	if (r != TG_OK)
		return r;
	if (in_tx)
		r = in_tx(db, in_tx_ud, d);
	if (r == TG_OK)
		r = tg_attest_record(ctx, db, ev->host, rec, ev->nonce_hex, out->v.approved, out->report, out->subject,
				     out->attest_len, out->v.has_key ? out->v.key_fpr : NULL, out->v.tier, out->clock,
				     out->reset, out->restart, codes, d);
	if (r == TG_OK && !own)
		r = tg_db_savepoint_release(db, d);
	if (r != TG_OK) {
		if (own)
			tg_db_rollback(db);
		else
			tg_db_savepoint_rollback(db);
		return r;
	}
	render(tg_out_open(), rec, out, render_ud);
	tg_out_seal();
	if (!own)
		return TG_OK;
	r = tg_db_commit(db, d);
	if (r != TG_OK) {
		tg_out_discard();
		return r;
	}
	tg_out_committed();
	return TG_OK;
}

enum tg_err tg_attest_decide(struct tg_ctx *ctx, struct tg_db *db, const struct tg_attest_evidence *ev,
			     const struct tg_attest_records *same, tg_attest_in_tx_fn in_tx, void *in_tx_ud,
			     tg_attest_render_fn render, void *render_ud, struct tg_attest_records *rec,
			     struct tg_attest_outcome *out, struct tg_diag *d)
{
	enum tg_err r = tg_attest_prepare(ctx, db, ev, same, rec, out, d);

	return r == TG_OK ? tg_attest_commit(ctx, db, ev, in_tx, in_tx_ud, render, render_ud, rec, out, d) : r;
}
