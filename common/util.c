/* Errors, allocation and time helpers shared by every part. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <ctype.h>
#include <errno.h>

#include "tg.h"

enum tg_err tg_fail(struct tg_diag *d, enum tg_err err, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return err;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	/* A diagnostic is one line: untrusted text must not add lines to a
	 * log or forge a verdict line (THREATS case 63). */
	for (char *c = d->msg; *c; c++)
		if (*c == '\n' || *c == '\r' || (unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return err;
}

const char *tg_strerror(enum tg_err err)
{
	switch (err) {
	case TG_OK: return "success";
	case TG_E_USAGE: return "usage error";
	case TG_E_IO: return "I/O error";
	case TG_E_FORMAT: return "malformed input";
	case TG_E_LIMIT: return "input over limit";
	case TG_E_UNSUPPORTED: return "unsupported";
	case TG_E_CRYPTO: return "cryptographic library failure";
	case TG_E_DB: return "database error";
	case TG_E_TPM: return "TPM error";
	case TG_E_NOMEM: return "out of memory";
	case TG_E_NOTFOUND: return "not found";
	case TG_E_EXISTS: return "already exists";
	}
	return "unknown error";
}

void *tg_calloc(size_t n, size_t sz)
{
	return calloc(n ? n : 1, sz ? sz : 1);
}

char *tg_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

enum tg_err tg_grow_(void **p, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t c;
	void *np;

	if (n < *cap)
		return TG_OK;
	c = *cap ? *cap * 2 : first;
	if (c <= n || c > SIZE_MAX / elem || !(np = realloc(*p, c * elem)))
		return TG_E_NOMEM;
	*p = np;
	*cap = c;
	return TG_OK;
}

bool tg_memeq_ct(const void *a, const void *b, size_t n)
{
	const volatile uint8_t *x = a, *y = b;
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}

int64_t tg_now_epoch(void)
{
	return (int64_t)time(NULL);
}

void tg_epoch_iso(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void tg_now_iso(char out[32])
{
	tg_epoch_iso(tg_now_epoch(), out);
}

bool tg_parse_date(const char *s, int64_t *ret_epoch)
{
	struct tm tm = { 0 };
	const char *end;
	size_t n = s ? strlen(s) : 0;

	/* Accept exactly YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ: anything looser
	 * lets a typo silently become another date. */
	if (n == 10)
		end = strptime(s, "%Y-%m-%d", &tm);
	else if (n == 20)
		end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		return false;
	if (!end || *end)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	int mon = tm.tm_mon, mday = tm.tm_mday;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return false;
	/* timegm normalises 2025-02-31 to March: refuse such dates. */
	struct tm chk;
	gmtime_r(&t, &chk);
	if (chk.tm_mon != mon || chk.tm_mday != mday)
		return false;
	*ret_epoch = (int64_t)t;
	return true;
}

bool tg_list_has(const char *list, const char *item)
{
	size_t n = strlen(item);

	for (const char *p = list; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && memcmp(p, item, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

bool tg_parse_uint(const char *s, unsigned long long lo, unsigned long long hi, unsigned long long *ret)
{
	char *end = NULL;
	unsigned long long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v < lo || v > hi)
		return false;
	*ret = v;
	return true;
}

double tg_seconds_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}
