/*
 * The service's API (/v1/...): routes, who may call them, and the handlers.
 * serve.c speaks HTTP (libmicrohttpd) and TLS; a handler sees a request
 * whose caller is already verified and whose body is already received
 * within its limit, calls the core (the same calls the CLI makes), and
 * leaves a status and a body.  Handlers never see libmicrohttpd.
 */
#ifndef TG_API_H
#define TG_API_H

#include <json-c/json.h>

#include "pki.h"
#include "users.h"
#include "../verifier/cli.h"

enum tg_role_bit {
	ROLE_ADMIN = 1, ROLE_PROCUREMENT = 2, ROLE_OPERATOR = 4, ROLE_REVIEWER = 8, ROLE_HOST = 16,
	ROLE_PEOPLE = ROLE_ADMIN | ROLE_PROCUREMENT | ROLE_OPERATOR | ROLE_REVIEWER,
	ROLE_ANY = ROLE_PEOPLE | ROLE_HOST,
};
unsigned tg_role_bit(const char *role);

/* How a route's body arrives. */
enum tg_body { BODY_NONE, BODY_FORM };

/* A multipart/form-data field a route takes. */
struct tg_field_spec {
	const char *name;
	size_t max;        /* bytes */
	/* false: kept in memory; true: spooled to a private file, not kept in
	 * memory; TG_FIELD_STREAM: check's file, checked as it arrives when
	 * the check can be (spooled otherwise). */
	unsigned char file;
	bool required;
};
#define TG_FIELD_STREAM 2

struct tg_field {
	const struct tg_field_spec *spec;
	uint8_t *data;     /* in memory (NUL-terminated), or NULL for a file */
	size_t len;
	char *path;        /* a spooled file */
	int fd;
	uint8_t *wbuf;     /* a spooled file's bytes not yet written (written 1 MiB at a time) */
	size_t wlen;
	char filename[256];
	bool seen;
	bool stream_decided;
	struct tg_check_stream *stream;  /* not spooled: checked as it arrives */
};

#define TG_API_MAX_FIELDS 8

/* Settings every worker shares. */
struct tg_api_config {
	const char *db_path, *ca_dir, *spool;
	const char *tpm;            /* the appliance's TPM (TCTI) for /v1/appliance/attestation, or NULL */
	uint64_t max_upload;        /* bytes of a check upload */
	unsigned nonce_ttl;         /* seconds */
	unsigned integrity_interval; /* seconds a model's checked references serve (0: re-checked per request) */
	uint8_t nonce_key[TG_NONCE_KEY_LEN];
	int tier;
	bool cii, gm;
};

/* Counters shared by all workers (a MAP_SHARED page set up before fork). */
#define TG_LAT_BUCKETS 14
#define TG_METRIC_ROUTES 32
struct tg_metrics {
	uint64_t requests[TG_METRIC_ROUTES][6];   /* by route, status class 1xx..5xx (index 1..5), 0 refused */
	uint64_t verdicts[4];                     /* approved, rejected, trusted, untrusted */
	uint64_t latency[TG_LAT_BUCKETS + 1];     /* cumulative buckets filled at export */
	uint64_t latency_sum_us, latency_count;
	int64_t in_flight, connections;
	uint64_t worker_restarts, bytes_in;
	uint64_t slow_clients;                   /* connections cut for not finishing a request in time */
	uint64_t webhook_delivered, webhook_failed;   /* notification deliveries (attempts) */
	int64_t webhook_queue;                   /* notifications not yet delivered */
};
extern const double tg_lat_bounds[TG_LAT_BUCKETS];

struct tg_api;   /* one per worker: settings, the records' connection */

struct tg_request {
	struct tg_api *api;
	const char *method, *path;
	const struct tg_route *route;
	char arg[256];                /* the {name} of the path, decoded */
	struct tg_peer peer;
	struct tg_user user;          /* the caller's record */
	char actor[600];              /* the audit actor: the certificate subject */
	const char *(*query)(struct tg_request *rq, const char *key);   /* a query parameter */
	void *conn;                   /* serve.c's */
	struct tg_field fields[TG_API_MAX_FIELDS];
	size_t nfields;
	char *spool_dir;
	/* The answer. */
	unsigned status;
	char *body;                   /* malloc'd */
	size_t body_len;
	const char *content_type;
	char error[600];              /* for the request log */
	int verdict;                  /* -1 none, else an index of tg_metrics.verdicts */
	const char *upload;           /* a file field: "spooled", or "streamed" (checked as it arrived) */
	bool pending;                 /* evaluated, to be recorded by tg_api_group_commit, then answered */
	void *job;                    /* what a pending request records (api.c's) */
};

typedef void (*tg_handler_fn)(struct tg_request *rq);

struct tg_route {
	const char *method, *pattern;  /* "{}" matches one path segment */
	unsigned roles;
	enum tg_body body;
	const struct tg_field_spec *fields;
	tg_handler_fn fn;
	const char *name;              /* for /metrics */
};

/* Find the route of method + path.  NULL with *status 404 (no such path)
 * or 405 (path known, method not). */
const struct tg_route *tg_api_route(const char *method, const char *path, char arg[256], unsigned *status);
size_t tg_api_route_index(const struct tg_route *r);
const char *tg_api_route_name(size_t i);
size_t tg_api_route_count(void);

enum tg_err tg_api_open(const struct tg_api_config *cfg, struct tg_metrics *m, struct tg_api **ret, struct tg_diag *d);
void tg_api_close(struct tg_api *api);
/* The caller's record: known, in force, and the role the certificate says. */
bool tg_api_admit(struct tg_api *api, struct tg_request *rq);
/* A body field arrived (in pieces); false with rq's error set to refuse. */
bool tg_api_field(struct tg_request *rq, const char *key, const char *filename, const char *data, uint64_t off,
		  size_t size);
void tg_api_handle(struct tg_request *rq);
/* Attestations are evaluated as they arrive and recorded together: the
 * worker hands the pending ones of each turn of its event loop (and before
 * it handles any other request) to tg_api_group_commit, one transaction and
 * one sync, which leaves each one's answer -- its verdict, or an error and
 * nothing recorded. */
enum tg_err tg_api_group_commit(struct tg_api *api, struct tg_request **rqs, size_t n, struct tg_diag *d);
bool tg_api_route_groups(const struct tg_route *r);
void tg_api_request_release(struct tg_request *rq);
/* An error answer: {"error": MSG, "status": N}. */
void tg_api_error(struct tg_request *rq, unsigned status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct tg_metrics *tg_api_metrics(struct tg_api *api);
/* Take the request's spool directory out of a message for the caller. */
void tg_api_scrub(struct tg_request *rq, char *msg);
struct tg_db *tg_api_db(struct tg_api *api);
const char *tg_api_db_path(struct tg_api *api);
/* The same for pages and messages (a URL without its password). */
const char *tg_api_db_display(struct tg_api *api);
const char *tg_api_ca_dir(struct tg_api *api);
/* The verdict the path's {id} names, as tg_evidence_load shows it
 * (TG_E_NOTFOUND for an id that is not one). */
struct tg_anchoring;
enum tg_err tg_api_verdict_load(struct tg_request *rq, struct json_object **ret, struct tg_anchoring *a,
				struct tg_diag *d);

/* The reviewer's web view (webview.c): GET /ui and /ui/verdicts/ID. */
void tg_ui_home(struct tg_request *rq);
void tg_ui_verdict(struct tg_request *rq);

#endif
