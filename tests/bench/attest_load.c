/*
 * Load generator for `make bench` (the service): agents that attest over
 * HTTPS as a host's agent does -- fetch a nonce, quote, submit -- many at a
 * time, each on one keep-alive TLS connection with its own host
 * certificate.  The "TPM" is software here (an RSA-2048 restricted signing
 * key whose TPM2B_PUBLIC is enrolled as the host's AK, quotes built and
 * signed as a TPM builds them), so that the service, not a simulator, is
 * what is measured.  Bench tool only; never part of the product.
 *
 *   attest_load keys N DIR                  DIR/hI.tpm2b, DIR/hI.key (I = 1..N)
 *   attest_load files N KEYDIR LOG PCRDIGEST NONCE OUTDIR
 *                                           bundles for `attest --batch`
 *   attest_load run PORT[,PORT...] CA CERTDIR KEYDIR LOG PCRDIGEST QUOTES AGENTS
 *                                           (QUOTES per agent, quoted before the timed part;
 *                                           agent I talks to the (I mod n)th port: several
 *                                           services on one set of records)
 *   attest_load idle PORT CA CERT KEY N SECONDS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gcrypt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <tss2/tss2_mu.h>

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "attest_load: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t cap = 0, n = 0;

	if (!f)
		die("cannot read %s", path);
	for (;;) {
		if (n == cap && !(b = realloc(b, cap = cap ? cap * 2 : 65536)))
			die("out of memory");
		size_t got = fread(b + n, 1, cap - n, f);
		if (!got)
			break;
		n += got;
	}
	fclose(f);
	*len = n;
	return b;
}

static void spill(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
		die("cannot write %s", path);
}

static int unhex(const char *s, uint8_t *out, size_t max)
{
	size_t n = strlen(s) / 2;

	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
			return -1;
	return (int)n;
}

/* ------------------------------------------------------------ the AK */

struct ak {
	gcry_sexp_t key;
	TPMT_PUBLIC pub;
	uint8_t name[34];
};

static void ak_public(struct ak *a)
{
	gcry_sexp_t n = gcry_sexp_find_token(a->key, "n", 0);
	gcry_mpi_t m = gcry_sexp_nth_mpi(n, 1, GCRYMPI_FMT_USG);
	uint8_t buf[1024], mod[256];
	size_t len = 0, off = 0;

	gcry_mpi_print(GCRYMPI_FMT_USG, mod, sizeof(mod), &len, m);
	memset(&a->pub, 0, sizeof(a->pub));
	a->pub.type = TPM2_ALG_RSA;
	a->pub.nameAlg = TPM2_ALG_SHA256;
	a->pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN |
				  TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	a->pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	a->pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
	a->pub.parameters.rsaDetail.scheme.details.rsassa.hashAlg = TPM2_ALG_SHA256;
	a->pub.parameters.rsaDetail.keyBits = 2048;
	a->pub.unique.rsa.size = (UINT16)len;
	memcpy(a->pub.unique.rsa.buffer, mod, len);
	Tss2_MU_TPMT_PUBLIC_Marshal(&a->pub, buf, sizeof(buf), &off);
	a->name[0] = 0x00;
	a->name[1] = 0x0b;
	gcry_md_hash_buffer(GCRY_MD_SHA256, a->name + 2, buf, off);
	gcry_mpi_release(m);
	gcry_sexp_release(n);
}

static void ak_load(struct ak *a, const char *path)
{
	size_t len;
	uint8_t *b = slurp(path, &len);

	if (gcry_sexp_new(&a->key, b, len, 1))
		die("%s: not a key", path);
	free(b);
	ak_public(a);
}

/* A quote over nonce and pcr digest, signed RSASSA-SHA256: msg is the
 * TPMS_ATTEST as tpm2_quote -m writes it, sig the TPMT_SIGNATURE. */
