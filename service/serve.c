/*
 * trustgate serve: HTTPS (libmicrohttpd + GnuTLS), mutual TLS only.
 *
 * Processes: a supervisor binds the socket and starts one worker process
 * per core; each worker runs its own libmicrohttpd daemon on the shared
 * socket, single-threaded, with its own connection to the records.  The
 * core (check, attest, the records) then runs in-process exactly as in the
 * CLI, and a crash while judging one request kills one worker — the
 * supervisor starts another; a verdict is recorded in one transaction or
 * not at all.
 *
 *   SIGTERM/SIGINT  workers stop accepting, finish the requests they have,
 *                   and exit; then the supervisor
 *   SIGHUP          the certificates and the CRL are read again; a new
 *                   set of workers starts with them and the old ones drain
 *
 * Every request: the client certificate is verified against the CA and the
 * CRL (libmicrohttpd only asks for it), the records must know it, in
 * force, with the role it names; then the route's role check; then the
 * body, within its limits.  One JSON line per request goes to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include <microhttpd.h>

#include "service.h"
#include "api.h"
#include "notifier.h"
#include "../verifier/appliance.h"
#include "../common/crypto.h"
#include "../common/text.h"
#include "../common/file.h"

struct serve_config {
	const char *listen, *ca_dir, *spool, *log_path, *webhook, *webhook_ca;
	unsigned workers, conn_limit, per_ip, idle_timeout, header_timeout, request_timeout, grace;
	uint64_t max_upload;
	struct tg_api_config api;
};

/* One TCP connection (libmicrohttpd's socket context). */
struct conn {
	struct conn *next, *prev;
	struct MHD_Connection *c;
	struct timespec phase;        /* connection start, or the end of its last request */
	struct timespec req_start;    /* headers complete (the request began) */
	unsigned requests;
	bool in_request, cut;
	char ip[INET6_ADDRSTRLEN];
	/* The client certificate this connection presented, as verified
	 * (chain, validity, CRL) for its first request: later requests on the
	 * connection with the same certificate reuse that, one with another
	 * (a renegotiation) is verified again.  Revocation in the records is
	 * still checked on every request (tg_api_admit). */
	uint8_t *peer_der;
	size_t peer_len;
	struct tg_peer peer;
	struct timespec verified_at;
};

struct worker {
	const struct serve_config *cfg;
	struct tg_trust *trust;
	struct tg_api *api;
	struct tg_metrics *m;
	struct MHD_Daemon *d;
	struct conn *conns;
	struct req_state **pending;   /* attestations recorded in the open group, suspended */
	size_t npending, cap_pending;
	long active;                  /* requests begun, not completed */
};

/* What the access handler keeps per request (con_cls). */
struct req_state {
	struct tg_request *rq;
	struct MHD_PostProcessor *pp;
	struct timespec start, received;  /* headers complete; body complete */
	uint64_t bytes, discard_until;
	bool answered, failed, committed;
	struct conn *conn;
	struct MHD_Connection *c;
	struct worker *w;
};

volatile sig_atomic_t tg_service_stop;

/* How much of a refused body is still read so that its answer reaches the
 * client (libmicrohttpd cannot answer before the body is consumed). */
#define DISCARD_MAX (16u << 20)

/* ----------------------------------------------------------- logging */

/* The service's log: one JSON object per line on stderr, begun with the
 * time and written with one write(2), so that lines of the supervisor and
 * its workers never interleave. */
static struct json_object *log_begin(void)
{
	struct json_object *o = json_object_new_object();
	char now[32];

	tg_now_iso(now);
	tg_json_str(o, "time", now);
	return o;
}

static void log_emit(struct json_object *o)
{
	_cleanup_free_ char *line = NULL;
	const char *t = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	if (asprintf(&line, "%s\n", t) > 0 && write(2, line, strlen(line)) < 0) {
		/* nowhere left to say it */
	}
}

/* One line per request. */
static void log_request(struct req_state *rs, unsigned status)
{
	_cleanup_json_ struct json_object *o = log_begin();
	struct tg_request *rq = rs->rq;

	json_object_object_add(o, "worker", json_object_new_int((int)getpid()));
	tg_json_str(o, "client", rs->conn ? rs->conn->ip : NULL);
	tg_json_str(o, "method", rq ? rq->method : NULL);
	tg_json_str(o, "path", rq ? rq->path : NULL);
	json_object_object_add(o, "status", json_object_new_int((int)status));
	tg_json_str(o, "actor", rq && rq->actor[0] ? rq->actor : NULL);
	tg_json_str(o, "role", rq && rq->user.role ? rq->user.role : NULL);
	json_object_object_add(o, "bytes_in", json_object_new_int64((int64_t)rs->bytes));
	json_object_object_add(o, "bytes_out", json_object_new_int64(rq ? (int64_t)rq->body_len : 0));
	char ms[32];
	snprintf(ms, sizeof(ms), "%.3f", tg_seconds_since(&rs->start) * 1e3);
	json_object_object_add(o, "ms", json_object_new_double_s(atof(ms), ms));
	if (rs->received.tv_sec) {
		/* How much of the time was the upload, how much the decision. */
		double up = (double)(rs->received.tv_sec - rs->start.tv_sec) * 1e3 +
			    (double)(rs->received.tv_nsec - rs->start.tv_nsec) / 1e6;
		snprintf(ms, sizeof(ms), "%.3f", up);
		json_object_object_add(o, "receive_ms", json_object_new_double_s(atof(ms), ms));
	}
	if (rq && rq->upload)
		tg_json_str(o, "upload", rq->upload);
	if (rq && rq->error[0] && status >= 400)
		tg_json_str(o, "error", rq->error);
	log_emit(o);
}

