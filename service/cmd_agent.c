/*
 * trustgate agent: a host attesting itself to `trustgate serve`.
 *
 *   trustgate agent --server URL --host NAME --cert PEM --key PEM --ca PEM
 *                   [--interval S] [--once] [--tcti CONF] [--ak-alg rsa|ecc]
 *                   [--eventlog PATH] [--max-backoff S]
 *
 * Each round: ask the service for a nonce (POST /v1/hosts/NAME/nonce),
 * quote the boot PCRs with the local TPM over it (the AK `trustgate quote`
 * uses, persistent under the EK), submit quote, signature and event log
 * (POST /v1/hosts/NAME/attestation), and print the verdict in one line.
 * The certificate is the host certificate `trustgate user add NAME --role
 * host` issued for this host's AK; the service refuses it for any other
 * host.  Errors back off (5 s doubling to --max-backoff) and are said on
 * stderr; SIGTERM ends the agent between rounds.  With --once: one round,
 * exit 0 TRUSTED, 1 UNTRUSTED, 2 anything else.  HTTP is libcurl.
 *
 *   trustgate agent --enroll --server URL --host NAME --cert PEM --key PEM
 *                   --ca PEM --out DIR --reason TEXT [--model NAME] ...
 *
 * First-time enrolment, run once on the host with an operator's
 * certificate: the TPM's AK and EK go to POST /v1/hosts/NAME/challenge, the
 * TPM activates the credential that comes back (only the TPM holding both
 * keys can), and the secret goes to POST /v1/hosts with a certificate
 * request for a key made here; the host's certificate comes back and is
 * written with that key to DIR/NAME.pem and DIR/NAME.key.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <gnutls/crypto.h>

#include "pki.h"
#include "service.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../measure/tpm.h"
#include "../verifier/attest.h"

struct agent {
	const char *server, *host, *cert, *key, *ca, *tcti, *log;
	bool ecc;
	CURL *curl;
};

struct buf {
	char *p;
	size_t n;
};

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	struct buf *b = ud;
	size_t len = sz * n;

	/* An answer larger than any verdict is not one. */
	if (b->n + len > 16 * 1024 * 1024)
		return 0;
	char *grown = realloc(b->p, b->n + len + 1);
	if (!grown)
		return 0;
	memcpy(grown + b->n, p, len);
	b->p = grown;
	b->n += len;
	b->p[b->n] = 0;
	return len;
}

/* One request; *ret the parsed JSON answer (or NULL), *status the HTTP
 * status.  Transport failures are errors; HTTP errors are the caller's. */
static enum tg_err call(struct agent *a, const char *path, curl_mime *form, long *status, struct json_object **ret,
			struct tg_diag *d)
{
	_cleanup_free_ char *url = NULL;
	struct buf b = { 0 };
	CURLcode rc;

	*ret = NULL;
	*status = 0;
	if (asprintf(&url, "%s%s", a->server, path) < 0)
		return TG_E_NOMEM;
	curl_easy_setopt(a->curl, CURLOPT_URL, url);
	curl_easy_setopt(a->curl, CURLOPT_POST, 1L);
	if (form)
		curl_easy_setopt(a->curl, CURLOPT_MIMEPOST, form);
	else
		curl_easy_setopt(a->curl, CURLOPT_POSTFIELDSIZE, 0L);
	curl_easy_setopt(a->curl, CURLOPT_WRITEDATA, &b);
	rc = curl_easy_perform(a->curl);
	if (form)
		curl_easy_setopt(a->curl, CURLOPT_MIMEPOST, NULL);
	if (rc != CURLE_OK) {
		free(b.p);
		return tg_fail(d, TG_E_IO, "%s: %s", url, curl_easy_strerror(rc));
	}
	curl_easy_getinfo(a->curl, CURLINFO_RESPONSE_CODE, status);
	if (b.p)
		*ret = json_tokener_parse(b.p);
	free(b.p);
	return TG_OK;
}

static const char *error_of(struct json_object *o)
{
	const char *e = tg_jstr(o, "error");

	return e ? e : "(no error text)";
}

static void add_part(curl_mime *form, const char *name, const void *data, size_t len, const char *filename)
{
	curl_mimepart *p = curl_mime_addpart(form);

	curl_mime_name(p, name);
	curl_mime_data(p, (const char *)data, len);
	if (filename)
		curl_mime_filename(p, filename);
}