static void ak_quote(struct ak *a, const uint8_t *nonce, size_t nl, const uint8_t pcrd[32], uint64_t clock,
		     uint8_t *msg, size_t *msgl, uint8_t *sig, size_t *sigl)
{
	TPMS_ATTEST at = { 0 };
	TPMT_SIGNATURE ts = { 0 };
	uint8_t h[32];
	gcry_sexp_t data = NULL, s = NULL, tok;
	gcry_mpi_t m;
	size_t len = 0;

	at.magic = TPM2_GENERATED_VALUE;
	at.type = TPM2_ST_ATTEST_QUOTE;
	at.qualifiedSigner.size = sizeof(a->name);
	memcpy(at.qualifiedSigner.name, a->name, sizeof(a->name));
	at.extraData.size = (UINT16)nl;
	memcpy(at.extraData.buffer, nonce, nl);
	at.clockInfo.clock = clock;
	at.clockInfo.resetCount = 1;
	at.clockInfo.safe = 1;
	at.firmwareVersion = 0x20240101;
	at.attested.quote.pcrSelect.count = 1;
	at.attested.quote.pcrSelect.pcrSelections[0].hash = TPM2_ALG_SHA256;
	at.attested.quote.pcrSelect.pcrSelections[0].sizeofSelect = 3;
	at.attested.quote.pcrSelect.pcrSelections[0].pcrSelect[0] = 0xff;
	at.attested.quote.pcrDigest.size = 32;
	memcpy(at.attested.quote.pcrDigest.buffer, pcrd, 32);
	*msgl = 0;
	Tss2_MU_TPMS_ATTEST_Marshal(&at, msg, 1024, msgl);
	gcry_md_hash_buffer(GCRY_MD_SHA256, h, msg, *msgl);
	gcry_sexp_build(&data, NULL, "(data (flags pkcs1) (hash sha256 %b))", 32, h);
	if (gcry_pk_sign(&s, data, a->key))
		die("signing failed");
	tok = gcry_sexp_find_token(s, "s", 0);
	m = gcry_sexp_nth_mpi(tok, 1, GCRYMPI_FMT_USG);
	uint8_t raw[256] = { 0 };
	gcry_mpi_print(GCRYMPI_FMT_USG, raw, sizeof(raw), &len, m);
	ts.sigAlg = TPM2_ALG_RSASSA;
	ts.signature.rsassa.hash = TPM2_ALG_SHA256;
	ts.signature.rsassa.sig.size = 256;
	memcpy(ts.signature.rsassa.sig.buffer + (256 - len), raw, len);
	*sigl = 0;
	Tss2_MU_TPMT_SIGNATURE_Marshal(&ts, sig, 1024, sigl);
	gcry_mpi_release(m);
	gcry_sexp_release(tok);
	gcry_sexp_release(s);
	gcry_sexp_release(data);
}

static int cmd_keys(int n, const char *dir)
{
	for (int i = 1; i <= n; i++) {
		gcry_sexp_t parms, key, priv;
		struct ak a;
		char path[4096], buf[8192];
		uint8_t pub[1024];
		size_t off = 2, len;

		gcry_sexp_build(&parms, NULL, "(genkey (rsa (nbits 4:2048)))");
		if (gcry_pk_genkey(&key, parms))
			die("key generation failed");
		priv = gcry_sexp_find_token(key, "private-key", 0);
		len = gcry_sexp_sprint(priv, GCRYSEXP_FMT_CANON, buf, sizeof(buf));
		snprintf(path, sizeof(path), "%s/h%d.key", dir, i);
		spill(path, buf, len);
		a.key = priv;
		ak_public(&a);
		Tss2_MU_TPMT_PUBLIC_Marshal(&a.pub, pub, sizeof(pub), &off);
		pub[0] = (uint8_t)((off - 2) >> 8);
		pub[1] = (uint8_t)(off - 2);
		snprintf(path, sizeof(path), "%s/h%d.tpm2b", dir, i);
		spill(path, pub, off);
		gcry_sexp_release(priv);
		gcry_sexp_release(key);
		gcry_sexp_release(parms);
	}
	return 0;
}

