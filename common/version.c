/*
 * Version strings and their order, as Debian's dpkg orders them
 * (deb-version(7)): [epoch:]upstream[-revision]; the epoch compares as a
 * number, then upstream and revision alternate non-digit runs (compared
 * character by character, '~' before everything, even the end; letters
 * before other symbols) and digit runs (compared as numbers).
 */
#include <ctype.h>
#include <string.h>

#include "version.h"

bool tg_version_valid(const char *v)
{
	size_t n = v ? strlen(v) : 0;
	const char *colon;

	if (n == 0 || n > TG_MAX_VERSION)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)v[i];
		if (!isalnum(c) && !strchr(".+~:-", c))
			return false;
	}
	colon = strchr(v, ':');
	if (colon) {
		if (colon == v || strchr(colon + 1, ':'))
			return false;
		for (const char *p = v; p < colon; p++)
			if (!isdigit((unsigned char)*p))
				return false;
		v = colon + 1;
	}
	/* The upstream part starts with a digit (deb-version(7)). */
	return isdigit((unsigned char)v[0]) != 0;
}

/* Weight of one character in a non-digit run. */
static int weight(int c)
{
	if (c == '~')
		return -1;
	if (c == 0 || isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	return c + 256;
}

static int cmp_part(const char *a, size_t an, const char *b, size_t bn)
{
	size_t i = 0, j = 0;

	while (i < an || j < bn) {
		/* non-digit run */
		while ((i < an && !isdigit((unsigned char)a[i])) ||
		       (j < bn && !isdigit((unsigned char)b[j]))) {
			int wa = i < an ? weight((unsigned char)a[i]) : 0;
			int wb = j < bn ? weight((unsigned char)b[j]) : 0;
			if (wa != wb)
				return wa < wb ? -1 : 1;
			if (i < an) i++;
			if (j < bn) j++;
		}
		/* digit run: skip leading zeros, then longer is larger */
		while (i < an && a[i] == '0') i++;
		while (j < bn && b[j] == '0') j++;
		size_t si = i, sj = j;
		while (i < an && isdigit((unsigned char)a[i])) i++;
		while (j < bn && isdigit((unsigned char)b[j])) j++;
		size_t la = i - si, lb = j - sj;
		if (la != lb)
			return la < lb ? -1 : 1;
		int c = la ? memcmp(a + si, b + sj, la) : 0;
		if (c)
			return c < 0 ? -1 : 1;
	}
	return 0;
}

static void split(const char *v, unsigned long long *epoch, const char **up, size_t *upn,
		  const char **rev, size_t *revn)
{
	const char *colon = strchr(v, ':'), *dash;

	*epoch = 0;
	if (colon) {
		*epoch = strtoull(v, NULL, 10);
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	*up = v;
	*upn = dash ? (size_t)(dash - v) : strlen(v);
	*rev = dash ? dash + 1 : "";
	*revn = strlen(*rev);
}

int tg_version_cmp(const char *a, const char *b)
{
	unsigned long long ea, eb;
	const char *ua, *ub, *ra, *rb;
	size_t una, unb, rna, rnb;
	int c;

	split(a, &ea, &ua, &una, &ra, &rna);
	split(b, &eb, &ub, &unb, &rb, &rnb);
	if (ea != eb)
		return ea < eb ? -1 : 1;
	c = cmp_part(ua, una, ub, unb);
	if (c)
		return c;
	return cmp_part(ra, rna, rb, rnb);
}
