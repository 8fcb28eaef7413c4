/*
 * The /v1 API's routes and handlers (see api.h; docs/openapi.yaml is the
 * published form of the table below).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <tss2/tss2_tpm2_types.h>

#include "api.h"
#include "mutate.h"
#include "../common/encoding.h"
#include "../common/text.h"
#include "../common/crypto.h"
#include "../db/records.h"
#include "../verifier/attest.h"
#include "../verifier/check.h"
#include "../verifier/evidence.h"
#include "../measure/tpm.h"
#include "../measure/decisions.h"
#include "../common/file.h"

struct tg_api {
	struct tg_api_config cfg;
	struct tg_db *db;
	struct tg_metrics *m;
	/* The last attestation's records whose references (and their
	 * integrity findings) later attestations of the same model share, as
	 * `attest --batch` shares them: while no record has changed through
	 * trustgate (the tally of record-change rows is the same) and for at
	 * most integrity_interval seconds, after which the references and the
	 * whole records are checked against their history again (a change
	 * made outside trustgate is found within that time). */
	struct tg_attest_records refs;
	char refs_tally[32];
	struct timespec refs_at;
	bool has_refs;
	unsigned streams;       /* checks open as their uploads arrive */
};

/* Each check taken as its upload arrives holds 4 MiB of slots and a
 * thread until it ends: past this many at once in a worker, uploads are
 * spooled (a client opening hundreds does not take the worker's memory). */
#define MAX_STREAMS 8

const double tg_lat_bounds[TG_LAT_BUCKETS] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					       0.25, 0.5, 1, 2.5, 5, 10, 30 };

unsigned tg_role_bit(const char *role)
{
	static const struct { const char *n; unsigned b; } t[] = {
		{ "admin", ROLE_ADMIN }, { "procurement", ROLE_PROCUREMENT }, { "operator", ROLE_OPERATOR },
		{ "reviewer", ROLE_REVIEWER }, { "host", ROLE_HOST },
	};

	for (size_t i = 0; role && i < TG_ARRAY_SIZE(t); i++)
		if (strcmp(role, t[i].n) == 0)
			return t[i].b;
	return 0;
}

void tg_api_error(struct tg_request *rq, unsigned status, const char *fmt, ...)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rq->error, sizeof(rq->error), fmt, ap);
	va_end(ap);
	free(rq->body);
	tg_json_str(o, "error", rq->error);
	json_object_object_add(o, "status", json_object_new_int((int)status));
	/* One line: a client logging it line by line logs one error. */
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	rq->body_len = 0;
	if (asprintf(&rq->body, "%s\n", t) >= 0)
		rq->body_len = strlen(rq->body);
	else
		rq->body = NULL;
	rq->status = status;
	rq->content_type = "application/json";
}

/* A JSON document as the answer (the CLI's --json rendering). */
static void reply_json(struct tg_request *rq, unsigned status, struct json_object *o)
{
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	free(rq->body);
	rq->body_len = 0;
	if (asprintf(&rq->body, "%s\n", t) < 0) {
		rq->body = NULL;
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	rq->body_len = strlen(rq->body);
	rq->status = status;
	rq->content_type = "application/json";
}

void tg_api_scrub(struct tg_request *rq, char *msg)
{
	/* Paths of this appliance's spool are its business, not the caller's:
	 * "SPOOL/key" is said as "key" (the field's name). */
	if (rq->spool_dir) {
		size_t n = strlen(rq->spool_dir);
		for (char *p; (p = strstr(msg, rq->spool_dir));)
			memmove(p, p + n + (p[n] == '/'), strlen(p + n + (p[n] == '/')) + 1);
	}
}

/* An error of the core as an HTTP status: the caller's input (4xx) or the
 * appliance (5xx).  Nothing was recorded either way. */
static void reply_err(struct tg_request *rq, enum tg_err e, const struct tg_diag *d)
{
	unsigned st;

	switch (e) {
	case TG_E_USAGE:
	case TG_E_FORMAT:
	case TG_E_UNSUPPORTED:
		st = 422;
		break;
	case TG_E_LIMIT:
		st = 413;
		break;
	case TG_E_NOTFOUND:
		st = 404;
		break;
	case TG_E_EXISTS:
		st = 409;
		break;
	case TG_E_DB:
	case TG_E_IO:
	case TG_E_NOMEM:
	case TG_E_CRYPTO:
	case TG_E_TPM:
	default:
		st = e == TG_E_DB ? 503 : 500;
		break;
	}
	char msg[sizeof(d->msg)];
	snprintf(msg, sizeof(msg), "%s", d->msg[0] ? d->msg : tg_strerror(e));
	tg_api_scrub(rq, msg);
	tg_api_error(rq, st, "%s", msg);
}

static struct tg_field *field(struct tg_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->nfields; i++)
		if (strcmp(rq->fields[i].spec->name, name) == 0)
			return &rq->fields[i];
	return NULL;
}

static const char *field_text(struct tg_request *rq, const char *name)
{
	struct tg_field *f = field(rq, name);

	return f && f->data ? (const char *)f->data : NULL;
}

/* The context the core is called with: the caller is the actor; tier and
 * profile are the appliance's. */
static void core_ctx(struct tg_request *rq, struct tg_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->db_path = rq->api->cfg.db_path;
	ctx->actor = rq->actor;
	ctx->json = true;
	ctx->tier = rq->api->cfg.tier;
	ctx->cii = rq->api->cfg.cii;
	ctx->gm = rq->api->cfg.gm;
	ctx->argv0 = "trustgate-service";
}

/* ------------------------------------------------------------ handlers */

static void h_healthz(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct tg_diag d = { { 0 } };
	bool row = false;
	enum tg_err r = tg_db_prepare(rq->api->db, "SELECT max(version) FROM schema_version;", &st, &d);

	if (r == TG_OK)
		r = tg_db_step(rq->api->db, st, &row, &d);
	if (r != TG_OK || !row) {
		tg_api_error(rq, 503, "records unreadable: %s", d.msg);
		return;
	}
	tg_json_str(o, "status", "ok");
	json_object_object_add(o, "schema_version", json_object_new_int64(tg_db_col_int(st, 0)));
	reply_json(rq, 200, o);
}

static void h_whoami(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();

	tg_json_str(o, "name", rq->user.name);
	tg_json_str(o, "role", rq->user.role);
	tg_json_str(o, "host", rq->user.host);
	tg_json_str(o, "subject", rq->peer.subject);
	tg_json_str(o, "serial", rq->peer.serial);
	tg_json_str(o, "not_after", rq->user.not_after);
	reply_json(rq, 200, o);
}

