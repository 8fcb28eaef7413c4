/*
 * The reviewer's web view (GET /ui, /ui/verdicts/ID): server-rendered HTML,
 * no script, no external resource, every recorded string escaped.  The
 * page a person reads is built from the same records and the same report
 * renderer as `trustgate report`.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "../verifier/evidence.h"

static const char css[] =
	"body{font-family:'Noto Sans','WenQuanYi Micro Hei',sans-serif;margin:2em;color:#111}"
	"h1{font-size:1.4em}h2{font-size:1.1em;margin-top:1.6em}"
	"table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.25em .6em;border-bottom:1px solid #ddd;"
	"vertical-align:top}th{background:#f3f3f3}.good{color:#0a6b2b;font-weight:bold}.bad{color:#a4001d;"
	"font-weight:bold}.none{color:#666}.mono{font-family:monospace}a{color:#0645ad}";

static bool good_result(const char *r)
{
	return r && (strcmp(r, "approved") == 0 || strcmp(r, "trusted") == 0);
}

static void result_cell(FILE *f, const char *r)
{
	fprintf(f, "<td class=\"%s\">", !r ? "none" : good_result(r) ? "good" : "bad");
	if (r) {
		char up[16];
		size_t i;
		for (i = 0; r[i] && i + 1 < sizeof(up); i++)
			up[i] = (char)(r[i] >= 'a' && r[i] <= 'z' ? r[i] - 32 : r[i]);
		up[i] = 0;
		tg_html_escape(f, up);
	} else {
		fputs("never attested", f);
	}
	fputs("</td>", f);
}

static void text_cell(FILE *f, const char *s)
{
	fputs("<td>", f);
	tg_html_escape(f, s ? s : "");
	fputs("</td>", f);
}

static void verdict_link(FILE *f, int64_t id)
{
	fprintf(f, "<td><a href=\"/ui/verdicts/%lld\">%lld</a></td>", (long long)id, (long long)id);
}

static void answer_html(struct tg_request *rq, char *buf, size_t len)
{
	free(rq->body);
	rq->body = buf;
	rq->body_len = len;
	rq->status = 200;
	rq->content_type = "text/html; charset=utf-8";
}

static enum tg_err hosts_table(FILE *f, struct tg_db *db, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db,
				      "SELECT h.name, h.model, h.status, v.id, v.result, v.time FROM host h LEFT JOIN verdict v "
				      "ON v.id = (SELECT max(w.id) FROM verdict w WHERE (w.command = 'attest' OR (w.command = "
				      "'reevaluate' AND w.kind = 'attestation')) AND w.subject_path = h.name) ORDER BY h.name;",
				      &st, d);

	fputs("<h2>Hosts and their last attestation</h2>\n<table><tr><th>host</th><th>model</th><th>status</th>"
	      "<th>last verdict</th><th>at</th><th>verdict</th></tr>\n", f);
	while (r == TG_OK && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		fputs("<tr>", f);
		text_cell(f, tg_db_col_str(st, 0));
		text_cell(f, tg_db_col_str(st, 1));
		text_cell(f, tg_db_col_str(st, 2));
		result_cell(f, tg_db_col_str(st, 4));
		text_cell(f, tg_db_col_str(st, 5));
		if (tg_db_col_is_null(st, 3))
			fputs("<td></td>", f);
		else
			verdict_link(f, tg_db_col_int(st, 3));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	return r;
}

static enum tg_err verdicts_table(FILE *f, struct tg_db *db, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT id, time, command, kind, subject_path, result, actor, supplier FROM verdict "
					  "ORDER BY id DESC LIMIT 50;", &st, d);

	fputs("<h2>Recent verdicts</h2>\n<table><tr><th>verdict</th><th>at</th><th>what</th><th>subject</th>"
	      "<th>result</th><th>supplier</th><th>by</th></tr>\n", f);
	while (r == TG_OK && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		char what[64];
		snprintf(what, sizeof(what), "%s %s", tg_db_col_str(st, 2),
			 tg_db_col_str(st, 3));
		fputs("<tr>", f);
		verdict_link(f, tg_db_col_int(st, 0));
		text_cell(f, tg_db_col_str(st, 1));
		text_cell(f, what);
		text_cell(f, tg_db_col_str(st, 4));
		result_cell(f, tg_db_col_str(st, 5));
		text_cell(f, tg_db_col_str(st, 7));
		text_cell(f, tg_db_col_str(st, 6));
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
	return r;
}

/* Suppliers whose security review has expired or expires within 30 days:
 * their products fail tier 3+ checks from that day (REVIEW_EXPIRED). */
