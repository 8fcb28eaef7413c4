/*
 * The notifier: a process of `trustgate serve --webhook URL` that delivers
 * the notifications queued in the records (verifier/notify.h).  Each one
 * is said once on syslog and POSTed to the webhook as a DSSE envelope
 * signed by the appliance key (payload type TG_NOTIFY_TYPE; verify it as a
 * VSA: README, "Signed evidence"); a failure is retried after 5 s, doubling
 * up to an hour, and every attempt is written back to its row, so a
 * restart resumes where it stopped.  Once an hour it queues a warning for
 * each approved supplier whose review expires within 30 days (once per
 * supplier and expiry date).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "notifier.h"
#include "service.h"
#include "../verifier/appliance.h"
#include "../verifier/notify.h"

#define TG_NOTIFY_TYPE "application/vnd.trustgate.notification+json"

static size_t discard(char *p, size_t sz, size_t n, void *ud)
{
	(void)p;
	(void)ud;
	return sz * n;
}

/* Queue a warning per approved supplier whose review expires within 30
 * days (the dedupe name makes it once per supplier and date). */
static enum tg_err scan_reviews(struct tg_db *db, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	char soon[32];
	enum tg_err r = tg_db_begin(db, d);

	tg_epoch_iso(tg_now_epoch() + 30 * 86400, soon);
	soon[10] = 0; /* the date: review_expires is YYYY-MM-DD */
	if (r == TG_OK)
		r = tg_db_prepare(db, "SELECT name, review_ref, review_expires FROM supplier WHERE status = 'approved' AND "
				      "review_expires IS NOT NULL AND review_expires <= ?1;", &st, d);
	if (r == TG_OK)
		tg_db_bind_text(st, 1, soon);
	while (r == TG_OK && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		const char *name = tg_db_col_str(st, 0), *exp = tg_db_col_str(st, 2);
		_cleanup_free_ char *dedupe = NULL;
		struct json_object *n = json_object_new_object();
		tg_json_str(n, "review", tg_db_col_str(st, 1));
		tg_json_str(n, "review_expires", exp);
		if (asprintf(&dedupe, "review.expiring:%s:%s", name, exp) < 0)
			dedupe = NULL;
		r = dedupe ? tg_notify_enqueue(db, "review.expiring", name, dedupe, n, d) : TG_E_NOMEM;
		json_object_put(n);
	}
	tg_db_finalize(TAKE_PTR(st));
	if (r == TG_OK)
		return tg_db_commit(db, d);
	tg_db_rollback(db);
	return r;
}

struct due {
	int64_t id, attempts;
	char *event, *subject, *payload;
};

static bool deliver(CURL *curl, const struct tg_notifier_config *c, const struct tg_privkey *key, const struct due *n,
		    char *err, size_t errlen)
{
	_cleanup_free_ char *body = NULL;
	struct tg_diag d = { { 0 } };
	struct curl_slist *h = NULL;
	char hdr[128];
	long status = 0;
	CURLcode rc;

	if (tg_appliance_dsse(key, TG_NOTIFY_TYPE, n->payload, &body, &d) != TG_OK) {
		snprintf(err, errlen, "signing: %.200s", d.msg);
		return false;
	}
	h = curl_slist_append(h, "Content-Type: application/json");
	snprintf(hdr, sizeof(hdr), "X-Trustgate-Event: %s", n->event);
	h = curl_slist_append(h, hdr);
	curl_easy_setopt(curl, CURLOPT_URL, c->url);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	rc = curl_easy_perform(curl);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return false;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "HTTP %ld", status);
		return false;
	}
	return true;
}

static void say_syslog(const struct due *n)
{
	struct json_object *p = json_tokener_parse(n->payload);
	const char *result = tg_jstr(p, "result");
	int prio = strcmp(n->event, "review.expiring") == 0 ? LOG_NOTICE : LOG_WARNING;

	/* %s of strings from the records: a newline in them was refused at
	 * entry (names), and syslog(3) takes them as data, not format. */
	syslog(prio, "%s %s%s%s (notification %lld)", n->event, n->subject, result ? " " : "", result ? result : "",
	       (long long)n->id);
	json_object_put(p);
}