static void count(struct worker *w, struct req_state *rs, unsigned status)
{
	struct tg_metrics *m = w->m;
	size_t route = rs->rq && rs->rq->route ? tg_api_route_index(rs->rq->route) : TG_METRIC_ROUTES - 1;
	double secs = tg_seconds_since(&rs->start);
	int b = 0;

	if (route >= TG_METRIC_ROUTES)
		route = TG_METRIC_ROUTES - 1;
	__atomic_fetch_add(&m->requests[route][status / 100 <= 5 ? status / 100 : 5], 1, __ATOMIC_RELAXED);
	while (b < TG_LAT_BUCKETS && secs > tg_lat_bounds[b])
		b++;
	__atomic_fetch_add(&m->latency[b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->latency_sum_us, (uint64_t)(secs * 1e6), __ATOMIC_RELAXED);
	__atomic_fetch_add(&m->latency_count, 1, __ATOMIC_RELAXED);
	if (rs->rq && rs->rq->verdict >= 0)
		__atomic_fetch_add(&m->verdicts[rs->rq->verdict], 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ answers */

static enum MHD_Result answer(struct req_state *rs, unsigned status)
{
	struct tg_request *rq = rs->rq;
	struct MHD_Response *resp;
	enum MHD_Result ok;

	if (rs->answered)
		return MHD_YES;
	rs->answered = true;
	resp = MHD_create_response_from_buffer(rq && rq->body ? rq->body_len : 0, rq && rq->body ? rq->body : (void *)"",
					       MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Content-Type", rq && rq->content_type ? rq->content_type : "application/json");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	/* Pages for people: no script, no framing, nothing fetched elsewhere. */
	MHD_add_response_header(resp, "Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; "
				"frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (status >= 400 && status != 404 && status != 405 && status != 409 && status != 403)
		MHD_add_response_header(resp, "Connection", "close");
	ok = MHD_queue_response(rs->c, status, resp);
	MHD_destroy_response(resp);
	log_request(rs, status);
	count(rs->w, rs, status);
	return ok;
}

static enum MHD_Result refuse(struct req_state *rs, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result refuse(struct req_state *rs, unsigned status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tg_api_error(rs->rq, status, "%s", msg);
	return answer(rs, status);
}

/* ------------------------------------------------------------ headers */

struct header_scan {
	unsigned content_length, transfer_encoding;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_scan *h = cls;

	if (strcasecmp(key, "Content-Length") == 0)
		h->content_length++;
	else if (strcasecmp(key, "Transfer-Encoding") == 0)
		h->transfer_encoding++;
	return MHD_YES;
}

static const char *query_arg(struct tg_request *rq, const char *key)
{
	struct req_state *rs = rq->conn;

	return MHD_lookup_connection_value(rs->c, MHD_GET_ARGUMENT_KIND, key);
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				const char *content_type, const char *transfer_encoding, const char *data,
				uint64_t off, size_t size)
{
	struct req_state *rs = cls;

	if (rs->failed)
		return MHD_NO;
	if (!tg_api_field(rs->rq, key, filename, data, off, size)) {
		rs->failed = true;
		if (!rs->rq->error[0])
			tg_api_error(rs->rq, 400, "malformed form body");
		return MHD_NO;
	}
	return MHD_YES;
}

/* The verified client of this request: verified now, or for an earlier
 * request of this connection with the very same certificate (less than a
 * minute ago: an expiry or a CRL reload is not outlived for long). */
static bool peer_of(struct worker *w, struct conn *cn, gnutls_session_t s, struct tg_peer *ret, char *why,
		    size_t whylen)
{
	unsigned int n = 0;
	const gnutls_datum_t *chain = s ? gnutls_certificate_get_peers(s, &n) : NULL;

	if (cn && cn->peer_der && chain && n > 0 && chain[0].size == cn->peer_len &&
	    memcmp(chain[0].data, cn->peer_der, cn->peer_len) == 0 && tg_seconds_since(&cn->verified_at) < 60) {
		*ret = cn->peer;
		return true;
	}
	if (!tg_peer_verify(w->trust, s, ret, why, whylen))
		return false;
	if (cn && chain && n > 0) {
		free(cn->peer_der);
		cn->peer_der = malloc(chain[0].size);
		if (cn->peer_der) {
			memcpy(cn->peer_der, chain[0].data, chain[0].size);
			cn->peer_len = chain[0].size;
			cn->peer = *ret;
			clock_gettime(CLOCK_MONOTONIC, &cn->verified_at);
		}
	}
	return true;
}

/* The first call for a request: who is calling, may they, is the request
 * well-formed.  Anything refused here is answered before a byte of the
 * body is read (libmicrohttpd then closes the connection). */
static enum MHD_Result begin(struct worker *w, struct req_state *rs, const char *url, const char *method)
{
	struct tg_request *rq = rs->rq;
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(rs->c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	struct header_scan hs = { 0 };
	char why[300];
	unsigned status = 0;

	rq->method = method;
	rq->path = url;
	if (!peer_of(w, rs->conn, ci ? (gnutls_session_t)ci->tls_session : NULL, &rq->peer, why, sizeof(why)))
		return refuse(rs, 401, "%s", why);
	if (!tg_api_admit(w->api, rq))
		return answer(rs, rq->status);
	/* Request smuggling shapes: two lengths, or a length and chunking. */
	MHD_get_connection_values(rs->c, MHD_HEADER_KIND, scan_header, &hs);
	if (hs.content_length > 1 || hs.transfer_encoding > 1 || (hs.content_length && hs.transfer_encoding))
		return refuse(rs, 400, "ambiguous body length (Content-Length given twice, or with Transfer-Encoding)");
	rq->route = tg_api_route(method, url, rq->arg, &status);
	if (!rq->route)
		return refuse(rs, status, status == 405 ? "method %s not allowed here" : "no such resource",
			      method);
	if (!(rq->route->roles & tg_role_bit(rq->user.role)))
		return refuse(rs, 403, "role %s may not %s %s", rq->user.role, method, rq->route->pattern);
	const char *cl = MHD_lookup_connection_value(rs->c, MHD_HEADER_KIND, "Content-Length");
	if (rq->route->body == BODY_NONE) {
		if ((cl && strcmp(cl, "0") != 0) || hs.transfer_encoding)
			return refuse(rs, 400, "%s %s takes no body", method, rq->route->pattern);
		return MHD_YES;
	}
	unsigned long long n = 0;
	/* The form's overhead on top of the largest field. */
	if (cl && !tg_parse_uint(cl, 0, w->cfg->max_upload + 1024 * 1024, &n))
		return refuse(rs, 413, "body of %s bytes is over the limit of %llu", cl,
			      (unsigned long long)w->cfg->max_upload);
	const char *ct = MHD_lookup_connection_value(rs->c, MHD_HEADER_KIND, "Content-Type");
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) != 0)
		return refuse(rs, 415, "%s takes multipart/form-data", rq->route->pattern);
	rs->pp = MHD_create_post_processor(rs->c, 16 * 1024, on_field, rs);
	if (!rs->pp)
		return refuse(rs, 400, "malformed multipart/form-data (no boundary?)");
	return MHD_YES;
}

/* Record the attestations evaluated in this turn: one transaction and one
 * sync for all; each is answered when its connection resumes -- its
 * verdict, or an error and nothing recorded. */
static void group_commit(struct worker *w)
{
	struct tg_diag d = { { 0 } };
	struct tg_request *rqs[256];

	while (w->npending) {
		size_t n = w->npending < TG_ARRAY_SIZE(rqs) ? w->npending : TG_ARRAY_SIZE(rqs);
		for (size_t i = 0; i < n; i++)
			rqs[i] = w->pending[i]->rq;
		tg_api_group_commit(w->api, rqs, n, &d);
		for (size_t i = 0; i < n; i++) {
			w->pending[i]->committed = true;
			MHD_resume_connection(w->pending[i]->c);
		}
		memmove(w->pending, w->pending + n, (w->npending - n) * sizeof(*w->pending));
		w->npending -= n;
	}
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct worker *w = cls;
	struct req_state *rs = *con_cls;

	if (!rs) {
		const union MHD_ConnectionInfo *sc = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
		rs = tg_calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		rs->rq = tg_calloc(1, sizeof(*rs->rq));
		if (!rs->rq) {
			free(rs);
			return MHD_NO;
		}
		rs->rq->api = w->api;
		rs->rq->conn = rs;
		rs->rq->query = query_arg;
		rs->rq->verdict = -1;
		rs->c = c;
		rs->w = w;
		rs->conn = sc ? sc->socket_context : NULL;
		clock_gettime(CLOCK_MONOTONIC, &rs->start);
		if (rs->conn) {
			rs->conn->in_request = true;
			rs->conn->req_start = rs->start;
			rs->conn->requests++;
		}
		*con_cls = rs;
		w->active++;
		__atomic_fetch_add(&w->m->in_flight, 1, __ATOMIC_RELAXED);
		return begin(w, rs, url, method);
	}
	if (rs->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		rs->bytes += *upload_size;
		__atomic_fetch_add(&w->m->bytes_in, *upload_size, __ATOMIC_RELAXED);
		if (rs->failed) {
			/* Refused already: the rest is read and dropped so the
			 * client hears why -- up to a bound, then the
			 * connection is closed without an answer. */
			*upload_size = 0;
			return rs->bytes <= rs->discard_until ? MHD_YES : MHD_NO;
		}
		if (!rs->pp || MHD_post_process(rs->pp, upload_data, *upload_size) != MHD_YES) {
			if (!rs->rq->error[0])
				tg_api_error(rs->rq, 400, "malformed multipart/form-data body");
			rs->failed = true;
			rs->discard_until = rs->bytes + DISCARD_MAX;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (!rs->received.tv_sec)
		clock_gettime(CLOCK_MONOTONIC, &rs->received);
	if (rs->pp) {
		enum MHD_Result pr = MHD_destroy_post_processor(rs->pp);
		rs->pp = NULL;
		if (pr != MHD_YES && !rs->failed)
			return refuse(rs, 400, "truncated or malformed multipart/form-data body");
	}
	if (rs->failed)
		return answer(rs, rs->rq->status ? rs->rq->status : 400);
	if (rs->committed)
		return answer(rs, rs->rq->status ? rs->rq->status : 500);
	/* Nothing else runs inside an open group: it would read verdicts not
	 * yet committed, or need a transaction of its own. */
	if (!tg_api_route_groups(rs->rq->route))
		group_commit(w);
	tg_api_handle(rs->rq);
	if (rs->rq->pending) {
		if (tg_grow(w->pending, w->cap_pending, w->npending, 64) != TG_OK) {
			group_commit(w);
			return answer(rs, rs->rq->status ? rs->rq->status : 500);
		}
		w->pending[w->npending++] = rs;
		MHD_suspend_connection(rs->c);
		return MHD_YES;
	}
	return answer(rs, rs->rq->status ? rs->rq->status : 500);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct worker *w = cls;
	struct req_state *rs = *con_cls;

	if (!rs)
		return;
	if (!rs->answered) {
		/* The client went away or timed out before an answer. */
		log_request(rs, 499);
		count(w, rs, 499);
	}
	if (rs->pp)
		MHD_destroy_post_processor(rs->pp);
	if (rs->conn) {
		rs->conn->in_request = false;
		clock_gettime(CLOCK_MONOTONIC, &rs->conn->phase);
	}
	tg_api_request_release(rs->rq);
	free(rs);
	*con_cls = NULL;
	w->active--;
	__atomic_fetch_sub(&w->m->in_flight, 1, __ATOMIC_RELAXED);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	struct worker *w = cls;
	struct conn *cn = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		cn = tg_calloc(1, sizeof(*cn));
		if (!cn)
			return;
		cn->c = c;
		clock_gettime(CLOCK_MONOTONIC, &cn->phase);
		/* Answers are whole when written: Nagle's wait for the peer's
		 * delayed ACK cost 40 ms per request-response turn. */
		const union MHD_ConnectionInfo *fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
		int one = 1;
		if (fi)
			setsockopt(fi->connect_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (ci && ci->client_addr) {
			const struct sockaddr *sa = ci->client_addr;
			if (sa->sa_family == AF_INET)
				inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, cn->ip, sizeof(cn->ip));
			else if (sa->sa_family == AF_INET6)
				inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, cn->ip, sizeof(cn->ip));
		}
		cn->next = w->conns;
		if (w->conns)
			w->conns->prev = cn;
		w->conns = cn;
		*socket_context = cn;
		__atomic_fetch_add(&w->m->connections, 1, __ATOMIC_RELAXED);
	} else if (cn) {
		if (cn->prev)
			cn->prev->next = cn->next;
		else
			w->conns = cn->next;
		if (cn->next)
			cn->next->prev = cn->prev;
		free(cn->peer_der);
		free(cn);
		*socket_context = NULL;
		__atomic_fetch_sub(&w->m->connections, 1, __ATOMIC_RELAXED);
	}
}

/* Slow clients (slowloris): libmicrohttpd's timeout is for silence, and a
 * client sending a byte a second is never silent.  A request's headers
 * must be complete within header_timeout of the connection's start (after
 * a finished request: within idle + header timeout), and the whole
 * request within request_timeout; otherwise its socket is shut down and
 * libmicrohttpd closes the connection. */
static void cut_slow(struct worker *w)
{
	for (struct conn *cn = w->conns; cn; cn = cn->next) {
		double limit, t;
		if (cn->cut)
			continue;
		if (cn->in_request) {
			t = tg_seconds_since(&cn->req_start);
			limit = w->cfg->request_timeout;
		} else {
			t = tg_seconds_since(&cn->phase);
			limit = w->cfg->header_timeout + (cn->requests ? w->cfg->idle_timeout : 0);
		}
		if (t <= limit)
			continue;
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(cn->c, MHD_CONNECTION_INFO_CONNECTION_FD);
		if (ci) {
			shutdown(ci->connect_fd, SHUT_RDWR);
			cn->cut = true;
			__atomic_fetch_add(&w->m->slow_clients, 1, __ATOMIC_RELAXED);
		}
	}
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	/* libmicrohttpd's own complaints (TLS handshakes that fail, bad
	 * requests it answers itself) are not requests: said once, on stderr
	 * as one JSON line. */
	char msg[512];
	_cleanup_json_ struct json_object *o = log_begin();

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = 0;
	json_object_object_add(o, "worker", json_object_new_int((int)getpid()));
	tg_json_str(o, "event", "http");
	tg_json_str(o, "message", msg);
	log_emit(o);
}

static void on_stop(int sig)
{
	(void)sig;
	tg_service_stop = 1;
}

void tg_service_stop_on_term(void)
{
	struct sigaction sa = { .sa_handler = on_stop };
	sigset_t none;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGHUP, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* ------------------------------------------------------------- worker */

static int worker_main(const struct serve_config *cfg, int lfd, struct tg_trust *trust, struct tg_metrics *m)
{
	struct worker w = { .cfg = cfg, .trust = trust, .m = m };
	struct tg_diag d = { { 0 } };

	tg_service_stop_on_term();
	/* This process is the isolation: a crash in a signature check ends
	 * this worker, never the service (the supervisor starts another). */
	tg_crypto_set_isolation(false);
	struct tg_api_config ac = cfg->api;
	memcpy(ac.nonce_key, trust->nonce_key, sizeof(ac.nonce_key));
	if (tg_api_open(&ac, m, &w.api, &d) != TG_OK) {
		fprintf(stderr, "trustgate serve: worker: %s\n", d.msg);
		return TG_EXIT_ERROR;
	}
	w.d = MHD_start_daemon(MHD_USE_TLS | MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ITC | MHD_USE_ERROR_LOG |
				       MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request,
			       &w, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, &w, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_HTTPS_MEM_KEY, trust->server_key,
			       MHD_OPTION_HTTPS_MEM_CERT, trust->server_pem, MHD_OPTION_HTTPS_MEM_TRUST, trust->ca_pem,
			       MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
			       MHD_OPTION_CONNECTION_LIMIT, cfg->conn_limit,
			       MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->per_ip,
			       MHD_OPTION_CONNECTION_TIMEOUT, cfg->idle_timeout,
			       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
			       MHD_OPTION_NOTIFY_COMPLETED, on_completed, &w,
			       MHD_OPTION_NOTIFY_CONNECTION, on_connection, &w,
			       MHD_OPTION_STRICT_FOR_CLIENT, 1,
			       MHD_OPTION_END);
	if (!w.d) {
		fprintf(stderr, "trustgate serve: worker: the HTTPS daemon did not start\n");
		tg_api_close(w.api);
		return TG_EXIT_ERROR;
	}
	while (!tg_service_stop) {
		MHD_run_wait(w.d, w.npending ? 0 : 1000);
		group_commit(&w);
		cut_slow(&w);
	}
	/* Drain: accept nothing new, finish what was begun. */
	MHD_quiesce_daemon(w.d);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (w.active > 0 && tg_seconds_since(&t0) < cfg->grace) {
		MHD_run_wait(w.d, w.npending ? 0 : 200);
		group_commit(&w);
		cut_slow(&w);
	}
	group_commit(&w);
	MHD_stop_daemon(w.d);
	free(w.pending);
	tg_api_close(w.api);
	return TG_EXIT_OK;
}

/* --------------------------------------------------------- supervisor */

static enum tg_err listen_on(const char *spec, int *ret, struct tg_diag *d)
{
	_cleanup_free_ char *host = NULL;
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai = NULL;
	int fd, one = 1;

	if (!colon || colon == spec || !colon[1])
		return tg_fail(d, TG_E_USAGE, "--listen '%s': ADDRESS:PORT (127.0.0.1:8443, [::1]:8443)", spec);
	host = strndup(spec, (size_t)(colon - spec));
	if (!host)
		return TG_E_NOMEM;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = 0;
	}
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0 || !ai)
		return tg_fail(d, TG_E_USAGE, "--listen '%s': a numeric address and port", spec);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return tg_fail(d, TG_E_IO, "--listen %s: %s", spec, strerror(e));
	}
	freeaddrinfo(ai);
	*ret = fd;
	return TG_OK;
}

struct generation {
	pid_t *pids;
	unsigned n;
};

static pid_t spawn(const struct serve_config *cfg, int lfd, struct tg_trust *trust, struct tg_metrics *m)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(worker_main(cfg, lfd, trust, m));
	return pid;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	_cleanup_json_ struct json_object *o = log_begin();
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tg_json_str(o, "event", "service");
	tg_json_str(o, "message", msg);
	log_emit(o);
}

static bool alive(const struct generation *g)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->pids[i] > 0)
			return true;
	return false;
}