/* One round; 0 TRUSTED, 1 UNTRUSTED, 2 error (said in d). */
static int round_once(struct agent *a, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *nj = NULL, *vj = NULL;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ uint8_t *logb = NULL;
	struct tg_tpm *tpm = NULL;
	struct tg_tpm_quote q = { 0 };
	uint8_t nb[64];
	size_t nl = 0, logl = 0;
	long status = 0;
	enum tg_err r;

	if (asprintf(&path, "/v1/hosts/%s/nonce", a->host) < 0)
		return tg_fail(d, TG_E_NOMEM, "out of memory"), 2;
	r = call(a, path, NULL, &status, &nj, d);
	if (r != TG_OK)
		return 2;
	const char *nonce = tg_jstr(nj, "nonce");
	if (status != 200 || !nonce || !tg_hex_decode(nonce, nb, sizeof(nb), &nl) || nl < 16) {
		tg_fail(d, TG_E_IO, "nonce: HTTP %ld: %s", status, error_of(nj));
		return 2;
	}
	r = tg_file_read_stream(a->log, TG_MAX_EVENTLOG, &logb, &logl, d);
	if (r == TG_OK)
		r = tg_tpm_open(a->tcti, &tpm, d);
	if (r == TG_OK)
		r = tg_tpm_quote(tpm, a->ecc, nb, nl, TG_ATTEST_DEFAULT_PCRS, &q, d);
	tg_tpm_close(tpm);
	if (r != TG_OK) {
		tg_tpm_quote_release(&q);
		return 2;
	}
	curl_mime *form = curl_mime_init(a->curl);
	add_part(form, "quote", q.attest, q.attest_len, "attest.bin");
	add_part(form, "sig", q.sig, q.sig_len, "sig.bin");
	add_part(form, "log", logb, logl, "eventlog.bin");
	add_part(form, "nonce", nonce, strlen(nonce), NULL);
	free(path);
	path = NULL;
	if (asprintf(&path, "/v1/hosts/%s/attestation", a->host) < 0)
		r = TG_E_NOMEM;
	if (r == TG_OK)
		r = call(a, path, form, &status, &vj, d);
	curl_mime_free(form);
	tg_tpm_quote_release(&q);
	if (r != TG_OK)
		return 2;
	const char *verdict = tg_jstr(vj, "verdict");
	if (status != 200 || !verdict) {
		tg_fail(d, TG_E_IO, "attestation: HTTP %ld: %s", status, error_of(vj));
		return 2;
	}
	bool trusted = strcmp(verdict, "trusted") == 0;
	char now[32];
	tg_now_iso(now);
	printf("%s  %s  %s  verdict %lld", now, trusted ? "TRUSTED" : "UNTRUSTED", a->host,
	       (long long)json_object_get_int64(tg_jget(vj, "id")));
	struct json_object *reasons = tg_jget(vj, "reasons");
	for (size_t i = 0; reasons && i < json_object_array_length(reasons); i++)
		printf("%s%s", i ? "," : "  ", tg_jstr(json_object_array_get_idx(reasons, i), "code"));
	printf("\n");
	fflush(stdout);
	return trusted ? 0 : 1;
}

struct enrolment {
	const char *model, *reason, *out;
};

/* The challenge round-trip and the certificate; TG_OK when enrolled and
 * the certificate and key are written. */
