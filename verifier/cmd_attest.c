/*
 * trustgate attest NAME --msg ATTEST --sig SIG --eventlog LOG --nonce HEX
 *                       [--pcrs PCRS] [--bundle DIR] [--pcr-list LIST]
 * trustgate attest --batch DIR|- [--workers N] [--pcr-list LIST]
 *
 * One host: its quote verified with the AK enrolled for it, its event log
 * replayed and matched to the quote, every measured event of the attested
 * PCRs (default 0-7) found among the reference values of its model or of
 * approved releases.  TRUSTED only when all of that holds.
 *
 * Many hosts (--batch): DIR holds one directory per host, named after it,
 * with attest.bin, sig.bin, eventlog.bin, a `nonce` file (hex, written by
 * the operator's challenge step), and optionally pcrs.json and ak.tpm2b;
 * or "-" reads JSON lines {"host", "nonce", "bundle"} from stdin.  The
 * records are read first, then one worker process per core verifies the
 * hosts (each worker is the isolation boundary); the verdicts are recorded
 * in one transaction and printed one line per host, in input order.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>

#include "attest.h"
#include "workers.h"
#include "evidence.h"
#include "../common/encoding.h"
#include "../common/file.h"

/* The files of one attestation, read whole (with limits). */
struct evidence_files {
	uint8_t *msg, *sig, *pcrs, *log, *ak;
	size_t msgl, sigl, pcrsl, logl, akl;
};

static void files_release(struct evidence_files *f)
{
	free(f->msg);
	free(f->sig);
	free(f->pcrs);
	free(f->log);
	free(f->ak);
	memset(f, 0, sizeof(*f));
}

static enum tg_err files_read(const char *msg, const char *sig, const char *pcrs, const char *log,
			      const char *ak, struct evidence_files *f, struct tg_diag *d)
{
	enum tg_err r = tg_file_read(msg, sizeof(TPM2B_ATTEST) + 2, &f->msg, &f->msgl, d);

	if (r == TG_OK)
		r = tg_file_read(sig, sizeof(TPMT_SIGNATURE) + 16, &f->sig, &f->sigl, d);
	if (r == TG_OK && pcrs)
		r = tg_file_read(pcrs, 1024 * 1024, &f->pcrs, &f->pcrsl, d);
	if (r == TG_OK)
		r = tg_file_read(log, TG_MAX_EVENTLOG, &f->log, &f->logl, d);
	if (r == TG_OK && ak)
		r = tg_file_read(ak, TG_MAX_KEY_FILE, &f->ak, &f->akl, d);
	return r;
}

static void evidence_from(struct tg_attest_evidence *ev, const struct evidence_files *f, const char *host,
			  const char *msg, const char *sig, const char *pcrs, const char *log, const char *ak,
			  uint32_t required)
{
	ev->host = host;
	ev->msg = tg_span_make(f->msg, f->msgl);
	ev->sig = tg_span_make(f->sig, f->sigl);
	ev->pcrs = tg_span_make(f->pcrs, f->pcrsl);
	ev->log = tg_span_make(f->log, f->logl);
	ev->bundle_ak = tg_span_make(f->ak, f->akl);
	ev->msg_what = msg;
	ev->sig_what = sig;
	ev->pcrs_what = pcrs;
	ev->log_what = log;
	ev->ak_what = ak;
	ev->required = required;
}

/* ------------------------------------------------------------ one host */

/* A nonce is bytes: "AB01" and "ab01" are one nonce.  Every nonce is
 * decoded once and handled (looked up, recorded, compared within a batch)
 * only as the lowercase hex of its bytes, so a spelling cannot make a used
 * nonce look new (THREATS case 46).  false if not hex or over 64 bytes. */
static bool nonce_canonical(const char *in, char out[129])
{
	uint8_t b[64];
	size_t n = 0;

	if (!tg_hex_decode(in, b, sizeof(b), &n) || n == 0)
		return false;
	tg_hex_encode(b, n, out);
	return true;
}

