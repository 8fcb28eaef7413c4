/*
 * libFuzzer target: the service's request handlers (service/api.c) behind
 * libmicrohttpd -- routing of a method and path, form fields arriving in
 * pieces, query parameters, and every handler run on what arrived, against
 * real records (a database made at start: one supplier, one enrolled host).
 * Input layout: byte 0 picks the method, then NUL-separated strings: the
 * path, the query string "k=v&k=v", then fields "name\x01filename\x01value"
 * (a value is fed in up to three pieces, split at bytes 1 and 2 of the
 * input).  The change routes (service/mutate.c) are routed but not run:
 * they start the CLI as a child.  Oracle: no crash, no sanitizer report, every request answered
 * with a status from 200 to 599, and the records' audit chain intact.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../service/api.h"
#include "../../service/mutate.h"
#include "../../db/records.h"
#include "../../common/crypto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tg_api *api;
static char query_buf[1024];

static const char *query(struct tg_request *rq, const char *key)
{
	static char val[256];
	size_t kl = strlen(key);

	(void)rq;
	for (char *p = query_buf; p && *p;) {
		char *amp = strchr(p, '&');
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		if (len > kl && strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = len - kl - 1 < sizeof(val) - 1 ? len - kl - 1 : sizeof(val) - 1;
			memcpy(val, p + kl + 1, vl);
			val[vl] = 0;
			return val;
		}
		p = amp ? amp + 1 : NULL;
	}
	return NULL;
}

static void init(void)
{
	struct tg_diag d = { { 0 } };
	static char dir[] = "/tmp/tg-fuzz-api.XXXXXX";
	static char dbp[64];
	struct tg_db *db = NULL;
	struct tg_supplier s = { 0 };
	char now[32];

	if (tg_crypto_init(&d) != TG_OK || !mkdtemp(dir))
		abort();
	snprintf(dbp, sizeof(dbp), "%s/fuzz.db", dir);
	if (tg_db_create(dbp, &db, &d) != TG_OK)
		abort();
	tg_now_iso(now);
	s.name = "acme";
	s.status = "approved";
	s.max_tier = 5;
	s.created_at = s.updated_at = now;
	if (tg_db_begin(db, &d) != TG_OK || tg_rec_supplier_insert(db, &s, NULL, &d) != TG_OK ||
	    tg_audit_append(db, "fuzz", "supplier.add", "acme", "{\"name\":\"acme\"}", &d) != TG_OK ||
	    tg_db_commit(db, &d) != TG_OK)
		abort();
	tg_db_close(db);
	struct tg_api_config cfg = {
		.db_path = dbp, .ca_dir = dir, .spool = dir, .max_upload = 1 << 20, .nonce_ttl = 300,
		.integrity_interval = 1, .tier = 3,
	};
	memset(cfg.nonce_key, 0x5a, sizeof(cfg.nonce_key));
	tg_crypto_set_isolation(false);
	if (tg_api_open(&cfg, calloc(1, sizeof(struct tg_metrics)), &api, &d) != TG_OK)
		abort();
}

static const char *next_str(const uint8_t **p, const uint8_t *end, size_t *len)
{
	const uint8_t *s = *p, *z = memchr(s, 0, (size_t)(end - s));

	*len = z ? (size_t)(z - s) : (size_t)(end - s);
	*p = z ? z + 1 : end;
	return (const char *)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "PUT", "DELETE" };
	const uint8_t *p = data, *end = data + size;
	char path[512];
	size_t len;
	unsigned status = 0;

	if (!api)
		init();
	if (size < 3)
		return 0;
	const char *method = methods[data[0] % 4];
	size_t split1 = data[1], split2 = data[2];
	p += 3;
	const char *s = next_str(&p, end, &len);
	snprintf(path, sizeof(path), "%.*s", (int)(len < 500 ? len : 500), s);
	s = next_str(&p, end, &len);
	snprintf(query_buf, sizeof(query_buf), "%.*s", (int)(len < 1000 ? len : 1000), s);

	struct tg_request *rq = calloc(1, sizeof(*rq));
	if (!rq)
		return 0;
	rq->api = api;
	rq->method = method;
	rq->path = path;
	rq->query = query;
	rq->verdict = -1;
	rq->user.name = strdup("fuzz");
	rq->user.role = strdup("admin");
	snprintf(rq->actor, sizeof(rq->actor), "CN=fuzz,OU=admin,O=trustgate");
	rq->route = tg_api_route(method, path, rq->arg, &status);
	/* Changes run the CLI as a child process (service/mutate.c): not
	 * from inside a fuzzer, whose own binary that child would be. */
	if (!rq->route || rq->route->fn == tg_mutate) {
		if (!rq->route && status != 404 && status != 405)
			abort();
		tg_api_request_release(rq);
		return 0;
	}
	bool ok = true;
	while (ok && p < end) {
		size_t nl, fl, vl;
		const char *field = next_str(&p, end, &fl);
		const char *n1 = memchr(field, 1, fl), *n2 = n1 ? memchr(n1 + 1, 1, fl - (size_t)(n1 + 1 - field)) : NULL;
		char key[64], filename[128];
		nl = n1 ? (size_t)(n1 - field) : fl;
		snprintf(key, sizeof(key), "%.*s", (int)(nl < 63 ? nl : 63), field);
		snprintf(filename, sizeof(filename), "%.*s", n2 ? (int)(n2 - n1 - 1 < 127 ? n2 - n1 - 1 : 127) : 0,
			 n1 ? n1 + 1 : "");
		const char *v = n2 ? n2 + 1 : field + fl;
		vl = (size_t)(field + fl - v);
		/* The value in up to three pieces, as a body arrives. */
		size_t a = split1 < vl ? split1 : vl, b = split2 < vl - a ? split2 : vl - a;
		ok = tg_api_field(rq, key, filename[0] ? filename : NULL, v, 0, a) &&
		     (b == 0 || tg_api_field(rq, key, NULL, v + a, a, b)) &&
		     (a + b == vl || tg_api_field(rq, key, NULL, v + a + b, a + b, vl - a - b));
	}
	if (ok)
		tg_api_handle(rq);
	if (rq->pending) {
		struct tg_diag d = { { 0 } };
		tg_api_group_commit(api, &rq, 1, &d);
	}
	if (rq->status < 200 || rq->status > 599)
		abort();
	tg_api_request_release(rq);
	return 0;
}
