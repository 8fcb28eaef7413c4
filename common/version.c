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
	/* A hyphen ends the upstream part and starts a non-empty revision
	 * (dpkg refuses "1.0-"). */
	if (v[n - 1] == '-')
		return false;
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

/* The epoch is compared as a digit string like every other number here:
 * strtoull would clamp two different huge epochs to one value. */
static void split(const char *v, const char **epoch, size_t *epn, const char **up, size_t *upn,
		  const char **rev, size_t *revn)
{
	const char *colon = strchr(v, ':'), *dash;

	*epoch = "";
	*epn = 0;
	if (colon) {
		*epoch = v;
		*epn = (size_t)(colon - v);
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
	const char *ea, *eb, *ua, *ub, *ra, *rb;
	size_t ean, ebn, una, unb, rna, rnb;
	int c;

	split(a, &ea, &ean, &ua, &una, &ra, &rna);
	split(b, &eb, &ebn, &ub, &unb, &rb, &rnb);
	c = cmp_part(ea, ean, eb, ebn);
	if (c)
		return c;
	c = cmp_part(ua, una, ub, unb);
	if (c)
		return c;
	return cmp_part(ra, rna, rb, rnb);
}

/* One part in canonical form: each digit run without leading zeros and
 * never empty ("1." and "1.00" are both "1.0"; dpkg reads an absent
 * digit run as 0).  Returns the length written. */
static size_t canon_part(const char *a, size_t an, char *out)
{
	size_t i = 0, o = 0;

	while (i < an) {
		while (i < an && !isdigit((unsigned char)a[i]))
			out[o++] = a[i++];
		while (i < an && a[i] == '0')
			i++;
		size_t s = i;
		while (i < an && isdigit((unsigned char)a[i]))
			out[o++] = a[i++];
		if (i == s)
			out[o++] = '0';
	}
	return o;
}

bool tg_version_canonical(const char *v, char *out, size_t n)
{
	const char *ep, *up, *rev;
	size_t epn, upn, revn, o = 0;
	char tmp[3 * TG_MAX_VERSION + 8];

	if (!tg_version_valid(v))
		return false;
	split(v, &ep, &epn, &up, &upn, &rev, &revn);
	if (epn) {
		size_t e = canon_part(ep, epn, tmp);
		if (!(e == 1 && tmp[0] == '0')) {       /* epoch 0 is no epoch */
			tmp[e++] = ':';
			o = e;
		}
	}
	o += canon_part(up, upn, tmp + o);
	bool up_has_dash = memchr(up, '-', upn) != NULL;
	if (revn) {
		char rb[2 * TG_MAX_VERSION + 4];
		size_t r = canon_part(rev, revn, rb);
		/* A revision of 0 is no revision, unless the upstream part holds a
		 * hyphen (the revision is then what makes that hyphen legal). */
		if (!(r == 1 && rb[0] == '0') || up_has_dash) {
			tmp[o++] = '-';
			memcpy(tmp + o, rb, r);
			o += r;
		}
	}
	if (o >= n || o > TG_MAX_VERSION)
		return false;
	memcpy(out, tmp, o);
	out[o] = '\0';
	return true;
}