/* The verdict of one host, as the user reads it. */
static void attest_fprint(FILE *o, const struct tg_ctx *ctx, const char *host, const struct tg_attest_records *rec,
			  const struct tg_attest_outcome *out)
{
	if (ctx->json) {
		tg_cli_fprint_json(o, out->report);
	} else {
		const struct tg_verdict *v = &out->v;
		fprintf(o, "%s  host %s  tier %d%s%s\n", v->approved ? "TRUSTED" : "UNTRUSTED", host, v->tier,
			rec->have_host && rec->host.model ? "  model " : "",
			rec->have_host && rec->host.model ? rec->host.model : "");
		if (v->has_key)
			fprintf(o, "  AK        %s (%s)\n", v->key_fpr, v->key_alg);
		fprintf(o, "  checked   %zu measurements\n", out->checked);
		for (size_t i = 0; i < v->nreasons; i++)
			fprintf(o, "  reason    %s: %s\n", v->reasons[i].code, v->reasons[i].detail);
		for (size_t i = 0; i < v->nwarnings; i++)
			fprintf(o, "  warning   %s: %s\n", v->warnings[i].code, v->warnings[i].detail);
		tg_evidence_fprint(o, out->report);
	}
}

struct attest_show {
	const struct tg_ctx *ctx;
	const char *host;
};

static void attest_show(FILE *o, const struct tg_attest_records *rec, const struct tg_attest_outcome *out, void *ud)
{
	const struct attest_show *s = ud;

	attest_fprint(o, s->ctx, s->host, rec, out);
}

static int attest_one(struct tg_ctx *ctx, const char *host, const char *msg, const char *sig,
		      const char *pcrs, const char *log, const char *ak, const char *nonce,
		      uint32_t required)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct evidence_files f = { 0 };
	struct tg_attest_evidence ev = { 0 };
	struct tg_attest_records rec = { 0 };
	struct tg_attest_outcome out = { 0 };
	struct tg_diag d = { { 0 } };
	enum tg_err r;
	int code;

	char nonce_buf[129];
	if (!nonce_canonical(nonce, nonce_buf) ||
	    !tg_hex_decode(nonce_buf, ev.nonce, sizeof(ev.nonce), &ev.nonce_len))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--nonce must be hex (at most 64 bytes)"), &d);
	ev.nonce_hex = nonce_buf;
	struct attest_show show = { ctx, host };
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = files_read(msg, sig, pcrs, log, ak, &f, &d);
	if (r == TG_OK) {
		evidence_from(&ev, &f, host, msg, sig, pcrs, log, ak, required);
		r = tg_attest_decide(ctx, db, &ev, NULL, NULL, NULL, attest_show, &show, &rec, &out, &d);
	}
	if (r != TG_OK) {
		tg_out_discard();
		files_release(&f);
		tg_attest_records_release(&rec);
		tg_attest_outcome_release(&out);
		return tg_cli_fail(ctx, r, &d);
	}
	if (!tg_out_flush())
		fprintf(stderr, "trustgate: the verdict was recorded but could not be written to stdout\n");
	code = out.v.approved ? TG_EXIT_OK : TG_EXIT_NEGATIVE;
	files_release(&f);
	tg_attest_records_release(&rec);
	tg_attest_outcome_release(&out);
	return code;
}

/* --------------------------------------------------------------- batch */

struct job {
	char *host, *nonce, *dir;
	struct tg_attest_records rec;
	struct json_object *result;   /* the worker's header */
	char *report;                 /* the worker's verdict document */
};

struct batch {
	struct job *j;
	size_t n, cap;
};

static void batch_release(struct batch *b)
{
	/* Owners of shared reference sets come first: release in reverse. */
	for (size_t i = b->n; i-- > 0;) {
		free(b->j[i].host);
		free(b->j[i].nonce);
		free(b->j[i].dir);
		tg_attest_records_release(&b->j[i].rec);
		if (b->j[i].result)
			json_object_put(b->j[i].result);
		free(b->j[i].report);
	}
	free(b->j);
}

