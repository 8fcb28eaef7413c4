/* Measured decisions (see decisions.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "decisions.h"
#include "../common/crypto.h"

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}

/* TCG_PCR_EVENT carrying TCG_EfiSpecIDEvent: one algorithm, SHA-256. */
static size_t spec_header(uint8_t *b)
{
	static const uint8_t spec[] = { 'S', 'p', 'e', 'c', ' ', 'I', 'D', ' ', 'E', 'v', 'e', 'n', 't', '0', '3', 0,
					0, 0, 0, 0,           /* platformClass */
					0, 2, 0, 2,           /* minor, major, errata, uintnSize */
					1, 0, 0, 0,           /* numberOfAlgorithms */
					0x0b, 0x00, 32, 0x00, /* SHA-256, 32 bytes */
					0 };                  /* vendorInfoSize */
	memset(b, 0, 32);
	le32(b + 4, 3);                   /* EV_NO_ACTION */
	le32(b + 28, sizeof(spec));
	memcpy(b + 32, spec, sizeof(spec));
	return 32 + sizeof(spec);
}

size_t tg_decision_log_events(struct tg_span buf)
{
	uint8_t h[128];
	size_t n = spec_header(h);

	return buf.len >= n && memcmp(buf.p, h, n) == 0 ? n : 0;
}

enum tg_err tg_decision_log_join(uint8_t **log, size_t *logl, const uint8_t *dec, size_t decl)
{
	size_t off = tg_decision_log_events(tg_span_make(dec, decl));
	uint8_t *grown;

	if (!off)
		return TG_E_FORMAT;
	if (!*log)
		off = 0;   /* the decision log is the whole log, header and all */
	grown = realloc(*log, *logl + decl - off);
	if (!grown)
		return TG_E_NOMEM;
	memcpy(grown + *logl, dec + off, decl - off);
	*log = grown;
	*logl += decl - off;
	return TG_OK;
}

enum tg_err tg_decision_measure(struct tg_tpm *t, const char *path, const char *line, struct tg_diag *d)
{
	size_t ll = strlen(TG_DECISION_PREFIX) + strlen(line);
	uint8_t *ev = malloc(64 + 128 + ll), digest[32];
	size_t n = 0;
	struct stat st;
	enum tg_err r;
	int fd;

	if (!ev)
		return TG_E_NOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0 || fstat(fd, &st) != 0) {
		r = tg_fail(d, TG_E_IO, "%s: cannot open the decision log: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size == 0)
		n = spec_header(ev);
	uint8_t *e = ev + n;
	le32(e, TG_DECISION_PCR);
	le32(e + 4, TG_EV_ACTION);
	le32(e + 8, 1);
	e[12] = 0x0b, e[13] = 0x00;
	memcpy(e + 46 + 4, TG_DECISION_PREFIX, strlen(TG_DECISION_PREFIX));
	memcpy(e + 50 + strlen(TG_DECISION_PREFIX), line, strlen(line));
	le32(e + 46, (uint32_t)ll);
	r = tg_digest(TG_HASH_SHA256, e + 50, ll, digest);
	if (r != TG_OK)
		goto out;
	memcpy(e + 14, digest, 32);
	n += 50 + ll;
	/* The TPM first: a decision the log shows was always extended. */
	r = tg_tpm_extend(t, TG_DECISION_PCR, digest, d);
	if (r == TG_OK && write(fd, ev, n) != (ssize_t)n)
		r = tg_fail(d, TG_E_IO, "%s: cannot append to the decision log: %s", path, strerror(errno));
	if (r == TG_OK && fsync(fd) != 0)
		r = tg_fail(d, TG_E_IO, "%s: cannot sync the decision log: %s", path, strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	free(ev);
	return r;
}