static int cmd_files(int n, const char *keydir, const char *log, const char *pcrd_hex, const char *nonce_hex,
		     const char *out)
{
	uint8_t pcrd[32], nonce[64], msg[1024], sig[1024];
	size_t logl, msgl, sigl;
	uint8_t *lb = slurp(log, &logl);
	int nl = unhex(nonce_hex, nonce, sizeof(nonce));

	if (unhex(pcrd_hex, pcrd, 32) != 32 || nl <= 0)
		die("bad pcr digest or nonce");
	for (int i = 1; i <= n; i++) {
		struct ak a;
		char p[4096];
		snprintf(p, sizeof(p), "%s/h%d.key", keydir, i);
		ak_load(&a, p);
		ak_quote(&a, nonce, (size_t)nl, pcrd, 1000, msg, &msgl, sig, &sigl);
		snprintf(p, sizeof(p), "%s/h%d", out, i);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/h%d/attest.bin", out, i);
		spill(p, msg, msgl);
		snprintf(p, sizeof(p), "%s/h%d/sig.bin", out, i);
		spill(p, sig, sigl);
		snprintf(p, sizeof(p), "%s/h%d/eventlog.bin", out, i);
		spill(p, lb, logl);
		snprintf(p, sizeof(p), "%s/h%d/nonce", out, i);
		spill(p, nonce_hex, strlen(nonce_hex));
		gcry_sexp_release(a.key);
	}
	free(lb);
	return 0;
}

/* ------------------------------------------------------------ HTTPS */

struct conn {
	int fd;
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
};

static int conn_open(struct conn *c, int port, const char *ca, const char *cert, const char *key)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(0x7f000001) };
	int one = 1, rc;

	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	gnutls_certificate_allocate_credentials(&c->cred);
	gnutls_certificate_set_x509_trust_file(c->cred, ca, GNUTLS_X509_FMT_PEM);
	if (gnutls_certificate_set_x509_key_file(c->cred, cert, key, GNUTLS_X509_FMT_PEM) < 0)
		die("cannot load %s", cert);
	gnutls_init(&c->s, GNUTLS_CLIENT);
	gnutls_set_default_priority(c->s);
	gnutls_credentials_set(c->s, GNUTLS_CRD_CERTIFICATE, c->cred);
	gnutls_server_name_set(c->s, GNUTLS_NAME_DNS, "localhost", 9);
	gnutls_session_set_verify_cert(c->s, "localhost", 0);
	gnutls_transport_set_int(c->s, c->fd);
	do
		rc = gnutls_handshake(c->s);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	return rc < 0 ? -1 : 0;
}

static void conn_close(struct conn *c)
{
	gnutls_bye(c->s, GNUTLS_SHUT_WR);
	gnutls_deinit(c->s);
	gnutls_certificate_free_credentials(c->cred);
	close(c->fd);
}

static int send_all(struct conn *c, const void *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = gnutls_record_send(c->s, (const char *)p + done, n - done);
		if (w == GNUTLS_E_AGAIN || w == GNUTLS_E_INTERRUPTED)
			continue;
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

/* One request, one answer (Content-Length bodies only, as the service
 * sends them); returns the status, body in buf (NUL-terminated). */
static int request(struct conn *c, const char *method, const char *path, const char *ctype, const void *body,
		   size_t bl, char *buf, size_t cap)
{
	char head[512];
	int hl = snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n%s%s%s\r\n",
			  method, path, bl, ctype ? "Content-Type: " : "", ctype ? ctype : "", ctype ? "\r\n" : "");
	size_t got = 0, need = 0;
	char *eoh = NULL;

	if (send_all(c, head, (size_t)hl) < 0 || (bl && send_all(c, body, bl) < 0))
		return -1;
	for (;;) {
		ssize_t r = gnutls_record_recv(c->s, buf + got, cap - 1 - got);
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
		buf[got] = 0;
		if (!eoh && (eoh = strstr(buf, "\r\n\r\n"))) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");
			need = (size_t)(eoh + 4 - buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
		}
		if (eoh && got >= need)
			break;
		if (got + 1 >= cap)
			return -1;
	}
	int status = atoi(buf + 9);
	memmove(buf, eoh + 4, got - (size_t)(eoh + 4 - buf) + 1);
	return status;
}