static enum tg_err one_pass(struct tg_db *db, CURL *curl, const struct tg_notifier_config *c, const struct tg_privkey *key,
			    struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct due due[32];
	size_t n = 0;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT id, attempts, event, subject, payload FROM notification WHERE "
					  "delivered_at IS NULL AND next_at <= ?1 ORDER BY id LIMIT 32;", &st, d);

	if (r == TG_OK)
		tg_db_bind_int(st, 1, tg_now_epoch());
	while (r == TG_OK && n < TG_ARRAY_SIZE(due) && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		due[n].id = tg_db_col_int(st, 0);
		due[n].attempts = tg_db_col_int(st, 1);
		due[n].event = tg_db_col_text(st, 2);
		due[n].subject = tg_db_col_text(st, 3);
		due[n].payload = tg_db_col_text(st, 4);
		n++;
	}
	tg_db_finalize(TAKE_PTR(st));
	for (size_t i = 0; i < n; i++) {
		char err[256] = "", now[32];
		bool ok;
		if (due[i].attempts == 0)
			say_syslog(&due[i]);
		ok = r == TG_OK && due[i].event && due[i].payload && deliver(curl, c, key, &due[i], err, sizeof(err));
		__atomic_fetch_add(ok ? &c->m->webhook_delivered : &c->m->webhook_failed, 1, __ATOMIC_RELAXED);
		/* 5 s, 10 s, 20 s ... at most an hour between attempts. */
		int64_t wait = 5;
		for (int64_t k = 0; k < due[i].attempts && wait < 3600; k++)
			wait *= 2;
		tg_now_iso(now);
		_cleanup_stmt_ struct tg_stmt *up = NULL;
		if (r == TG_OK)
			r = tg_db_prepare(db, "UPDATE notification SET attempts = attempts + 1, delivered_at = ?2, next_at = ?3, "
					      "last_error = ?4 WHERE id = ?1;", &up, d);
		if (r == TG_OK) {
			tg_db_bind_int(up, 1, due[i].id);
			tg_db_bind_text(up, 2, ok ? now : NULL);
			tg_db_bind_int(up, 3, tg_now_epoch() + (wait > 3600 ? 3600 : wait));
			tg_db_bind_text(up, 4, ok ? NULL : err);
			r = tg_db_exec_stmt(db, up, d);
		}
		free(due[i].event);
		free(due[i].subject);
		free(due[i].payload);
	}
	if (r == TG_OK) {
		_cleanup_stmt_ struct tg_stmt *q = NULL;
		bool got = false;
		r = tg_db_prepare(db, "SELECT count(*) FROM notification WHERE delivered_at IS NULL;", &q, d);
		if (r == TG_OK && (r = tg_db_step(db, q, &got, d)) == TG_OK && got)
			__atomic_store_n(&c->m->webhook_queue, tg_db_col_int(q, 0), __ATOMIC_RELAXED);
	}
	return r;
}

int tg_notifier_main(const struct tg_notifier_config *c)
{
	struct tg_db *db = NULL;
	struct tg_privkey *key = NULL;
	struct tg_diag d = { { 0 } };
	time_t last_scan = 0;
	CURL *curl;

	tg_service_stop_on_term();
	openlog("trustgate", LOG_PID, LOG_DAEMON);
	if (tg_db_open(c->db_path, &db, &d) != TG_OK || tg_db_tune_resident(db, &d) != TG_OK ||
	    tg_appliance_key_load(db, &key, &d) != TG_OK) {
		fprintf(stderr, "trustgate serve: notifier: %s\n", d.msg);
		tg_db_close(db);
		return TG_EXIT_ERROR;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(curl = curl_easy_init())) {
		tg_db_close(db);
		return TG_EXIT_ERROR;
	}
	if (c->ca)
		curl_easy_setopt(curl, CURLOPT_CAINFO, c->ca);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 10L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	while (!tg_service_stop) {
		memset(&d, 0, sizeof(d));
		if (time(NULL) - last_scan >= 3600) {
			if (scan_reviews(db, &d) != TG_OK)
				fprintf(stderr, "trustgate serve: notifier: review scan: %s\n", d.msg);
			last_scan = time(NULL);
		}
		if (one_pass(db, curl, c, key, &d) != TG_OK)
			fprintf(stderr, "trustgate serve: notifier: %s\n", d.msg);
		sleep(1);
	}
	curl_easy_cleanup(curl);
	curl_global_cleanup();
	tg_privkey_free(key);
	tg_db_close(db);
	closelog();
	return TG_EXIT_OK;
}