static void signal_all(const struct generation *g, int sig)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->pids[i] > 0)
			kill(g->pids[i], sig);
}

/* Forget a reaped pid; true when it was in g. */
static bool reaped(struct generation *g, pid_t pid, unsigned *slot)
{
	for (unsigned i = 0; i < g->n; i++)
		if (g->pids[i] == pid) {
			g->pids[i] = 0;
			*slot = i;
			return true;
		}
	return false;
}

static pid_t spawn_notifier(const struct serve_config *cfg, int lfd, struct tg_metrics *m)
{
	struct tg_notifier_config nc = { .db_path = cfg->api.db_path, .url = cfg->webhook, .ca = cfg->webhook_ca, .m = m };
	pid_t pid;

	if (!cfg->webhook)
		return 0;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(lfd);
		_exit(tg_notifier_main(&nc));
	}
	return pid;
}

static int supervise(const struct serve_config *cfg, int lfd, struct tg_metrics *m)
{
	struct tg_trust trust = { 0 }, old_trust = { 0 };
	struct generation cur = { 0 }, old = { 0 };
	struct tg_diag d = { { 0 } };
	sigset_t set;
	bool stopping = false;
	struct timespec stop_t0 = { 0 };
	enum tg_err r = tg_trust_load(cfg->ca_dir, &trust, &d);

	if (r != TG_OK) {
		fprintf(stderr, "trustgate: %s\n", d.msg);
		return TG_EXIT_ERROR;
	}
	cur.n = cfg->workers;
	cur.pids = tg_calloc(cur.n, sizeof(pid_t));
	old.pids = tg_calloc(cur.n, sizeof(pid_t));
	if (!cur.pids || !old.pids)
		return TG_EXIT_ERROR;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (unsigned i = 0; i < cur.n; i++)
		cur.pids[i] = spawn(cfg, lfd, &trust, m);
	pid_t notifier = spawn_notifier(cfg, lfd, m);
	say("serving on %s with %u workers (records %s, CA %s)%s%s", cfg->listen, cur.n, cfg->api.db_path, cfg->ca_dir,
	    cfg->webhook ? "; notifications to " : "", cfg->webhook ? cfg->webhook : "");
	/* The line tests and scripts wait for. */
	printf("trustgate serve: listening on %s\n", cfg->listen);
	fflush(stdout);

	for (;;) {
		struct timespec tick = { 1, 0 };
		siginfo_t si;
		int sig = sigtimedwait(&set, &si, &tick);
		if (sig == SIGTERM || sig == SIGINT) {
			if (!stopping) {
				say("stopping: workers finish their requests (at most %u s)", cfg->grace);
				stopping = true;
				clock_gettime(CLOCK_MONOTONIC, &stop_t0);
				signal_all(&cur, SIGTERM);
				signal_all(&old, SIGTERM);
				if (notifier > 0)
					kill(notifier, SIGTERM);
			}
		} else if (sig == SIGHUP && !stopping) {
			struct tg_trust fresh;
			if (tg_trust_load(cfg->ca_dir, &fresh, &d) != TG_OK) {
				say("reload refused, still serving with the previous certificates: %s", d.msg);
				continue;
			}
			/* The previous generation drains; a new one starts with
			 * the certificates and CRL just read. */
			if (alive(&old)) {
				say("reload refused: the previous reload is still draining");
				tg_trust_release(&fresh);
				continue;
			}
			tg_trust_release(&old_trust);
			old_trust = trust;
			trust = fresh;
			pid_t *t = old.pids;
			old.pids = cur.pids;
			old.n = cur.n;
			cur.pids = t;
			for (unsigned i = 0; i < cur.n; i++)
				cur.pids[i] = spawn(cfg, lfd, &trust, m);
			signal_all(&old, SIGTERM);
			say("reloaded certificates and CRL from %s", cfg->ca_dir);
		}
		int status;
		pid_t pid;
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			unsigned slot;
			if (pid == notifier) {
				notifier = 0;
				if (!stopping) {
					say("notifier %d ended; starting another", (int)pid);
					sleep(1);
					notifier = spawn_notifier(cfg, lfd, m);
				}
				continue;
			}
			if (reaped(&old, pid, &slot))
				continue;
			if (!reaped(&cur, pid, &slot) || stopping)
				continue;
			/* A worker died while serving: another takes its place. */
			say("worker %d ended (%s %d); starting another", (int)pid, WIFSIGNALED(status) ? "signal" : "exit",
			    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			__atomic_fetch_add(&m->worker_restarts, 1, __ATOMIC_RELAXED);
			if (WIFEXITED(status) && WEXITSTATUS(status) == TG_EXIT_ERROR) {
				/* A worker that cannot start (records gone)
				 * would be restarted in a loop: pace it. */
				sleep(1);
			}
			cur.pids[slot] = spawn(cfg, lfd, &trust, m);
		}
		if (stopping && !alive(&cur) && !alive(&old) && notifier <= 0)
			break;
		if (stopping && tg_seconds_since(&stop_t0) > cfg->grace + 5) {
			say("workers did not stop in time; killing them");
			signal_all(&cur, SIGKILL);
			signal_all(&old, SIGKILL);
			if (notifier > 0)
				kill(notifier, SIGKILL);
		}
	}
	say("stopped");
	tg_trust_release(&trust);
	tg_trust_release(&old_trust);
	free(cur.pids);
	free(old.pids);
	close(lfd);
	return TG_EXIT_OK;
}