struct agent {
	int id, port, quotes;
	const char *ca, *certdir, *keydir;
	const uint8_t *log, *pcrd;
	size_t logl;
	pthread_barrier_t *ready;
	long done, failed;
	double *lat;
	size_t nlat;
	double nonce_s;                /* time spent asking for nonces */
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Phase 1 (not in the attestation figure): ask for `quotes` nonces and
 * quote each, as the host's TPM would.  Phase 2, after every agent is
 * ready: submit them, one after another, timed. */
static void *agent_run(void *ud)
{
	struct agent *g = ud;
	struct conn c;
	struct ak a;
	char cert[4096], key[4096], path[256], p[4096];
	char *buf = malloc(1 << 20);
	char **bodies = calloc((size_t)g->quotes, sizeof(char *));
	size_t *blen = calloc((size_t)g->quotes, sizeof(size_t));
	uint8_t msg[1024], sig[1024], nonce[64];
	size_t msgl, sigl;
	uint64_t clock = (uint64_t)time(NULL) * 1000;

	snprintf(cert, sizeof(cert), "%s/h%d.pem", g->certdir, g->id);
	snprintf(key, sizeof(key), "%s/h%d.key", g->certdir, g->id);
	snprintf(p, sizeof(p), "%s/h%d.key", g->keydir, g->id);
	ak_load(&a, p);
	if (conn_open(&c, g->port, g->ca, cert, key) < 0)
		die("agent cannot connect");
	g->lat = calloc((size_t)g->quotes, sizeof(double));
	snprintf(path, sizeof(path), "/v1/hosts/h%d/nonce", g->id);
	for (int q = 0; q < g->quotes; q++) {
		double t0 = now_s();
		int st = request(&c, "POST", path, NULL, NULL, 0, buf, 1 << 20);
		g->nonce_s += now_s() - t0;
		char *nh = st == 200 ? strstr(buf, "\"nonce\": \"") : NULL;
		if (!nh)
			die("nonce request failed: %d", st);
		nh[10 + 64] = 0;
		int nl = unhex(nh + 10, nonce, sizeof(nonce));
		ak_quote(&a, nonce, (size_t)nl, g->pcrd, ++clock, msg, &msgl, sig, &sigl);
		char *body = bodies[q] = malloc(4096 + g->logl);
		size_t bl = 0;
#define PART(name, ct) bl += (size_t)sprintf(body + bl, "--tgbench\r\nContent-Disposition: form-data; name=\"%s\"; " \
							     "filename=\"%s\"\r\nContent-Type: %s\r\n\r\n", name, name, ct)
		PART("quote", "application/octet-stream");
		memcpy(body + bl, msg, msgl), bl += msgl;
		bl += (size_t)sprintf(body + bl, "\r\n");
		PART("sig", "application/octet-stream");
		memcpy(body + bl, sig, sigl), bl += sigl;
		bl += (size_t)sprintf(body + bl, "\r\n");
		PART("log", "application/octet-stream");
		memcpy(body + bl, g->log, g->logl), bl += g->logl;
		bl += (size_t)sprintf(body + bl, "\r\n--tgbench\r\nContent-Disposition: form-data; name=\"nonce\"\r\n\r\n%.64s"
					      "\r\n--tgbench--\r\n", nh + 10);
		blen[q] = bl;
	}
	pthread_barrier_wait(g->ready);
	snprintf(path, sizeof(path), "/v1/hosts/h%d/attestation", g->id);
	for (int q = 0; q < g->quotes; q++) {
		double t0 = now_s();
		int st = request(&c, "POST", path, "multipart/form-data; boundary=tgbench", bodies[q], blen[q], buf, 1 << 20);
		if (st == 200 && strstr(buf, "\"verdict\":\"trusted\"")) {
			g->done++;
			g->lat[g->nlat++] = now_s() - t0;
		} else {
			g->failed++;
			if (g->failed < 3)
				fprintf(stderr, "attest_load: h%d: %d %.300s\n", g->id, st, buf);
			if (st < 0)
				break;
		}
	}
	conn_close(&c);
	for (int q = 0; q < g->quotes; q++)
		free(bodies[q]);
	free(bodies);
	free(blen);
	free(buf);
	gcry_sexp_release(a.key);
	return NULL;
}