static enum tg_err batch_add(struct batch *b, const char *host, const char *nonce, const char *dir)
{
	if (tg_grow(b->j, b->cap, b->n, 64) != TG_OK)
		return TG_E_NOMEM;
	struct job *j = &b->j[b->n++];
	memset(j, 0, sizeof(*j));
	j->host = strdup(host);
	char canon[129];
	/* Kept as given when it is not hex: refused with its host later. */
	j->nonce = strdup(nonce_canonical(nonce, canon) ? canon : nonce);
	j->dir = strdup(dir);
	return j->host && j->nonce && j->dir ? TG_OK : TG_E_NOMEM;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static const struct batch *batch_sort_ctx;

static int cmp_host_nonce(const void *a, const void *b)
{
	const struct job *x = &batch_sort_ctx->j[*(const size_t *)a], *y = &batch_sort_ctx->j[*(const size_t *)b];
	int c = strcmp(x->host, y->host);
	return c ? c : strcmp(x->nonce, y->nonce);
}

/* DIR/<host>/{attest.bin,sig.bin,eventlog.bin,nonce,[pcrs.json],[ak.tpm2b]} */
static enum tg_err batch_from_dir(const char *dir, struct batch *b, struct tg_diag *d)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	enum tg_err r = TG_OK;

	if (!dh)
		return tg_fail(d, TG_E_IO, "%s: cannot open: %s", dir, strerror(errno));
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.')
			continue;
		if ((r = tg_grow(names, cap, n, 64)) != TG_OK)
			break;
		names[n++] = strdup(e->d_name);
	}
	closedir(dh);
	if (r == TG_OK)
		qsort(names, n, sizeof(*names), cmp_name);
	for (size_t i = 0; i < n && r == TG_OK; i++) {
		_cleanup_free_ char *sub = tg_path_join(dir, names[i]), *nf = NULL;
		_cleanup_free_ uint8_t *nonce = NULL;
		size_t nl = 0;
		if (!sub)
			r = TG_E_NOMEM;
		else if (!tg_cli_name_ok(names[i]))
			r = tg_fail(d, TG_E_FORMAT, "%s: a directory name is not a valid host name", dir);
		else if (!(nf = tg_path_join(sub, "nonce")))
			r = TG_E_NOMEM;
		else if ((r = tg_file_read(nf, 256, &nonce, &nl, d)) == TG_OK) {
			while (nl && (nonce[nl - 1] == '\n' || nonce[nl - 1] == '\r' || nonce[nl - 1] == ' '))
				nonce[--nl] = '\0';
			r = batch_add(b, names[i], (char *)nonce, sub);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* JSON lines: {"host": NAME, "nonce": HEX, "bundle": DIR} */
static enum tg_err batch_from_stdin(struct batch *b, struct tg_diag *d)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	size_t lineno = 0;
	enum tg_err r = TG_OK;

	while (r == TG_OK && (len = getline(&line, &cap, stdin)) >= 0) {
		struct json_object *o, *h = NULL, *n = NULL, *bd = NULL;
		lineno++;
		if (len <= 1)
			continue;
		o = json_tokener_parse(line);
		if (!o || !json_object_object_get_ex(o, "host", &h) || !json_object_object_get_ex(o, "nonce", &n) ||
		    !json_object_object_get_ex(o, "bundle", &bd) || !json_object_is_type(h, json_type_string) ||
		    !json_object_is_type(n, json_type_string) || !json_object_is_type(bd, json_type_string))
			r = tg_fail(d, TG_E_FORMAT, "stdin line %zu: want {\"host\", \"nonce\", \"bundle\"}", lineno);
		else if (!tg_cli_name_ok(json_object_get_string(h)))
			r = tg_fail(d, TG_E_FORMAT, "stdin line %zu: invalid host name", lineno);
		else
			r = batch_add(b, json_object_get_string(h), json_object_get_string(n), json_object_get_string(bd));
		json_object_put(o);
		if (b->n > TG_MAX_BATCH)
			r = tg_fail(d, TG_E_LIMIT, "stdin: more than %u hosts", TG_MAX_BATCH);
	}
	free(line);
	return r;
}

/* Worker: verify jobs w, w+W, ... and send each result as a length-
 * prefixed JSON document. */
struct attest_run {
	struct batch *b;
	uint32_t required;
};

static void worker(size_t w, size_t nworkers, int fd, void *ud)
{
	const struct attest_run *run = ud;
	const struct batch *b = run->b;
	uint32_t required = run->required;

	tg_crypto_set_isolation(false);
	for (size_t i = w; i < b->n; i += nworkers) {
		const struct job *j = &b->j[i];
		_cleanup_(tg_bundle_release) struct tg_bundle bf = { 0 };
		struct evidence_files f = { 0 };
		struct tg_attest_evidence ev = { 0 };
		struct tg_attest_outcome out = { 0 };
		struct tg_diag d = { { 0 } };
		struct json_object *res = json_object_new_object();
		enum tg_err r = TG_OK;

		json_object_object_add(res, "i", json_object_new_int64((int64_t)i));
		r = tg_bundle_open(j->dir, &bf);
		const char *pcrs = tg_bundle_if_present(bf.pcrs), *ak = tg_bundle_if_present(bf.ak_tpm2b);
		if (r == TG_OK && (!tg_hex_decode(j->nonce, ev.nonce, sizeof(ev.nonce), &ev.nonce_len) || !ev.nonce_len))
			r = tg_fail(&d, TG_E_FORMAT, "%s: nonce is not hex", j->host);
		ev.nonce_hex = j->nonce;
		if (r == TG_OK)
			r = files_read(bf.msg, bf.sig, pcrs, bf.log, ak, &f, &d);
		if (r == TG_OK) {
			evidence_from(&ev, &f, j->host, bf.msg, bf.sig, pcrs, bf.log, ak, required);
			r = tg_attest_eval(&ev, &j->rec, &out, &d);
		}
		if (r != TG_OK) {
			json_object_object_add(res, "error", json_object_new_string(d.msg[0] ? d.msg : tg_strerror(r)));
		} else {
			json_object_object_add(res, "approved", json_object_new_boolean(out.v.approved));
			json_object_object_add(res, "subject", json_object_new_string(out.subject));
			json_object_object_add(res, "size", json_object_new_int64((int64_t)out.attest_len));
			json_object_object_add(res, "clock", json_object_new_int64((int64_t)out.clock));
			json_object_object_add(res, "reset", json_object_new_int64(out.reset));
			json_object_object_add(res, "restart", json_object_new_int64(out.restart));
			json_object_object_add(res, "tier", json_object_new_int(out.v.tier));
			if (out.v.has_key)
				json_object_object_add(res, "ak", json_object_new_string(out.v.key_fpr));
			json_object_object_add(res, "codes", tg_verdict_codes_json(&out.v));
		}
		/* Frame: u32 length, small JSON header, NUL, report text. */
		const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN);
		const char *rep = out.report ? json_object_to_json_string_ext(out.report, JSON_C_TO_STRING_PLAIN |
										     JSON_C_TO_STRING_NOSLASHESCAPE) : "";
		if (!tg_worker_send(fd, text, strlen(text) + 1, rep, strlen(rep)))
			_exit(3);
		json_object_put(res);
		files_release(&f);
		tg_attest_outcome_release(&out);
	}
	_exit(0);
}