/* ------------------------------------------------------------ command */

/* A configuration file: "key = value" lines (keys are the long options
 * without "--"), '#' comments.  Flags given on the command line win. */
struct conf_entry {
	const char *key;
	const char **val;
};

static enum tg_err read_config(const char *path, struct conf_entry *e, size_t n, char **keep, struct tg_diag *d)
{
	_cleanup_free_ uint8_t *buf = NULL;
	size_t len = 0, lineno = 0;
	enum tg_err r = tg_file_read(path, 64 * 1024, &buf, &len, d);
	char *save = NULL;

	if (r != TG_OK)
		return r;
	*keep = (char *)TAKE_PTR(buf);
	for (char *line = strtok_r(*keep, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		lineno++;
		line += strspn(line, " \t");
		if (!*line || *line == '#')
			continue;
		char *eq = strchr(line, '=');
		if (!eq)
			return tg_fail(d, TG_E_USAGE, "%s: line %zu: key = value", path, lineno);
		char *k = line, *v = eq + 1, *ke = eq;
		while (ke > k && (ke[-1] == ' ' || ke[-1] == '\t'))
			ke--;
		*ke = 0;
		v += strspn(v, " \t");
		for (char *ve = v + strlen(v); ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r');)
			*--ve = 0;
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(e[i].key, k) == 0)
				break;
		if (i == n)
			return tg_fail(d, TG_E_USAGE, "%s: line %zu: unknown setting '%.40s'", path, lineno, k);
		if (!*e[i].val)
			*e[i].val = v;
	}
	return TG_OK;
}

/* trustgate serve [--config FILE] [--listen ADDR:PORT] [--ca DIR] ... */
int tg_cmd_serve(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_free_ char *conf_buf = NULL;
	const char *config = NULL, *listen_s = NULL, *ca = NULL, *workers = NULL, *max_upload = NULL, *conns = NULL,
		   *per_ip = NULL, *idle = NULL, *header = NULL, *request = NULL, *spool = NULL, *nonce_ttl = NULL,
		   *grace = NULL, *integrity = NULL, *webhook = NULL, *webhook_ca = NULL, *tpm = NULL;
	const struct tg_opt opts[] = {
		{ "config", true, &config, NULL },       { "listen", true, &listen_s, NULL },
		{ "ca", true, &ca, NULL },               { "workers", true, &workers, NULL },
		{ "max-upload-mb", true, &max_upload, NULL }, { "max-connections", true, &conns, NULL },
		{ "max-per-ip", true, &per_ip, NULL },   { "idle-timeout", true, &idle, NULL },
		{ "header-timeout", true, &header, NULL }, { "request-timeout", true, &request, NULL },
		{ "spool", true, &spool, NULL },         { "nonce-ttl", true, &nonce_ttl, NULL },
		{ "grace", true, &grace, NULL },         { "integrity-interval", true, &integrity, NULL },
		{ "webhook", true, &webhook, NULL },     { "webhook-ca", true, &webhook_ca, NULL },
		{ "tpm", true, &tpm, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct conf_entry conf[] = {
		{ "listen", &listen_s }, { "ca", &ca }, { "workers", &workers }, { "max-upload-mb", &max_upload },
		{ "max-connections", &conns }, { "max-per-ip", &per_ip }, { "idle-timeout", &idle },
		{ "header-timeout", &header }, { "request-timeout", &request }, { "spool", &spool },
		{ "nonce-ttl", &nonce_ttl }, { "grace", &grace }, { "integrity-interval", &integrity },
		{ "webhook", &webhook }, { "webhook-ca", &webhook_ca }, { "tpm", &tpm },
	};
	struct serve_config cfg = { 0 };
	struct tg_diag d = { { 0 } };
	unsigned long long v;
	char **pos;
	int npos, lfd = -1;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && config)
		r = read_config(config, conf, TG_ARRAY_SIZE(conf), &conf_buf, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cfg.listen = listen_s ? listen_s : "127.0.0.1:8443";
	cfg.ca_dir = tg_service_ca_dir(ca);
	cfg.workers = ncpu > 0 && ncpu < 64 ? (unsigned)ncpu : 2;
	cfg.max_upload = 4096ULL << 20;
	cfg.conn_limit = 1024;
	cfg.per_ip = 256;
	cfg.idle_timeout = 30;
	cfg.header_timeout = 10;
	cfg.request_timeout = 3600;
	cfg.grace = 30;
	cfg.api.nonce_ttl = 300;
	cfg.api.integrity_interval = 1;
#define OPT(s, lo, hi, field, what)                                                                   \
	do {                                                                                          \
		if (s && !tg_parse_uint(s, lo, hi, &v))                                                  \
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--%s must be %llu to %llu", what, \
							(unsigned long long)(lo), (unsigned long long)(hi)), &d); \
		if (s)                                                                                \
			field = v;                                                                    \
	} while (0)
	OPT(workers, 1, 64, cfg.workers, "workers");
	OPT(max_upload, 1, TG_MAX_BLOB_SIZE >> 20, cfg.max_upload, "max-upload-mb");
	if (max_upload)
		cfg.max_upload <<= 20;
	OPT(conns, 1, 100000, cfg.conn_limit, "max-connections");
	OPT(per_ip, 1, 100000, cfg.per_ip, "max-per-ip");
	OPT(idle, 1, 3600, cfg.idle_timeout, "idle-timeout");
	OPT(header, 1, 600, cfg.header_timeout, "header-timeout");
	OPT(request, 1, 86400, cfg.request_timeout, "request-timeout");
	OPT(nonce_ttl, 10, 86400, cfg.api.nonce_ttl, "nonce-ttl");
	OPT(grace, 0, 3600, cfg.grace, "grace");
	OPT(integrity, 0, 3600, cfg.api.integrity_interval, "integrity-interval");
#undef OPT
	if (!spool) {
		const char *t = getenv("TMPDIR");
		spool = t && *t ? t : "/var/tmp";
	}
	struct stat st;
	if (stat(spool, &st) < 0 || !S_ISDIR(st.st_mode))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_IO, "--spool %s: not a directory", spool), &d);
	cfg.spool = spool;
	if (webhook && strncmp(webhook, "https://", 8) != 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--webhook '%s': an https:// URL", webhook), &d);
	if (webhook_ca && !webhook)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--webhook-ca goes with --webhook"), &d);
	if (webhook_ca && access(webhook_ca, R_OK) != 0)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_IO, "--webhook-ca %s: cannot read it", webhook_ca), &d);
	cfg.webhook = webhook;
	cfg.api.tpm = tpm;
	cfg.webhook_ca = webhook_ca;
	cfg.api.db_path = ctx->db_path;
	cfg.api.ca_dir = cfg.ca_dir;
	cfg.api.spool = spool;
	cfg.api.max_upload = cfg.max_upload;
	cfg.api.tier = ctx->tier;
	cfg.api.cii = ctx->cii;
	cfg.api.gm = ctx->gm;

	/* Everything a worker needs is checked here, once, with one line
	 * naming the problem: the records, their CA, the certificates, the
	 * address. */
	{
		_cleanup_(tg_db_closep) struct tg_db *db = NULL;
		struct tg_trust t;
		r = tg_cli_open_db(ctx, &db, &d);
		if (r == TG_OK)
			r = tg_service_ca_pinned(db, cfg.ca_dir, &d);
		if (r == TG_OK && (r = tg_trust_load(cfg.ca_dir, &t, &d)) == TG_OK)
			tg_trust_release(&t);
		/* Notifications are signed by the appliance key. */
		if (r == TG_OK && webhook) {
			struct tg_privkey *k = NULL;
			r = tg_appliance_key_load(db, &k, &d);
			if (r == TG_E_NOTFOUND)
				r = tg_fail(&d, TG_E_NOTFOUND, "--webhook: notifications are signed by the appliance key, and "
								 "these records have none (trustgate appliance-key init)");
			tg_privkey_free(k);
		}
		if (r != TG_OK)
			return tg_cli_fail(ctx, r, &d);
	}
	r = listen_on(cfg.listen, &lfd, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	struct tg_metrics *m = mmap(NULL, sizeof(*m), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_NOMEM, "no memory for the service's counters"), &d);
	return supervise(&cfg, lfd, m);
}