static int cmp_d(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static int cmd_run(int argc, char **argv)
{
	int ports[16], nports = 0, quotes = atoi(argv[8]), n = atoi(argv[9]);
	uint8_t pcrd[32];
	size_t logl;
	uint8_t *log = slurp(argv[6], &logl);
	struct agent *g = calloc((size_t)n, sizeof(*g));
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	pthread_barrier_t ready;
	double t0, t1, *all, nonce_s = 0;
	long done = 0, failed = 0;
	size_t total = 0;

	if (unhex(argv[7], pcrd, 32) != 32)
		die("bad pcr digest");
	for (char *p = argv[2]; *p && nports < 16;) {
		ports[nports++] = atoi(p);
		p += strcspn(p, ",");
		if (*p)
			p++;
	}
	if (!nports)
		die("no port");
	pthread_barrier_init(&ready, NULL, (unsigned)n + 1);
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		g[i] = (struct agent){ .id = i + 1, .port = ports[i % nports], .ca = argv[3], .certdir = argv[4], .keydir = argv[5],
				       .log = log, .logl = logl, .pcrd = pcrd, .quotes = quotes, .ready = &ready };
		pthread_create(&t[i], NULL, agent_run, &g[i]);
	}
	pthread_barrier_wait(&ready);
	t1 = now_s();
	fprintf(stderr, "attest_load: %d nonces issued and quoted in %.1f s\n", n * quotes, t1 - t0);
	t0 = now_s();
	for (int i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		done += g[i].done;
		failed += g[i].failed;
		total += g[i].nlat;
		nonce_s += g[i].nonce_s;
	}
	t1 = now_s();
	all = malloc((total + 1) * sizeof(double));
	total = 0;
	for (int i = 0; i < n; i++) {
		memcpy(all + total, g[i].lat, g[i].nlat * sizeof(double));
		total += g[i].nlat;
	}
	qsort(all, total, sizeof(double), cmp_d);
	printf("agents %d seconds %.2f attestations %ld failed %ld rate %.0f p50_ms %.1f p99_ms %.1f nonce_ms_mean %.2f\n",
	       n, t1 - t0, done, failed, (double)done / (t1 - t0), total ? all[total / 2] * 1e3 : 0,
	       total ? all[total * 99 / 100] * 1e3 : 0, n * quotes > 0 ? nonce_s * 1e3 / ((double)n * quotes) : 0);
	return failed ? 1 : 0;
}

static int cmd_idle(char **argv)
{
	int port = atoi(argv[2]), n = atoi(argv[6]);
	struct conn *c = calloc((size_t)n, sizeof(*c));
	int open_ok = 0;

	for (int i = 0; i < n; i++)
		if (conn_open(&c[i], port, argv[3], argv[4], argv[5]) == 0)
			open_ok++;
	printf("open %d\n", open_ok);
	fflush(stdout);
	sleep((unsigned)atoi(argv[7]));
	return 0;
}

int main(int argc, char **argv)
{
	gcry_check_version(NULL);
	gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
	if (argc == 4 && strcmp(argv[1], "keys") == 0)
		return cmd_keys(atoi(argv[2]), argv[3]);
	if (argc == 8 && strcmp(argv[1], "files") == 0)
		return cmd_files(atoi(argv[2]), argv[3], argv[4], argv[5], argv[6], argv[7]);
	if (argc == 10 && strcmp(argv[1], "run") == 0)
		return cmd_run(argc, argv);
	if (argc == 8 && strcmp(argv[1], "idle") == 0)
		return cmd_idle(argv);
	fprintf(stderr, "usage: see the comment at the top of tests/bench/attest_load.c\n");
	return 2;
}