static void metric_line(FILE *f, const char *name, const char *labels, double v)
{
	fprintf(f, "%s%s%s%s %.17g\n", name, labels ? "{" : "", labels ? labels : "", labels ? "}" : "", v);
}

static void h_metrics(struct tg_request *rq)
{
	struct tg_metrics *m = rq->api->m;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	static const char *const verdicts[4] = { "approved", "rejected", "trusted", "untrusted" };

	if (!f) {
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	fprintf(f, "# HELP trustgate_requests_total Requests answered, by route and status class.\n"
		   "# TYPE trustgate_requests_total counter\n");
	for (size_t i = 0; i < tg_api_route_count() && i < TG_METRIC_ROUTES; i++)
		for (int c = 1; c <= 5; c++) {
			char l[128];
			uint64_t v = __atomic_load_n(&m->requests[i][c], __ATOMIC_RELAXED);
			if (!v)
				continue;
			snprintf(l, sizeof(l), "route=\"%s\",code=\"%dxx\"", tg_api_route_name(i), c);
			metric_line(f, "trustgate_requests_total", l, (double)v);
		}
	fprintf(f, "# HELP trustgate_verdicts_total Verdicts recorded through the service, by result.\n"
		   "# TYPE trustgate_verdicts_total counter\n");
	for (int i = 0; i < 4; i++) {
		char l[64];
		snprintf(l, sizeof(l), "result=\"%s\"", verdicts[i]);
		metric_line(f, "trustgate_verdicts_total", l, (double)__atomic_load_n(&m->verdicts[i], __ATOMIC_RELAXED));
	}
	fprintf(f, "# HELP trustgate_request_duration_seconds Time from a request's headers to its answer.\n"
		   "# TYPE trustgate_request_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (int i = 0; i <= TG_LAT_BUCKETS; i++) {
		char l[64];
		cum += __atomic_load_n(&m->latency[i], __ATOMIC_RELAXED);
		if (i < TG_LAT_BUCKETS)
			snprintf(l, sizeof(l), "le=\"%g\"", tg_lat_bounds[i]);
		else
			snprintf(l, sizeof(l), "le=\"+Inf\"");
		metric_line(f, "trustgate_request_duration_seconds_bucket", l, (double)cum);
	}
	metric_line(f, "trustgate_request_duration_seconds_sum", NULL,
		    (double)__atomic_load_n(&m->latency_sum_us, __ATOMIC_RELAXED) / 1e6);
	metric_line(f, "trustgate_request_duration_seconds_count", NULL,
		    (double)__atomic_load_n(&m->latency_count, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_requests_in_flight Requests received and not yet answered (the queue).\n"
		   "# TYPE trustgate_requests_in_flight gauge\n");
	metric_line(f, "trustgate_requests_in_flight", NULL, (double)__atomic_load_n(&m->in_flight, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_connections Open client connections.\n# TYPE trustgate_connections gauge\n");
	metric_line(f, "trustgate_connections", NULL, (double)__atomic_load_n(&m->connections, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_slow_clients_total Connections cut for not finishing a request in time.\n"
		   "# TYPE trustgate_slow_clients_total counter\n");
	metric_line(f, "trustgate_slow_clients_total", NULL, (double)__atomic_load_n(&m->slow_clients, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_worker_restarts_total Worker processes restarted after dying.\n"
		   "# TYPE trustgate_worker_restarts_total counter\n");
	metric_line(f, "trustgate_worker_restarts_total", NULL,
		    (double)__atomic_load_n(&m->worker_restarts, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_webhook_deliveries_total Notification delivery attempts, by outcome.\n"
		   "# TYPE trustgate_webhook_deliveries_total counter\n");
	metric_line(f, "trustgate_webhook_deliveries_total", "outcome=\"delivered\"",
		    (double)__atomic_load_n(&m->webhook_delivered, __ATOMIC_RELAXED));
	metric_line(f, "trustgate_webhook_deliveries_total", "outcome=\"failed\"",
		    (double)__atomic_load_n(&m->webhook_failed, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_webhook_queue Notifications queued and not yet delivered.\n"
		   "# TYPE trustgate_webhook_queue gauge\n");
	metric_line(f, "trustgate_webhook_queue", NULL, (double)__atomic_load_n(&m->webhook_queue, __ATOMIC_RELAXED));
	fprintf(f, "# HELP trustgate_received_bytes_total Request body bytes received.\n"
		   "# TYPE trustgate_received_bytes_total counter\n");
	metric_line(f, "trustgate_received_bytes_total", NULL, (double)__atomic_load_n(&m->bytes_in, __ATOMIC_RELAXED));
	if (fclose(f) != 0) {
		free(buf);
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	free(rq->body);
	rq->body = buf;
	rq->body_len = len;
	rq->status = 200;
	rq->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

static enum tg_err add_supplier(const struct tg_supplier *s, void *ud)
{
	json_object_array_add(ud, tg_supplier_json(s));
	return TG_OK;
}

static void h_suppliers(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *arr = json_object_new_array();
	struct tg_diag d = { { 0 } };
	enum tg_err r = tg_rec_supplier_each(rq->api->db, add_supplier, arr, &d);

	if (r != TG_OK)
		reply_err(rq, r, &d);
	else
		reply_json(rq, 200, arr);
}

static enum tg_err add_host(const struct tg_host *h, void *ud)
{
	json_object_array_add(ud, tg_host_json(h));
	return TG_OK;
}

static void h_hosts(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *arr = json_object_new_array();
	struct tg_diag d = { { 0 } };
	enum tg_err r = tg_rec_host_each(rq->api->db, add_host, arr, &d);

	if (r != TG_OK)
		reply_err(rq, r, &d);
	else
		reply_json(rq, 200, arr);
}

enum tg_err tg_api_verdict_load(struct tg_request *rq, struct json_object **ret, struct tg_anchoring *a,
				struct tg_diag *d)
{
	int64_t id = 0;
	enum tg_err r = tg_evidence_parse_id(rq->arg, &id, d);

	if (r == TG_OK)
		r = tg_evidence_load(rq->api->db, id, ret, a, d);
	return r == TG_E_USAGE ? TG_E_NOTFOUND : r;
}

static void h_verdict(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_anchoring a;
	enum tg_err r = tg_api_verdict_load(rq, &o, &a, &d);

	if (r != TG_OK)
		reply_err(rq, r, &d);
	else
		reply_json(rq, 200, o);
}

/* GET /v1/verdicts/{id}/vsa and /ear: the verdict's signed twin made by
 * the appliance key, as `report --vsa` / `--ear` writes it; refused for a
 * verdict whose stored document no longer matches its audit row. */
static void verdict_signed(struct tg_request *rq, bool ear)
{
	_cleanup_json_ struct json_object *o = NULL;
	_cleanup_free_ char *text = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_anchoring a;
	enum tg_err r = tg_api_verdict_load(rq, &o, &a, &d);

	if (r != TG_OK) {
		reply_err(rq, r, &d);
		return;
	}
	if (!a.found || a.problem[0]) {
		tg_api_error(rq, 409, "verdict %s: %s", rq->arg, a.problem[0] ? a.problem : "no audit row");
		return;
	}
	r = tg_report_signed(rq->api->db, o, ear, &text, &d);
	if (r != TG_OK) {
		reply_err(rq, r, &d);
		return;
	}
	free(rq->body);
	rq->body_len = strlen(text);
	rq->body = text;
	text = NULL;
	rq->status = 200;
	rq->content_type = ear ? "application/jwt" : "application/json";
}

static void h_verdict_vsa(struct tg_request *rq) { verdict_signed(rq, false); }
static void h_verdict_ear(struct tg_request *rq) { verdict_signed(rq, true); }

/* GET /v1/audit?after=SEQ&limit=N: rows in order, a page at a time. */
static void h_audit(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *arr = json_object_new_array(), *o = json_object_new_object();
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	const char *after_s = rq->query(rq, "after"), *limit_s = rq->query(rq, "limit");
	struct tg_diag d = { { 0 } };
	long long after = 0, limit = 100, last = 0;
	char *end = NULL;
	bool row = false;
	enum tg_err r;

	if (after_s && (after = strtoll(after_s, &end, 10), !*after_s || *end || after < 0)) {
		tg_api_error(rq, 400, "after: a row number (0 or more)");
		return;
	}
	if (limit_s && (limit = strtoll(limit_s, &end, 10), !*limit_s || *end || limit < 1 || limit > 1000)) {
		tg_api_error(rq, 400, "limit: 1 to 1000");
		return;
	}
	r = tg_db_prepare(rq->api->db, "SELECT seq, time, actor, action, object, detail, hash FROM audit WHERE seq > ? "
				       "ORDER BY seq LIMIT ?;", &st, &d);
	if (r == TG_OK) {
		tg_db_bind_int(st, 1, after);
		tg_db_bind_int(st, 2, limit);
	}
	while (r == TG_OK && (r = tg_db_step(rq->api->db, st, &row, &d)) == TG_OK && row) {
		last = tg_db_col_int(st, 0);
		json_object_array_add(arr, tg_audit_row_json(st));
	}
	if (r != TG_OK) {
		reply_err(rq, r, &d);
		return;
	}
	json_object_object_add(o, "rows", json_object_get(arr));
	if ((long long)json_object_array_length(arr) == limit)
		json_object_object_add(o, "next", json_object_new_int64(last));
	reply_json(rq, 200, o);
}

static void h_audit_verify(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	bool ok = false;
	enum tg_err r = tg_audit_check(rq->api->db, &o, &ok, &d);

	if (r != TG_OK)
		reply_err(rq, r, &d);
	else
		reply_json(rq, 200, o);
}

/* A host certificate speaks for its own host only (and an operator or
 * admin for any). */
static bool own_host(struct tg_request *rq)
{
	if (!(tg_role_bit(rq->user.role) & ROLE_HOST))
		return true;
	if (rq->user.host && strcmp(rq->user.host, rq->arg) == 0)
		return true;
	tg_api_error(rq, 403, "this certificate speaks for host '%s', not '%s'", rq->user.host ? rq->user.host : "",
		     rq->arg);
	return false;
}

static void h_nonce(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = json_object_new_object();
	struct tg_diag d = { { 0 } };
	struct tg_host h = { 0 };
	char hex[65], iso[32];
	int64_t expires = 0;
	enum tg_err r;

	if (!tg_cli_name_ok(rq->arg)) {
		tg_api_error(rq, 404, "no such host");
		return;
	}
	if (!own_host(rq))
		return;
	r = tg_rec_host_get(rq->api->db, rq->arg, &h, &d);
	tg_host_release(&h);
	if (r == TG_OK)
		r = tg_nonce_issue(rq->api->cfg.nonce_key, rq->arg, rq->api->cfg.nonce_ttl, hex, &expires, &d);
	if (r != TG_OK) {
		reply_err(rq, r, &d);
		return;
	}
	tg_epoch_iso(expires, iso);
	tg_json_str(o, "host", rq->arg);
	tg_json_str(o, "nonce", hex);
	tg_json_str(o, "expires", iso);
	reply_json(rq, 200, o);
}

/* Inside the verdict's transaction: a nonce serves once, even between two
 * workers racing with one (BEGIN IMMEDIATE serialises them). */
static enum tg_err take_nonce(struct tg_db *db, void *ud, struct tg_diag *d)
{
	bool used = false;
	enum tg_err r = tg_nonce_used(db, ud, &used, d);

	return r == TG_OK && used ? tg_fail(d, TG_E_EXISTS, "nonce refused: the nonce was used already") : r;
}

static void render_json(FILE *o, const struct tg_attest_records *rec, const struct tg_attest_outcome *out, void *ud)
{
	tg_cli_fprint_json(o, out->report);
}

/* POST /v1/hosts/{name}/attestation: quote, sig, log, nonce (and pcrs)
 * as form fields; the nonce one this service issued to this host. */
struct attest_job {
	struct tg_attest_evidence ev;   /* its spans are the request's fields */
	struct tg_attest_records rec;
	struct tg_attest_outcome out;
	struct tg_ctx ctx;
	char nonce[129];
	char tally[32];
};

static void attest_job_free(struct attest_job *job)
{
	if (!job)
		return;
	tg_attest_records_release(&job->rec);
	tg_attest_outcome_release(&job->out);
	free(job);
}

static void h_attest(struct tg_request *rq)
{
	struct tg_attest_evidence ev = { 0 };
	struct tg_ctx ctx;
	struct tg_diag d = { { 0 } };
	struct tg_field *q = field(rq, "quote"), *s = field(rq, "sig"), *l = field(rq, "log"), *p = field(rq, "pcrs");
	const char *nonce_in = field_text(rq, "nonce");
	char nonce[129];
	const char *why = NULL;
	enum tg_err r;

	if (!tg_cli_name_ok(rq->arg)) {
		tg_api_error(rq, 404, "no such host");
		return;
	}
	if (!own_host(rq))
		return;
	uint8_t nb[64];
	size_t nl = 0;
	if (!nonce_in || !tg_hex_decode(nonce_in, nb, sizeof(nb), &nl) || nl == 0) {
		tg_api_error(rq, 400, "nonce: the hex nonce this service issued (POST /v1/hosts/%s/nonce)", rq->arg);
		return;
	}
	tg_hex_encode(nb, nl, nonce);
	/* Refused before anything is evaluated or written: a nonce of another
	 * host, an expired or foreign one.  A used one: when the records are
	 * loaded below, and again in the verdict's transaction (take_nonce). */
	tg_nonce_verify(rq->api->cfg.nonce_key, rq->arg, nonce, rq->api->cfg.nonce_ttl, &why);
	if (why) {
		tg_api_error(rq, 409, "nonce refused: %s", why);
		return;
	}
	ev.host = rq->arg;
	ev.msg = tg_span_make(q->data, q->len);
	ev.sig = tg_span_make(s->data, s->len);
	ev.log = tg_span_make(l->data, l->len);
	if (p && p->data)
		ev.pcrs = tg_span_make(p->data, p->len);
	ev.msg_what = "quote";
	ev.sig_what = "sig";
	ev.log_what = "log";
	ev.pcrs_what = "pcrs";
	memcpy(ev.nonce, nb, nl);
	ev.nonce_len = nl;
	ev.nonce_hex = nonce;
	/* Every measurement of the boot PCRs must be a reference value, as
	 * `attest` requires by default: with none required, a quote and log
	 * that agree were TRUSTED whatever they measured. */
	ev.required = TG_ATTEST_DEFAULT_PCRS;
	core_ctx(rq, &ctx);
	struct tg_api *api = rq->api;
	struct attest_job *job = tg_calloc(1, sizeof(*job));
	const struct tg_attest_records *same = NULL;
	_cleanup_free_ char *tally = NULL;
	if (!job) {
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	r = tg_db_meta_get(api->db, "audit_record_rows", &tally, &d);
	if (r != TG_OK) {
		free(job);
		reply_err(rq, r, &d);
		return;
	}
	snprintf(job->tally, sizeof(job->tally), "%s", tally ? tally : "");
	if (api->has_refs && tally && strcmp(tally, api->refs_tally) == 0 &&
	    tg_seconds_since(&api->refs_at) < api->cfg.integrity_interval)
		same = &api->refs;
	job->ev = ev;
	snprintf(job->nonce, sizeof(job->nonce), "%s", nonce);
	job->ev.nonce_hex = job->nonce;
	job->ctx = ctx;
	/* Evaluated now, outside any transaction; recorded with the others of
	 * this turn of the event loop (tg_api_group_commit). */
	r = tg_attest_prepare(&job->ctx, api->db, &job->ev, same, &job->rec, &job->out, &d);
	if (r != TG_OK) {
		attest_job_free(job);
		reply_err(rq, r, &d);
		return;
	}
	/* The records' answer to "was this nonce used" (this host's
	 * attestations; the service's nonces are bound to the host). */
	if (job->rec.nonce_used) {
		attest_job_free(job);
		tg_api_error(rq, 409, "nonce refused: the nonce was used already");
		return;
	}
	/* A host's certificate is bound to the AK it enrolled with: the
	 * records' AK (as just loaded for the decision) must still be it. */
	const struct tg_host *h = &job->rec.host;
	if ((tg_role_bit(rq->user.role) & ROLE_HOST) &&
	    (!job->rec.have_host || !h->ak_fingerprint || !rq->user.ak_fingerprint ||
	     strcmp(h->ak_fingerprint, rq->user.ak_fingerprint) != 0)) {
		attest_job_free(job);
		tg_api_error(rq, 403, "this certificate was issued for another AK of host '%s'", rq->arg);
		return;
	}
	rq->job = job;
	rq->pending = true;
}

/* The name recorded: the upload's file name, when it is a name. */
static void upload_name(const struct tg_field *f, char *name, size_t size)
{
	snprintf(name, size, "%s", f->filename[0] && tg_cli_name_ok(f->filename) ? f->filename : "upload");
}

/* POST /v1/check: file (and sig, product, version) as form fields; the
 * verdict document of `check --json`, byte for byte.  With sig sent before
 * file, a blob is checked as it arrives (stream_decide), not spooled. */
static void h_check(struct tg_request *rq)
{
	struct tg_field *f = field(rq, "file"), *s = field(rq, "sig");
	struct tg_check_input in = { 0 };
	struct tg_ctx ctx;
	struct tg_diag d = { { 0 } };
	char name[256];
	bool approved = false;
	char *json = NULL;
	size_t len = 0;

	upload_name(f, name, sizeof(name));
	in.file = f->path;
	in.name = name;
	in.sig = s && s->path ? s->path : NULL;
	in.product = field_text(rq, "product");
	in.version = field_text(rq, "version");
	if ((in.product && !tg_cli_name_ok(in.product)) || (in.version && !tg_cli_text_ok(in.version, TG_MAX_NAME))) {
		tg_api_error(rq, 400, "product and version: names (UTF-8, printable, no '/')");
		return;
	}
	core_ctx(rq, &ctx);
	enum tg_err r = f->stream ? tg_check_stream_finish(f->stream, in.product, in.version, &approved, &json, &len, &d) :
				    tg_check_run(&ctx, rq->api->db, &in, &approved, &json, &len, &d);
	if (r != TG_OK) {
		tg_out_discard();
		reply_err(rq, r, &d);
		return;
	}
	free(rq->body);
	rq->body = json;
	rq->body_len = len;
	rq->status = 200;
	rq->content_type = "application/json";
	rq->verdict = approved ? 0 : 1;
}

/* GET /v1/appliance/attestation?nonce=HEX: the appliance's own quote of
 * PCRs 0-7 and 15 over the caller's nonce, with its boot event log and its
 * decision log (PCR 15 is extended with every verdict it records), so that
 * a relying party verifies the appliance -- `trustgate quote verify` on the
 * files, or any TPM verifier -- before trusting its verdicts. */
static void b64_field(struct json_object *o, const char *key, const uint8_t *p, size_t n)
{
	char *b = tg_base64_encode(p, n);

	tg_json_str(o, key, b);
	free(b);
}

static void h_appliance_attestation(struct tg_request *rq)
{
	static const char *const boot_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
	_cleanup_json_ struct json_object *o = json_object_new_object();
	_cleanup_free_ char *dlog = NULL;
	_cleanup_free_ uint8_t *logb = NULL, *decb = NULL;
	const char *nonce = rq->query(rq, "nonce");
	struct tg_tpm *tpm = NULL;
	struct tg_tpm_quote q = { 0 };
	struct tg_diag d = { { 0 } };
	uint8_t nb[64];
	size_t nl = 0, logl = 0, decl = 0;
	uint32_t mask = TG_ATTEST_DEFAULT_PCRS | 1u << TG_DECISION_PCR;
	enum tg_err r;

	if (!nonce || !tg_hex_decode(nonce, nb, sizeof(nb), &nl) || nl < 16) {
		tg_api_error(rq, 400, "nonce: 16 to 64 bytes of hex, chosen by the relying party");
		return;
	}
	if (!rq->api->cfg.tpm) {
		tg_api_error(rq, 501, "this service was started without a TPM (serve --tpm TCTI)");
		return;
	}
	r = tg_db_local_get(rq->api->db, "decision_log", &dlog, &d);
	/* No decision log yet is no decision yet (the first verdict makes
	 * it); a log removed after decisions were measured does not replay
	 * against the quoted PCR 15, which the relying party sees. */
	if (r == TG_OK && dlog && !(access(dlog, F_OK) != 0 && errno == ENOENT))
		r = tg_file_read(dlog, TG_MAX_EVENTLOG, &decb, &decl, &d);
	if (r == TG_OK && access(boot_log, R_OK) == 0)
		r = tg_file_read_stream(boot_log, TG_MAX_EVENTLOG, &logb, &logl, &d);
	/* One log, as `quote --decisions` writes a bundle: the decisions
	 * (PCR 15) after the boot events, so the quote replays both. */
	if (r == TG_OK && decb && (r = tg_decision_log_join(&logb, &logl, decb, decl)) == TG_E_FORMAT)
		r = tg_fail(&d, TG_E_FORMAT, "%s: not a trustgate decision log", dlog);
	if (r == TG_OK)
		r = tg_tpm_open(rq->api->cfg.tpm, &tpm, &d);
	if (r == TG_OK)
		r = tg_tpm_quote(tpm, false, nb, nl, mask, &q, &d);
	tg_tpm_close(tpm);
	if (r != TG_OK) {
		tg_tpm_quote_release(&q);
		tg_api_error(rq, 503, "the appliance cannot quote now: %s", d.msg);
		return;
	}
	char hex[65], idx[4];
	struct json_object *bank = json_object_new_object(), *pcrs = json_object_new_object();
	for (int i = 0; i < 24; i++)
		if (mask & (1u << i)) {
			tg_hex_encode(q.pcr[i], 32, hex);
			snprintf(idx, sizeof(idx), "%d", i);
			json_object_object_add(bank, idx, json_object_new_string(hex));
		}
	json_object_object_add(pcrs, "sha256", bank);
	tg_json_str(o, "nonce", nonce);
	b64_field(o, "attest", q.attest, q.attest_len);
	b64_field(o, "sig", q.sig, q.sig_len);
	b64_field(o, "ak_tpm2b", q.ak_public, q.ak_public_len);
	json_object_object_add(o, "pcrs", pcrs);
	if (logb)
		b64_field(o, "eventlog", logb, logl);
	tg_tpm_quote_release(&q);
	reply_json(rq, 200, o);
}

/* ------------------------------------------------------------- routes */

static const struct tg_field_spec check_fields[] = {
	{ "file", 0, TG_FIELD_STREAM, true }, /* max: the configured upload limit */
	{ "sig", TG_MAX_SIG_FILE, true, false },
	{ "product", TG_MAX_NAME, false, false },
	{ "version", TG_MAX_NAME, false, false },
	{ NULL, 0, false, false },
};

static const struct tg_field_spec attest_fields[] = {
	{ "quote", sizeof(TPM2B_ATTEST) + 2, false, true },
	{ "sig", sizeof(TPMT_SIGNATURE) + 16, false, true },
	{ "log", TG_MAX_EVENTLOG, false, true },
	{ "pcrs", 1024 * 1024, false, false },
	{ "nonce", 130, false, true },
	{ NULL, 0, false, false },
};

#define TEXT(n) { n, TG_MAX_NAME * 4, false, false }
static const struct tg_field_spec supplier_fields[] = {
	TEXT("name"), TEXT("country"), TEXT("max_tier"), TEXT("cii"), TEXT("no_cii"), TEXT("review"),
	TEXT("review_expires"), TEXT("status"), { "reason", TG_MAX_REASON, false, false }, { NULL, 0, false, false },
};
static const struct tg_field_spec key_fields[] = {
	TEXT("supplier"), { "key", TG_MAX_KEY_FILE, true, false }, TEXT("purpose"), TEXT("hash"), TEXT("name"),
	TEXT("not_before"), TEXT("not_after"), { "reason", TG_MAX_REASON, false, false }, { NULL, 0, false, false },
};
static const struct tg_field_spec reason_fields[] = {
	{ "reason", TG_MAX_REASON, false, false }, { NULL, 0, false, false },
};
static const struct tg_field_spec product_fields[] = {
	TEXT("supplier"), TEXT("name"), TEXT("kind"), TEXT("max_tier"), TEXT("min_version"), TEXT("guid"), TEXT("allow"),
	{ "reason", TG_MAX_REASON, false, false }, { NULL, 0, false, false },
};
static const struct tg_field_spec release_fields[] = {
	TEXT("supplier"), TEXT("product"), TEXT("version"), { "file", 0, true, false }, TEXT("digest"),
	{ "reason", TG_MAX_REASON, false, false }, { NULL, 0, false, false },
};
static const struct tg_field_spec reference_fields[] = {
	{ "eventlog", TG_MAX_EVENTLOG, true, false }, TEXT("model"), { "reason", TG_MAX_REASON, false, false },
	{ NULL, 0, false, false },
};
static const struct tg_field_spec enroll_fields[] = {
	TEXT("name"), { "ak", TG_MAX_KEY_FILE, true, false }, { "ek", TG_MAX_KEY_FILE, true, false }, TEXT("model"),
	TEXT("secret"), TEXT("no_challenge"), { "reason", TG_MAX_REASON, false, false }, { "csr", 64 * 1024, true, false },
	{ NULL, 0, false, false },
};

static const struct tg_field_spec challenge_fields[] = {
	{ "ak", TG_MAX_KEY_FILE, true, true }, { "ek", TG_MAX_KEY_FILE, true, true }, { NULL, 0, false, false },
};

static const struct tg_route routes[] = {
	{ "GET", "/healthz", ROLE_ANY, BODY_NONE, NULL, h_healthz, "healthz" },
	{ "GET", "/metrics", ROLE_ADMIN | ROLE_OPERATOR | ROLE_REVIEWER, BODY_NONE, NULL, h_metrics, "metrics" },
	{ "GET", "/v1/whoami", ROLE_ANY, BODY_NONE, NULL, h_whoami, "whoami" },
	{ "GET", "/v1/suppliers", ROLE_PEOPLE, BODY_NONE, NULL, h_suppliers, "suppliers" },
	{ "GET", "/v1/hosts", ROLE_ADMIN | ROLE_OPERATOR | ROLE_REVIEWER, BODY_NONE, NULL, h_hosts, "hosts" },
	{ "POST", "/v1/check", ROLE_ADMIN | ROLE_PROCUREMENT, BODY_FORM, check_fields, h_check, "check" },
	{ "GET", "/v1/verdicts/{}", ROLE_PEOPLE, BODY_NONE, NULL, h_verdict, "verdict" },
	{ "GET", "/v1/verdicts/{}/vsa", ROLE_PEOPLE, BODY_NONE, NULL, h_verdict_vsa, "verdict_vsa" },
	{ "GET", "/v1/verdicts/{}/ear", ROLE_PEOPLE, BODY_NONE, NULL, h_verdict_ear, "verdict_ear" },
	{ "GET", "/v1/audit", ROLE_ADMIN | ROLE_REVIEWER, BODY_NONE, NULL, h_audit, "audit" },
	{ "GET", "/v1/audit/verify", ROLE_ADMIN | ROLE_REVIEWER, BODY_NONE, NULL, h_audit_verify, "audit_verify" },
	{ "POST", "/v1/hosts/{}/nonce", ROLE_ADMIN | ROLE_OPERATOR | ROLE_HOST, BODY_NONE, NULL, h_nonce, "nonce" },
	{ "POST", "/v1/hosts/{}/attestation", ROLE_ADMIN | ROLE_OPERATOR | ROLE_HOST, BODY_FORM, attest_fields,
	  h_attest, "attestation" },
	/* Changes to the records: who may make each is the issue's role table. */
	{ "POST", "/v1/suppliers", ROLE_ADMIN, BODY_FORM, supplier_fields, tg_mutate, "supplier_add" },
	{ "POST", "/v1/suppliers/{}", ROLE_ADMIN, BODY_FORM, supplier_fields, tg_mutate, "supplier_set" },
	{ "POST", "/v1/keys", ROLE_ADMIN, BODY_FORM, key_fields, tg_mutate, "key_add" },
	{ "POST", "/v1/keys/{}/revoke", ROLE_ADMIN, BODY_FORM, reason_fields, tg_mutate, "key_revoke" },
	{ "POST", "/v1/products", ROLE_ADMIN, BODY_FORM, product_fields, tg_mutate, "product_add" },
	{ "POST", "/v1/releases", ROLE_ADMIN | ROLE_PROCUREMENT, BODY_FORM, release_fields, tg_mutate, "release_add" },
	{ "POST", "/v1/references", ROLE_ADMIN | ROLE_OPERATOR, BODY_FORM, reference_fields, tg_mutate,
	  "reference_import" },
	{ "POST", "/v1/hosts", ROLE_ADMIN | ROLE_OPERATOR, BODY_FORM, enroll_fields, tg_mutate, "host_enroll" },
	{ "POST", "/v1/hosts/{}/challenge", ROLE_ADMIN | ROLE_OPERATOR, BODY_FORM, challenge_fields, tg_mutate,
	  "host_challenge" },
	{ "GET", "/v1/appliance/attestation", ROLE_ANY, BODY_NONE, NULL, h_appliance_attestation, "appliance" },
	{ "GET", "/ui", ROLE_PEOPLE, BODY_NONE, NULL, tg_ui_home, "ui" },
	{ "GET", "/ui/verdicts/{}", ROLE_PEOPLE, BODY_NONE, NULL, tg_ui_verdict, "ui_verdict" },
};

bool tg_api_route_groups(const struct tg_route *r)
{
	return r && r->fn == h_attest;
}

/* Record the group's attestations in one transaction (each a savepoint:
 * one refused, say for a nonce used meanwhile by another worker, leaves the
 * others), render each verdict, commit with one sync.  Then the freshest
 * loaded references become the ones later attestations share. */
enum tg_err tg_api_group_commit(struct tg_api *api, struct tg_request **rqs, size_t n, struct tg_diag *d)
{
	struct attest_job *fresh = NULL;
	enum tg_err r;

	if (n == 0)
		return TG_OK;
	r = tg_db_begin(api->db, d);
	for (size_t i = 0; r == TG_OK && i < n; i++) {
		struct tg_request *rq = rqs[i];
		struct attest_job *job = rq->job;
		struct tg_diag d1 = { { 0 } };
		enum tg_err e = tg_attest_commit(&job->ctx, api->db, &job->ev, take_nonce, job->nonce, render_json, NULL,
						 &job->rec, &job->out, &d1);
		if (e == TG_OK) {
			size_t len = 0;
			free(rq->body);
			rq->body = tg_out_take(&len);
			rq->body_len = len;
			rq->status = 200;
			rq->content_type = "application/json";
			rq->verdict = job->out.v.approved ? 2 : 3;
			if (!job->rec.refs_shared && job->rec.have_host && job->rec.host.model && job->tally[0])
				fresh = job;
		} else {
			tg_out_discard();
			if (e == TG_E_EXISTS)
				tg_api_error(rq, 409, "%s", d1.msg);
			else
				reply_err(rq, e, &d1);
		}
	}
	if (r == TG_OK)
		r = tg_db_commit(api->db, d);
	else
		tg_db_rollback(api->db);
	for (size_t i = 0; i < n; i++)
		if (r != TG_OK) {
			tg_api_error(rqs[i], 503, "the verdict could not be recorded: %s", d->msg);
			rqs[i]->verdict = -1;
		}
	if (r == TG_OK && fresh && api->cfg.integrity_interval) {
		/* Every job of this group is recorded: none uses the old
		 * shared references any more. */
		tg_attest_records_release(&api->refs);
		api->refs = fresh->rec;
		memset(&fresh->rec, 0, sizeof(fresh->rec));
		snprintf(api->refs_tally, sizeof(api->refs_tally), "%s", fresh->tally);
		clock_gettime(CLOCK_MONOTONIC, &api->refs_at);
		api->has_refs = true;
	}
	return r;
}

size_t tg_api_route_count(void)
{
	return TG_ARRAY_SIZE(routes);
}

size_t tg_api_route_index(const struct tg_route *r)
{
	return r ? (size_t)(r - routes) : TG_METRIC_ROUTES - 1;
}

const char *tg_api_route_name(size_t i)
{
	return i < TG_ARRAY_SIZE(routes) ? routes[i].name : "none";
}

/* Does path match pattern, segment by segment ("{}" takes one non-empty
 * segment into arg)?  The path is already percent-decoded: an encoded '/'
 * in a name makes more segments and matches nothing (no traversal). */
static bool path_match(const char *pattern, const char *path, char arg[256])
{
	const char *p = pattern, *s = path;

	while (*p && *s) {
		if (p[0] == '{' && p[1] == '}') {
			size_t n = strcspn(s, "/");
			if (n == 0 || n >= 256)
				return false;
			memcpy(arg, s, n);
			arg[n] = 0;
			p += 2;
			s += n;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return !*p && !*s;
}

const struct tg_route *tg_api_route(const char *method, const char *path, char arg[256], unsigned *status)
{
	bool path_known = false;

	*status = 404;
	for (size_t i = 0; i < TG_ARRAY_SIZE(routes); i++) {
		if (!path_match(routes[i].pattern, path, arg))
			continue;
		path_known = true;
		if (strcmp(routes[i].method, method) == 0)
			return &routes[i];
	}
	if (path_known)
		*status = 405;
	return NULL;
}

/* ------------------------------------------------------------ requests */

enum tg_err tg_api_open(const struct tg_api_config *cfg, struct tg_metrics *m, struct tg_api **ret, struct tg_diag *d)
{
	struct tg_api *api = tg_calloc(1, sizeof(*api));
	enum tg_err r;

	if (!api)
		return TG_E_NOMEM;
	api->cfg = *cfg;
	api->m = m;
	/* Anchored records (an appliance: `audit anchor`) are anchored and
	 * their decisions measured into PCR 15 by the service as by the CLI. */
	r = tg_cli_open_db_path(cfg->db_path, &api->db, d);
	if (r == TG_OK)
		r = tg_db_tune_resident(api->db, d);
	if (r != TG_OK) {
		tg_db_close(api->db);
		free(api);
		return r;
	}
	*ret = api;
	return TG_OK;
}

void tg_api_close(struct tg_api *api)
{
	if (!api)
		return;
	tg_attest_records_release(&api->refs);
	tg_db_close(api->db);
	free(api);
}

struct tg_metrics *tg_api_metrics(struct tg_api *api)
{
	return api->m;
}

struct tg_db *tg_api_db(struct tg_api *api)
{
	return api->db;
}

const char *tg_api_db_path(struct tg_api *api)
{
	return api->cfg.db_path;
}

const char *tg_api_db_display(struct tg_api *api)
{
	return api->db->path;
}

const char *tg_api_ca_dir(struct tg_api *api)
{
	return api->cfg.ca_dir;
}

bool tg_api_admit(struct tg_api *api, struct tg_request *rq)
{
	struct tg_diag d = { { 0 } };
	enum tg_err r = tg_user_by_fingerprint(api->db, rq->peer.fingerprint, &rq->user, &d);

	if (r == TG_E_NOTFOUND) {
		tg_api_error(rq, 403, "this certificate is not one the records know");
		return false;
	}
	if (r != TG_OK) {
		tg_api_error(rq, 503, "records unreadable: %s", d.msg);
		return false;
	}
	/* The role the CA signed and the role the records hold must agree: a
	 * row changed behind the service's back grants nothing. */
	if (rq->user.revoked_at) {
		tg_api_error(rq, 403, "certificate of '%s' was revoked at %s", rq->user.name, rq->user.revoked_at);
		return false;
	}
	if (strcmp(rq->user.role, rq->peer.role) != 0 || strcmp(rq->user.name, rq->peer.name) != 0 ||
	    strcmp(rq->user.serial, rq->peer.serial) != 0) {
		tg_api_error(rq, 403, "certificate and records disagree about '%s'", rq->peer.name);
		return false;
	}
	snprintf(rq->actor, sizeof(rq->actor), "%s", rq->peer.subject);
	return true;
}

static bool spool_open(struct tg_request *rq, struct tg_field *f)
{
	if (!rq->spool_dir) {
		char *t = NULL;
		if (asprintf(&t, "%s/trustgate-upload-XXXXXX", rq->api->cfg.spool) < 0)
			return false;
		if (!mkdtemp(t)) {
			free(t);
			tg_api_error(rq, 503, "cannot receive uploads now (spool: %s)", strerror(errno));
			return false;
		}
		rq->spool_dir = t;
	}
	if (asprintf(&f->path, "%s/%s", rq->spool_dir, f->spec->name) < 0) {
		f->path = NULL;
		return false;
	}
	f->fd = open(f->path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	rq->upload = "spooled";
	if (f->fd < 0) {
		tg_api_error(rq, 503, "cannot receive uploads now (spool: %s)", strerror(errno));
		return false;
	}
	return true;
}

#define SPOOL_CHUNK (1u << 20)

static bool spool_flush(struct tg_request *rq, struct tg_field *f)
{
	for (size_t done = 0; done < f->wlen;) {
		ssize_t w = write(f->fd, f->wbuf + done, f->wlen - done);
		if (w <= 0) {
			tg_api_error(rq, 507, "cannot store the upload: %s", strerror(errno));
			return false;
		}
		done += (size_t)w;
	}
	f->wlen = 0;
	return true;
}

/* A spooled field's gathered bytes closed into its file. */
static bool spool_close(struct tg_request *rq, struct tg_field *f)
{
	if (f->fd < 0)
		return true;
	if (f->wlen && !spool_flush(rq, f))
		return false;
	int fd = f->fd;
	f->fd = -1;
	if (close(fd) < 0) {
		tg_api_error(rq, 507, "cannot store the upload: %s", strerror(errno));
		return false;
	}
	return true;
}

/* At the first 1 MiB of check's file: when the signature came before it
 * and the check core can decide this file in one pass as it arrives, the
 * file is not written at all (receiving 1 GiB cost more in page-cache
 * copies than the check itself); otherwise it is spooled as before. */
static bool stream_decide(struct tg_request *rq, struct tg_field *f)
{
	struct tg_field *sf = field(rq, "sig");
	struct tg_diag d = { { 0 } };
	struct tg_ctx ctx;
	char name[256];

	f->stream_decided = true;
	if (!sf || sf == f || !sf->path || !spool_close(rq, sf))
		return !rq->error[0];
	if (rq->api->streams >= MAX_STREAMS)
		return true;
	upload_name(f, name, sizeof(name));
	struct tg_check_input in = { .name = name, .sig = sf->path };
	core_ctx(rq, &ctx);
	enum tg_err r = tg_check_stream_open(&ctx, rq->api->db, &in, f->wbuf, f->wlen, &f->stream, &d);
	if (r != TG_OK) {
		reply_err(rq, r, &d);
		return false;
	}
	if (f->stream) {
		rq->api->streams++;
		rq->upload = "streamed";
		close(f->fd);
		f->fd = -1;
		unlink(f->path);
		free(f->path);
		f->path = NULL;
	}
	return true;
}

static bool stream_feed(struct tg_request *rq, struct tg_field *f, const void *p, size_t n)
{
	struct tg_diag d = { { 0 } };
	enum tg_err r = tg_check_stream_feed(f->stream, p, n, &d);

	if (r != TG_OK)
		reply_err(rq, r, &d);
	return r == TG_OK;
}

/* A full gathering buffer: to the check as it arrives, or to the file. */
static bool field_flush(struct tg_request *rq, struct tg_field *f)
{
	if (f->spec->file == TG_FIELD_STREAM && !f->stream_decided && !stream_decide(rq, f))
		return false;
	if (!f->stream)
		return spool_flush(rq, f);
	size_t n = f->wlen;
	f->wlen = 0;
	return stream_feed(rq, f, f->wbuf, n);
}

bool tg_api_field(struct tg_request *rq, const char *key, const char *filename, const char *data, uint64_t off,
		  size_t size)
{
	const struct tg_field_spec *spec = NULL;
	struct tg_field *f;

	for (const struct tg_field_spec *s = rq->route->fields; s && s->name; s++)
		if (key && strcmp(s->name, key) == 0)
			spec = s;
	if (!spec) {
		char shown[64];
		tg_text_quote(key ? key : "", shown, sizeof(shown));
		tg_api_error(rq, 400, "unknown form field '%s'", shown);
		return false;
	}
	f = field(rq, key);
	if (f && off == 0 && f->seen && (f->len || size)) {
		/* Two values of one field: which would be checked? Neither. */
		tg_api_error(rq, 400, "form field '%s' given twice", key);
		return false;
	}
	if (!f) {
		if (rq->nfields >= TG_API_MAX_FIELDS) {
			tg_api_error(rq, 400, "too many form fields");
			return false;
		}
		f = &rq->fields[rq->nfields++];
		f->spec = spec;
		f->fd = -1;
		if (filename)
			snprintf(f->filename, sizeof(f->filename), "%s", filename);
		if (spec->file && !spool_open(rq, f)) {
			if (!rq->error[0])
				tg_api_error(rq, 500, "out of memory");
			return false;
		}
	}
	f->seen = true;
	uint64_t max = spec->max ? spec->max : rq->api->cfg.max_upload;
	if (f->len + size > max) {
		tg_api_error(rq, 413, "form field '%s' is over its limit of %llu bytes", key, (unsigned long long)max);
		return false;
	}
	if (f->stream) {
		if (!stream_feed(rq, f, data, size))
			return false;
	} else if (spec->file) {
		/* The form parser hands over a few KiB at a time: gathered into
		 * 1 MiB writes, not a system call each. */
		if (!f->wbuf && !(f->wbuf = malloc(SPOOL_CHUNK))) {
			tg_api_error(rq, 500, "out of memory");
			return false;
		}
		for (size_t done = 0; done < size;) {
			size_t take = size - done < SPOOL_CHUNK - f->wlen ? size - done : SPOOL_CHUNK - f->wlen;
			memcpy(f->wbuf + f->wlen, data + done, take);
			f->wlen += take;
			done += take;
			if (f->wlen == SPOOL_CHUNK && !field_flush(rq, f))
				return false;
			/* Checked as it arrives from here on: the rest directly. */
			if (f->stream && done < size) {
				if (!stream_feed(rq, f, data + done, size - done))
					return false;
				break;
			}
		}
	} else {
		uint8_t *n = realloc(f->data, f->len + size + 1);
		if (!n) {
			tg_api_error(rq, 500, "out of memory");
			return false;
		}
		f->data = n;
		memcpy(f->data + f->len, data, size);
		f->data[f->len + size] = 0;
	}
	f->len += size;
	return true;
}

void tg_api_handle(struct tg_request *rq)
{
	for (const struct tg_field_spec *s = rq->route->fields; s && s->name; s++) {
		struct tg_field *f = field(rq, s->name);
		if (s->required && (!f || f->len == 0)) {
			tg_api_error(rq, 400, "form field '%s' is required", s->name);
			return;
		}
	}
	for (size_t i = 0; i < rq->nfields; i++) {
		struct tg_field *f = &rq->fields[i];
		if (f->stream ? f->wlen && !field_flush(rq, f) : !spool_close(rq, f))
			return;
	}
	rq->route->fn(rq);
}

void tg_api_request_release(struct tg_request *rq)
{
	for (size_t i = 0; i < rq->nfields; i++) {
		struct tg_field *f = &rq->fields[i];
		if (f->fd >= 0)
			close(f->fd);
		if (f->path)
			unlink(f->path);
		free(f->path);
		free(f->data);
		free(f->wbuf);
		if (f->stream) {
			tg_check_stream_free(f->stream);
			rq->api->streams--;
		}
	}
	if (rq->spool_dir)
		rmdir(rq->spool_dir);
	attest_job_free(rq->job);
	free(rq->spool_dir);
	free(rq->body);
	tg_user_release(&rq->user);
	free(rq);
}