/* One frame from a worker: its JSON header, NUL, the report text. */
static void on_frame(const uint8_t *p, size_t n, void *ud)
{
	struct batch *b = ((struct attest_run *)ud)->b;
	const char *frame = (const char *)p;
	size_t hl = strnlen(frame, n);
	_cleanup_free_ char *text = strndup(frame, hl);
	struct json_object *o = text ? json_tokener_parse(text) : NULL, *iv = NULL;

	if (o && hl < n && json_object_object_get_ex(o, "i", &iv)) {
		int64_t i = json_object_get_int64(iv);
		if (i >= 0 && (size_t)i < b->n && !b->j[i].result) {
			b->j[i].result = o;
			b->j[i].report = strndup(frame + hl + 1, n - hl - 1);
			return;
		}
	}
	if (o)
		json_object_put(o);
}

static int attest_batch(struct tg_ctx *ctx, const char *src, const char *workers_opt, uint32_t required)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct batch b = { 0 };
	struct tg_diag d = { { 0 } };
	size_t nworkers = 1;
	size_t errors = 0, untrusted = 0;
	enum tg_err r;

	r = tg_workers_count(workers_opt, &nworkers, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	r = tg_cli_open_db(ctx, &db, &d);
	if (r == TG_OK)
		r = strcmp(src, "-") == 0 ? batch_from_stdin(&b, &d) : batch_from_dir(src, &b, &d);
	if (r == TG_OK && b.n > TG_MAX_BATCH)
		r = tg_fail(&d, TG_E_LIMIT, "%s: more than %u hosts", src, TG_MAX_BATCH);
	/* The records, read once before the workers start; reference sets
	 * are shared by the hosts of one model (the first owns them, and is
	 * released last). */
	const struct tg_attest_records *owner = NULL;
	for (size_t i = 0; i < b.n && r == TG_OK; i++) {
		r = tg_attest_load(db, b.j[i].host, b.j[i].nonce, owner, &b.j[i].rec, &d);
		if (r == TG_OK && b.j[i].rec.have_host && !b.j[i].rec.refs_shared)
			owner = &b.j[i].rec;
	}
	/* The same (host, nonce) twice in one batch: only the first counts. */
	if (r == TG_OK && b.n > 1) {
		size_t *idx = tg_calloc(b.n, sizeof(*idx));
		if (!idx) {
			r = TG_E_NOMEM;
		} else {
			for (size_t i = 0; i < b.n; i++)
				idx[i] = i;
			batch_sort_ctx = &b;
			qsort(idx, b.n, sizeof(*idx), cmp_host_nonce);
			for (size_t i = 1; i < b.n; i++)
				if (cmp_host_nonce(&idx[i - 1], &idx[i]) == 0)
					b.j[idx[i] > idx[i - 1] ? idx[i] : idx[i - 1]].rec.nonce_used = true;
			free(idx);
		}
	}
	if (r != TG_OK) {
		batch_release(&b);
		return tg_cli_fail(ctx, r, &d);
	}
	if (nworkers > b.n)
		nworkers = b.n ? b.n : 1;

	/* Workers. */
	struct attest_run run = { .b = &b, .required = required };
	r = tg_workers_run(nworkers, worker, on_frame, NULL, &run, &d);

	/* Record every verdict in one transaction, then report in order. */
	if (r == TG_OK)
		r = tg_db_begin(db, &d);
	for (size_t i = 0; i < b.n && r == TG_OK; i++) {
		struct json_object *o = b.j[i].result, *x = NULL;
		if (!o || json_object_object_get_ex(o, "error", &x))
			continue;
		#define GET(k) (json_object_object_get_ex(o, k, &x) ? x : NULL)
		bool approved = json_object_get_boolean(GET("approved"));
		if (!b.j[i].report) {
			r = TG_E_NOMEM;
			break;
		}
		_cleanup_json_ struct json_object *rep = json_tokener_parse(b.j[i].report);
		if (!rep) {
			r = tg_fail(&d, TG_E_FORMAT, "%s: a worker's report is unreadable", b.j[i].host);
			break;
		}
		r = tg_attest_record(ctx, db, b.j[i].host, &b.j[i].rec, b.j[i].nonce, approved, rep,
				     json_object_get_string(GET("subject")), (size_t)json_object_get_int64(GET("size")),
				     GET("ak") ? json_object_get_string(GET("ak")) : NULL, json_object_get_int(GET("tier")),
				     (uint64_t)json_object_get_int64(GET("clock")), (uint32_t)json_object_get_int64(GET("reset")),
				     (uint32_t)json_object_get_int64(GET("restart")), GET("codes"), &d);
		#undef GET
	}
	if (r == TG_OK)
		r = tg_db_commit(db, &d);
	else
		tg_db_rollback(db);
	if (r != TG_OK) {
		batch_release(&b);
		return tg_cli_fail(ctx, r, &d);
	}
	for (size_t i = 0; i < b.n; i++) {
		struct json_object *o = b.j[i].result, *x = NULL;
		const char *err = NULL;
		if (!o)
			err = "verification worker died; no verdict";
		else if (json_object_object_get_ex(o, "error", &x))
			err = json_object_get_string(x);
		if (err) {
			errors++;
			if (ctx->json) {
				_cleanup_json_ struct json_object *e = json_object_new_object();
				tg_json_str(e, "host", b.j[i].host);
				tg_json_str(e, "error", err);
				puts(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			} else {
				printf("ERROR      %s  %s\n", b.j[i].host, err);
			}
			continue;
		}
		bool approved = json_object_object_get_ex(o, "approved", &x) && json_object_get_boolean(x);
		untrusted += !approved;
		if (ctx->json) {
			puts(b.j[i].report);
		} else {
			printf("%-10s %s", approved ? "TRUSTED" : "UNTRUSTED", b.j[i].host);
			if (json_object_object_get_ex(o, "codes", &x) && json_object_array_length(x)) {
				/* each code once, in the order first met */
				size_t nc = json_object_array_length(x), shown = 0;
				printf("  ");
				for (size_t k = 0; k < nc; k++) {
					const char *c = json_object_get_string(json_object_array_get_idx(x, k));
					bool dup = false;
					for (size_t m = 0; m < k && !dup; m++)
						dup = strcmp(c, json_object_get_string(json_object_array_get_idx(x, m))) == 0;
					if (!dup)
						printf("%s%s", shown++ ? "," : "", c);
				}
			}
			printf("\n");
		}
	}
	size_t total = b.n;
	batch_release(&b);
	if (!ctx->json)
		fprintf(stderr, "trustgate: %zu hosts: %zu trusted, %zu untrusted, %zu errors\n", total,
			total - untrusted - errors, untrusted, errors);
	return errors ? TG_EXIT_ERROR : untrusted ? TG_EXIT_NEGATIVE : TG_EXIT_OK;
}

int tg_cmd_attest(struct tg_ctx *ctx, int argc, char **argv)
{
	_cleanup_(tg_bundle_release) struct tg_bundle bf = { 0 };
	const char *msg = NULL, *sig = NULL, *pcrs = NULL, *log = NULL, *nonce = NULL, *bundle = NULL;
	const char *pcr_list = NULL, *batch = NULL, *workers = NULL;
	const struct tg_opt opts[] = {
		{ "msg", true, &msg, NULL },       { "sig", true, &sig, NULL },
		{ "pcrs", true, &pcrs, NULL },     { "eventlog", true, &log, NULL },
		{ "nonce", true, &nonce, NULL },   { "bundle", true, &bundle, NULL },
		{ "pcr-list", true, &pcr_list, NULL }, { "batch", true, &batch, NULL },
		{ "workers", true, &workers, NULL }, { NULL, false, NULL, NULL },
	};
	struct tg_diag d = { { 0 } };
	uint32_t required = TG_ATTEST_DEFAULT_PCRS;
	char **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, opts, 0, 1, &pos, &npos, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (pcr_list && !tg_attest_parse_pcr_list(pcr_list, &required))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "--pcr-list '%s': use e.g. 0-7", pcr_list), &d);
	if (batch) {
		if (npos || msg || sig || pcrs || log || nonce || bundle)
			return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "attest --batch takes no host name or evidence options"), &d);
		return attest_batch(ctx, batch, workers, required);
	}
	if (npos != 1)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "attest: give the host NAME (or --batch DIR)"), &d);
	if ((r = tg_cli_name_arg("host name", pos[0], &d)) != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (bundle) {
		if (tg_bundle_open(bundle, &bf) != TG_OK)
			return tg_cli_fail(ctx, TG_E_NOMEM, &d);
		msg = msg ? msg : bf.msg;
		sig = sig ? sig : bf.sig;
		pcrs = pcrs ? pcrs : tg_bundle_if_present(bf.pcrs);
		log = log ? log : tg_bundle_if_present(bf.log);
	}
	if (!msg || !sig || !log || !nonce)
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_USAGE, "attest: --msg, --sig, --eventlog and --nonce (or --bundle DIR and --nonce) are required"), &d);
	return attest_one(ctx, pos[0], msg, sig, pcrs, log, tg_bundle_if_present(bf.ak_tpm2b), nonce, required);
}