static enum tg_err reviews_table(FILE *f, struct tg_db *db, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false, any = false;
	char today[32], soon[32];
	enum tg_err r = tg_db_prepare(db, "SELECT name, status, review_ref, review_expires, review_expires < ?1 "
					  "FROM supplier WHERE review_expires IS NOT NULL AND review_expires <= ?2 "
					  "AND status = 'approved' ORDER BY review_expires, name;", &st, d);

	/* Dates (review_expires is YYYY-MM-DD), computed here: the engines
	 * spell date arithmetic differently. */
	tg_epoch_iso(tg_now_epoch(), today);
	tg_epoch_iso(tg_now_epoch() + 30 * 86400, soon);
	today[10] = soon[10] = 0;
	if (r == TG_OK) {
		tg_db_bind_text(st, 1, today);
		tg_db_bind_text(st, 2, soon);
	}

	fputs("<h2>Supplier reviews expiring within 30 days</h2>\n<table><tr><th>supplier</th><th>review</th>"
	      "<th>expires</th><th></th></tr>\n", f);
	while (r == TG_OK && (r = tg_db_step(db, st, &row, d)) == TG_OK && row) {
		any = true;
		fputs("<tr>", f);
		text_cell(f, tg_db_col_str(st, 0));
		text_cell(f, tg_db_col_str(st, 2));
		text_cell(f, tg_db_col_str(st, 3));
		fprintf(f, "<td class=\"bad\">%s</td>", tg_db_col_int(st, 4) ? "EXPIRED" : "expiring");
		fputs("</tr>\n", f);
	}
	if (r == TG_OK && !any)
		fputs("<tr><td class=\"none\" colspan=\"4\">none</td></tr>\n", f);
	fputs("</table>\n", f);
	return r;
}

void tg_ui_home(struct tg_request *rq)
{
	struct tg_db *db = tg_api_db(rq->api);
	struct tg_diag d = { { 0 } };
	char *buf = NULL, now[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	enum tg_err r;

	if (!f) {
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	tg_now_iso(now);
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>trustgate</title><style>", f);
	fputs(css, f);
	fputs("</style></head><body>\n<h1>trustgate</h1>\n<p>", f);
	tg_html_escape(f, rq->peer.subject);
	fputs(" &middot; ", f);
	tg_html_escape(f, now);
	fputs("</p>\n", f);
	r = reviews_table(f, db, &d);
	if (r == TG_OK)
		r = hosts_table(f, db, &d);
	if (r == TG_OK)
		r = verdicts_table(f, db, &d);
	fputs("</body></html>\n", f);
	if (fclose(f) != 0 || r != TG_OK) {
		free(buf);
		tg_api_error(rq, 503, "records unreadable: %s", d.msg);
		return;
	}
	answer_html(rq, buf, len);
}

void tg_ui_verdict(struct tg_request *rq)
{
	_cleanup_json_ struct json_object *o = NULL;
	struct tg_diag d = { { 0 } };
	struct tg_anchoring a;
	char *buf = NULL;
	size_t len = 0;
	enum tg_err r = tg_api_verdict_load(rq, &o, &a, &d);

	if (r != TG_OK) {
		tg_api_error(rq, r == TG_E_DB ? 503 : 404, "no verdict %s", rq->arg);
		return;
	}
	/* A verdict whose report no longer matches its audit row is not shown
	 * as if it stood (the CLI's report refuses it the same way). */
	if (!a.found || a.problem[0]) {
		tg_api_error(rq, 409, "verdict %s: %s", rq->arg, a.problem[0] ? a.problem : "no audit row");
		return;
	}
	FILE *f = open_memstream(&buf, &len);
	if (!f) {
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	tg_report_write_html(f, o, &a, tg_api_db_display(rq->api));
	if (fclose(f) != 0) {
		free(buf);
		tg_api_error(rq, 500, "out of memory");
		return;
	}
	answer_html(rq, buf, len);
}