static enum tg_err enroll(struct agent *a, const struct enrolment *en, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *cj = NULL, *ej = NULL;
	_cleanup_free_ char *path = NULL, *key_pem = NULL, *csr_pem = NULL, *pem_file = NULL, *key_file = NULL;
	_cleanup_free_ uint8_t *ak = NULL, *ek = NULL;
	struct tg_tpm *tpm = NULL;
	uint8_t blob[512], enc[600], secret[64];
	char secret_hex[129];
	size_t akl = 0, ekl = 0, bl = 0, el = 0, sl = 0;
	long status = 0;
	enum tg_err r;

	if (asprintf(&pem_file, "%s/%s.pem", en->out, a->host) < 0 || asprintf(&key_file, "%s/%s.key", en->out, a->host) < 0 ||
	    asprintf(&path, "/v1/hosts/%s/challenge", a->host) < 0)
		return TG_E_NOMEM;
	if (access(pem_file, F_OK) == 0 || access(key_file, F_OK) == 0)
		return tg_fail(d, TG_E_EXISTS, "%s: a certificate or key of this host is already there", en->out);
	r = tg_tpm_open(a->tcti, &tpm, d);
	if (r == TG_OK)
		r = tg_tpm_identity(tpm, a->ecc, &ak, &akl, &ek, &ekl, d);
	if (r == TG_OK) {
		curl_mime *form = curl_mime_init(a->curl);
		add_part(form, "ak", ak, akl, "ak.tpm2b");
		add_part(form, "ek", ek, ekl, "ek.tpm2b");
		r = call(a, path, form, &status, &cj, d);
		curl_mime_free(form);
	}
	if (r == TG_OK && status != 201)
		r = tg_fail(d, TG_E_IO, "challenge: HTTP %ld: %s", status, error_of(cj));
	if (r == TG_OK) {
		const char *b = tg_jstr(cj, "credential_blob"), *e = tg_jstr(cj, "encrypted_secret");
		if (!b || !e || !tg_hex_decode(b, blob, sizeof(blob), &bl) || !tg_hex_decode(e, enc, sizeof(enc), &el))
			r = tg_fail(d, TG_E_FORMAT, "challenge: the service's answer is not a challenge");
	}
	if (r == TG_OK)
		r = tg_tpm_activate(tpm, a->ecc, false, blob, bl, enc, el, secret, &sl, d);
	tg_tpm_close(tpm);
	if (r == TG_OK)
		r = tg_pki_csr_make(a->host, &key_pem, &csr_pem, d);
	if (r == TG_OK) {
		curl_mime *form = curl_mime_init(a->curl);
		tg_hex_encode(secret, sl, secret_hex);
		add_part(form, "name", a->host, strlen(a->host), NULL);
		add_part(form, "ak", ak, akl, "ak.tpm2b");
		add_part(form, "ek", ek, ekl, "ek.tpm2b");
		add_part(form, "secret", secret_hex, strlen(secret_hex), NULL);
		add_part(form, "reason", en->reason, strlen(en->reason), NULL);
		if (en->model)
			add_part(form, "model", en->model, strlen(en->model), NULL);
		add_part(form, "csr", csr_pem, strlen(csr_pem), "host.csr");
		r = call(a, "/v1/hosts", form, &status, &ej, d);
		curl_mime_free(form);
	}
	if (r == TG_OK && status != 201)
		r = tg_fail(d, TG_E_IO, "enrolment: HTTP %ld: %s", status, error_of(ej));
	const char *cert = r == TG_OK ? tg_jstr(tg_jget(ej, "certificate"), "cert_pem") : NULL;
	if (r == TG_OK && !cert)
		r = tg_fail(d, TG_E_FORMAT, "enrolment: the service's answer holds no certificate");
	if (r == TG_OK)
		r = tg_file_write_new(key_file, key_pem, strlen(key_pem), 0600, d);
	if (r == TG_OK && (r = tg_file_write_new(pem_file, cert, strlen(cert), 0644, d)) != TG_OK)
		unlink(key_file);
	if (r == TG_OK)
		printf("enrolled %s (AK %s): certificate %s, key %s\n", a->host,
		       tg_jstr(ej, "ak_fingerprint") ? tg_jstr(ej, "ak_fingerprint") : "?", pem_file, key_file);
	return r;
}

