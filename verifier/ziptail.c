/*
 * A zip behind a stub, from a file or from its bytes as they go by
 * (ziptail.h).  The rule is strict so that a blob merely containing
 * "PK\5\6" is not taken for a zip: the record must end exactly at the end
 * of the file (its comment included) and its central directory must begin
 * with a central file header.  A zip is walked and judged as a package; a
 * zip behind other bytes is never approved as an opaque blob (THREATS
 * case 7e), whichever way the bytes arrived.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>

#include "ziptail.h"
#include <stdlib.h>

#include "../common/tg.h"

/* The rule over the file's last bytes t[0..n) (the file's bytes from
 * offset base on); cd_at(ud, off) says whether a central directory file
 * header begins at offset off. */
static bool zip_tail_rule(const uint8_t *t, size_t n, uint64_t base, bool (*cd_at)(const void *, uint64_t),
			  const void *ud)
{
	if (n < 22)
		return false;
	for (size_t p = n - 22 + 1; p-- > 0;) {
		if (memcmp(t + p, "PK\5\6", 4) != 0)
			continue;
		uint32_t cd_size = (uint32_t)t[p + 12] | (uint32_t)t[p + 13] << 8 | (uint32_t)t[p + 14] << 16 |
				   (uint32_t)t[p + 15] << 24;
		uint16_t clen = (uint16_t)(t[p + 20] | t[p + 21] << 8);
		uint64_t eocd = base + p;
		if (p + 22 + clen != n || cd_size == 0 || cd_size > eocd)
			continue;
		return cd_at(ud, eocd - cd_size);
	}
	return false;
}

static bool cd_at_fd(const void *ud, uint64_t off)
{
	uint8_t h[4];

	return pread(*(const int *)ud, h, 4, (off_t)off) == 4 && memcmp(h, "PK\1\2", 4) == 0;
}

bool tg_zip_at_end(int fd, uint64_t size)
{
	uint8_t t[TG_ZIP_TAIL];
	size_t n = size < sizeof(t) ? (size_t)size : sizeof(t);
	uint64_t base = size - n;

	if (n < 22 || pread(fd, t, n, (off_t)base) != (ssize_t)n)
		return false;
	return zip_tail_rule(t, n, base, cd_at_fd, &fd);
}

/* ------------------------------------------------- as the bytes go by */

#define DEFAULT_MAX_MARKS ((size_t)1 << 20)

/* A central directory signature every 4 bytes of a 1 GiB upload would be
 * 2 GiB of offsets: past max_marks the rest are not noted. */
static void note(struct tg_ziptail *z, uint64_t off)
{
	size_t max = z->max_marks ? z->max_marks : DEFAULT_MAX_MARKS;

	if (z->marks_full)
		return;
	if (z->nmark >= max || tg_grow(z->mark, z->cap_mark, z->nmark, 64) != TG_OK) {
		z->marks_full = true;
		z->marks_upto = off;
		return;
	}
	z->mark[z->nmark++] = off;
}

/* "PK\1\2" in the piece at offset z->seen, and across its start. */
static void scan(struct tg_ziptail *z, const uint8_t *p, size_t n)
{
	uint8_t edge[6];
	size_t e = z->ncarry, take = n < 3 ? n : 3;

	memcpy(edge, z->carry, e);
	memcpy(edge + e, p, take);
	for (size_t i = 0; i < e && i + 4 <= e + take; i++)
		if (memcmp(edge + i, "PK\1\2", 4) == 0)
			note(z, z->seen - e + i);
	for (const uint8_t *q = p, *end = p + n; (q = memchr(q, 'P', (size_t)(end - q))) != NULL; q++)
		if (end - q >= 4 && q[1] == 'K' && q[2] == 1 && q[3] == 2)
			note(z, z->seen + (uint64_t)(q - p));
	/* The last three bytes of everything so far. */
	if (n >= 3) {
		memcpy(z->carry, p + n - 3, 3);
		z->ncarry = 3;
	} else if (e + n >= 3) {
		memcpy(z->carry, edge + e + n - 3, 3);
		z->ncarry = 3;
	} else {
		memcpy(z->carry, edge, e + n);
		z->ncarry = e + n;
	}
}

static void keep_tail(struct tg_ziptail *z, const uint8_t *p, size_t n)
{
	if (n >= TG_ZIP_TAIL) {
		memcpy(z->tail, p + n - TG_ZIP_TAIL, TG_ZIP_TAIL);
		z->tail_len = TG_ZIP_TAIL;
		return;
	}
	if (z->tail_len + n > sizeof(z->tail)) {
		size_t drop = z->tail_len + n - TG_ZIP_TAIL;
		memmove(z->tail, z->tail + drop, z->tail_len - drop);
		z->tail_len -= drop;
	}
	memcpy(z->tail + z->tail_len, p, n);
	z->tail_len += n;
}

void tg_ziptail_feed(struct tg_ziptail *z, const uint8_t *p, size_t n)
{
	if (!n)
		return;
	scan(z, p, n);
	keep_tail(z, p, n);
	z->seen += n;
}

static int off_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The marks are noted in order: sorted. */
static bool noted(const void *ud, uint64_t off)
{
	const struct tg_ziptail *z = ud;

	return z->nmark && bsearch(&off, z->mark, z->nmark, sizeof(*z->mark), off_cmp) != NULL;
}

/* Noted, or past the noted ones: where "not noted" does not mean "none". */
static bool noted_or_unknown(const void *ud, uint64_t off)
{
	const struct tg_ziptail *z = ud;

	return (z->marks_full && off >= z->marks_upto) || noted(ud, off);
}

int tg_ziptail_end(const struct tg_ziptail *z)
{
	size_t k = z->tail_len < TG_ZIP_TAIL ? z->tail_len : TG_ZIP_TAIL;
	const uint8_t *t = z->tail + z->tail_len - k;

	if (zip_tail_rule(t, k, z->seen - k, noted, z))
		return 1;
	if (z->marks_full && zip_tail_rule(t, k, z->seen - k, noted_or_unknown, z))
		return -1;
	return 0;
}

void tg_ziptail_release(struct tg_ziptail *z)
{
	free(z->mark);
	z->mark = NULL;
	z->nmark = z->cap_mark = 0;
}