int tg_cmd_agent(struct tg_ctx *ctx, int argc, char **argv)
{
	static const char *const default_log = "/sys/kernel/security/tpm0/binary_bios_measurements";
	const char *server = NULL, *host = NULL, *cert = NULL, *key = NULL, *ca = NULL, *interval_s = NULL;
	const char *tcti = NULL, *alg = NULL, *log = NULL, *backoff_s = NULL;
	struct enrolment en = { 0 };
	bool once = false, enrol = false;
	const struct tg_opt opts[] = {
		{ "server", true, &server, NULL },   { "host", true, &host, NULL },
		{ "cert", true, &cert, NULL },       { "key", true, &key, NULL },
		{ "ca", true, &ca, NULL },           { "interval", true, &interval_s, NULL },
		{ "once", false, NULL, &once },      { "tcti", true, &tcti, NULL },
		{ "ak-alg", true, &alg, NULL },      { "eventlog", true, &log, NULL },
		{ "max-backoff", true, &backoff_s, NULL },
		{ "enroll", false, NULL, &enrol },   { "out", true, &en.out, NULL },
		{ "reason", true, &en.reason, NULL }, { "model", true, &en.model, NULL },
		{ NULL, false, NULL, NULL },
	};
	struct agent a = { 0 };
	struct tg_diag d = { { 0 } };
	unsigned interval = 60, max_backoff = 300, backoff = 5;
	char **pos;
	int npos, code = TG_EXIT_ERROR;
	enum tg_err r = tg_cli_parse(ctx, argc, argv, opts, 0, 0, &pos, &npos, &d);

	if (r == TG_OK && (!server || !host || !cert || !key || !ca))
		r = tg_fail(&d, TG_E_USAGE, "agent: --server URL, --host NAME, --cert, --key and --ca are required");
	if (r == TG_OK && strncmp(server, "https://", 8) != 0)
		r = tg_fail(&d, TG_E_USAGE, "--server '%s': an https:// URL (the service admits mutual TLS only)", server);
	if (r == TG_OK && !tg_cli_name_ok(host))
		r = tg_fail(&d, TG_E_USAGE, "--host: a host name as enrolled");
	unsigned long long iv = 60, mb = 300;
	if (r == TG_OK && ((interval_s && !tg_parse_uint(interval_s, 5, 86400, &iv)) ||
			   (backoff_s && !tg_parse_uint(backoff_s, 5, 86400, &mb))))
		r = tg_fail(&d, TG_E_USAGE, "--interval and --max-backoff: 5 to 86400 seconds");
	if (r == TG_OK && alg && strcmp(alg, "rsa") != 0 && strcmp(alg, "ecc") != 0)
		r = tg_fail(&d, TG_E_USAGE, "--ak-alg '%s': rsa or ecc", alg);
	if (r == TG_OK && enrol && (!en.out || !en.reason))
		r = tg_fail(&d, TG_E_USAGE, "agent --enroll: --out DIR (for the host's certificate and key) and --reason "
					    "TEXT are required");
	if (r == TG_OK && !enrol && (en.out || en.reason || en.model))
		r = tg_fail(&d, TG_E_USAGE, "agent: --out, --reason and --model are for --enroll");
	if (r == TG_OK) {
		for (const char *f[] = { cert, key, ca, NULL }, **p = f; *p; p++)
			if (access(*p, R_OK) != 0) {
				r = tg_fail(&d, TG_E_IO, "%s: cannot read it", *p);
				break;
			}
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	interval = (unsigned)iv;
	max_backoff = (unsigned)mb;
	a.server = server;
	a.host = host;
	a.tcti = tcti;
	a.ecc = alg && strcmp(alg, "ecc") == 0;
	a.log = log ? log : default_log;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 || !(a.curl = curl_easy_init()))
		return tg_cli_fail(ctx, tg_fail(&d, TG_E_NOMEM, "agent: libcurl did not start"), &d);
	curl_easy_setopt(a.curl, CURLOPT_SSLCERT, cert);
	curl_easy_setopt(a.curl, CURLOPT_SSLKEY, key);
	curl_easy_setopt(a.curl, CURLOPT_CAINFO, ca);
	curl_easy_setopt(a.curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(a.curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(a.curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(a.curl, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(a.curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(a.curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(a.curl, CURLOPT_NOSIGNAL, 1L);

	if (enrol) {
		r = enroll(&a, &en, &d);
		curl_easy_cleanup(a.curl);
		curl_global_cleanup();
		return r == TG_OK ? TG_EXIT_OK : tg_cli_fail(ctx, r, &d);
	}
	tg_service_stop_on_term();
	while (!tg_service_stop) {
		memset(&d, 0, sizeof(d));
		code = round_once(&a, &d);
		if (code == 2)
			fprintf(stderr, "trustgate agent: %s\n", d.msg);
		if (once)
			break;
		/* A failed round is retried sooner, then less and less often. */
		unsigned wait = code == 2 ? backoff : interval;
		backoff = code == 2 ? (backoff * 2 > max_backoff ? max_backoff : backoff * 2) : 5;
		uint8_t j = 0;
		gnutls_rnd(GNUTLS_RND_NONCE, &j, 1);
		wait += wait / 10 * j / 255;   /* jitter: hosts booted together spread out */
		for (unsigned s = 0; s < wait && !tg_service_stop; s++)
			sleep(1);
	}
	curl_easy_cleanup(a.curl);
	curl_global_cleanup();
	return once ? code : TG_EXIT_OK;
}
