#define _GNU_SOURCE
/*
 * Independent tar header scanner: see tarscan.h.  Written from POSIX
 * pax/ustar (IEEE 1003.1 "pax" Extended Description), the GNU tar manual's
 * description of its headers (L, K, S, sparse formats 0.0/0.1/1.0), not
 * from libarchive, so the two readers share no parsing code.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarscan.h"
#include "../common/limits.h"
#include "../common/tg.h"
#include "../common/span.h"

enum { S_HEADER, S_EXT, S_SPARSE_EXT, S_DATA, S_END, S_OFF };

/* Header field offsets (ustar; the GNU and v7 layouts share these). */
#define F_NAME     0
#define F_SIZE     124
#define F_CHKSUM   148
#define F_TYPE     156
#define F_LINK     157
#define F_MAGIC    257
#define F_PREFIX   345
#define F_GNU_EXT  482     /* old GNU: more sparse blocks follow */
#define F_GNU_REAL 483     /* old GNU: full size of a sparse file */

static void fail(struct tg_tarscan *ts, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct tg_tarscan *ts, const char *fmt, ...)
{
	va_list ap;

	if (ts->err[0])
		return;
	va_start(ap, fmt);
	vsnprintf(ts->err, sizeof(ts->err), fmt, ap);
	va_end(ap);
	for (char *c = ts->err; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	ts->state = S_OFF;
}

static void pend_clear(struct tg_tarscan *ts)
{
	struct tg_tar_pending *p = &ts->pend;

	free(p->path);
	free(p->linkpath);
	free(p->sparse_name);
	free(p->long_name);
	free(p->long_link);
	memset(p, 0, sizeof(*p));
}

void tg_tarscan_init(struct tg_tarscan *ts)
{
	memset(ts, 0, sizeof(*ts));
	ts->state = S_HEADER;
}

void tg_tarscan_release(struct tg_tarscan *ts)
{
	struct tg_tar_entry e;

	while (tg_tarscan_take(ts, &e)) {
		free(e.name);
		free(e.link);
	}
	free(ts->q);
	free(ts->ext);
	pend_clear(ts);
	memset(ts, 0, sizeof(*ts));
}

bool tg_tarscan_take(struct tg_tarscan *ts, struct tg_tar_entry *e)
{
	if (ts->qhead == ts->qn)
		return false;
	*e = ts->q[ts->qhead++];
	if (ts->qhead == ts->qn)
		ts->qhead = ts->qn = 0;
	return true;
}

static void push(struct tg_tarscan *ts, struct tg_tar_entry *e)
{
	if (ts->qn - ts->qhead >= TG_MAX_ARCHIVE_ENTRIES) {
		fail(ts, "more than %u tar members", TG_MAX_ARCHIVE_ENTRIES);
		goto drop;
	}
	if (ts->qn == ts->qcap) {
		size_t cap = ts->qcap ? ts->qcap * 2 : 64;
		struct tg_tar_entry *nq = realloc(ts->q, cap * sizeof(*nq));
		if (!nq) {
			fail(ts, "out of memory");
			goto drop;
		}
		ts->q = nq;
		ts->qcap = cap;
	}
	ts->q[ts->qn++] = *e;
	ts->members++;
	return;
drop:
	free(e->name);
	free(e->link);
}

/* ------------------------------------------------------------ fields */

/* A numeric header field: optional leading spaces, octal digits, then only
 * spaces or NULs; or GNU base-256 (first byte 0x80, big-endian, positive).
 * libarchive stops at the first odd byte, other readers refuse it: any
 * other shape is refused here so no two readers can take different values
 * from one field. */
static bool field_num(const uint8_t *f, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] == 0x80) {
		for (i = 1; i < n; i++) {
			if (v >> 56)
				return false;
			v = (v << 8) | f[i];
		}
		*ret = v;
		return v <= INT64_MAX;
	}
	while (i < n && f[i] == ' ')
		i++;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return false;
	*ret = v;
	return true;
}

/* A NUL-terminated (or full-width) name field as a C string. */
static char *field_str(const uint8_t *f, size_t n)
{
	return strndup((const char *)f, strnlen((const char *)f, n));
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool checksum_ok(const uint8_t *h)
{
	uint64_t want;
	int64_t ssum = 0;
	uint64_t usum = 0;

	if (!field_num(h + F_CHKSUM, 8, &want) || h[F_CHKSUM] == 0x80)
		return false;
	for (size_t i = 0; i < 512; i++) {
		uint8_t c = (i >= F_CHKSUM && i < F_CHKSUM + 8) ? ' ' : h[i];
		usum += c;
		ssum += (int8_t)c;
	}
	/* Historic writers summed signed chars; both sums are in use. */
	return want == usum || (ssum >= 0 && want == (uint64_t)ssum);
}

/* A decimal pax value: digits only, no sign, no overflow. */
static bool pax_num(const char *s, size_t n, uint64_t *ret)
{
	uint64_t v = 0;

	if (n == 0 || n > 19)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*ret = v;
	return v <= INT64_MAX;
}

/* ------------------------------------------------------- pax records */

static bool key_is(const char *k, size_t kl, const char *want)
{
	return strlen(want) == kl && memcmp(k, want, kl) == 0;
}

static bool key_prefix(const char *k, size_t kl, const char *want)
{
	size_t wl = strlen(want);
	return kl > wl && memcmp(k, want, wl) == 0;
}

/* A string value (path, linkpath, sparse name): once, not empty, no NUL. */
static bool set_str(struct tg_tarscan *ts, char **slot, const char *k, size_t kl, const char *v, size_t vl)
{
	if (*slot) {
		fail(ts, "pax header gives '%.*s' twice", (int)kl, k);
		return false;
	}
	if (vl == 0 || memchr(v, '\0', vl)) {
		fail(ts, "pax '%.*s' is empty or holds a NUL byte", (int)kl, k);
		return false;
	}
	if (!(*slot = strndup(v, vl))) {
		fail(ts, "out of memory");
		return false;
	}
	return true;
}

static bool set_num(struct tg_tarscan *ts, bool *set, uint64_t *slot, const char *k, size_t kl, const char *v,
		    size_t vl)
{
	if (*set) {
		fail(ts, "pax header gives '%.*s' twice", (int)kl, k);
		return false;
	}
	if (!pax_num(v, vl, slot)) {
		fail(ts, "pax '%.*s' is not a decimal number: '%.*s'", (int)kl, k, (int)(vl > 40 ? 40 : vl), v);
		return false;
	}
	*set = true;
	return true;
}

/* Keywords readers act on differently, or that change what a member is,
 * are refused unless listed here; metadata we do not use passes. */
static bool pax_record(struct tg_tarscan *ts, bool global, const char *k, size_t kl, const char *v, size_t vl)
{
	static const char *const passive[] = { "uid", "gid", "uname", "gname", "mtime", "atime", "ctime",
					       "comment", "SCHILY.fflags", "SCHILY.dev", "SCHILY.ino",
					       "SCHILY.nlink", "LIBARCHIVE.creationtime", "RHT.security.selinux",
					       NULL };
	static const char *const passive_prefix[] = { "SCHILY.xattr.", "LIBARCHIVE.xattr.", "SCHILY.acl.", NULL };
	struct tg_tar_pending *p = &ts->pend;

	if (global) {
		/* A global header applies to every later member for GNU tar
		 * and is ignored by libarchive: only a comment (git archive's
		 * commit id) reads the same everywhere. */
		if (key_is(k, kl, "comment"))
			return true;
		fail(ts, "global pax header sets '%.*s' for every later member", (int)(kl > 60 ? 60 : kl), k);
		return false;
	}
	if (key_is(k, kl, "path"))
		return set_str(ts, &p->path, k, kl, v, vl);
	if (key_is(k, kl, "linkpath"))
		return set_str(ts, &p->linkpath, k, kl, v, vl);
	if (key_is(k, kl, "size"))
		return set_num(ts, &p->size_set, &p->size, k, kl, v, vl);
	if (key_is(k, kl, "GNU.sparse.name"))
		return set_str(ts, &p->sparse_name, k, kl, v, vl);
	if (key_is(k, kl, "GNU.sparse.realsize"))
		return set_num(ts, &p->sparse_real_set, &p->sparse_real, k, kl, v, vl);
	if (key_is(k, kl, "GNU.sparse.size"))
		return set_num(ts, &p->sparse_size_set, &p->sparse_size, k, kl, v, vl);
	if (key_is(k, kl, "GNU.sparse.major"))
		return set_num(ts, &p->sparse_major_set, &p->sparse_major, k, kl, v, vl);
	if (key_is(k, kl, "GNU.sparse.minor"))
		return set_num(ts, &p->sparse_minor_set, &p->sparse_minor, k, kl, v, vl);
	/* Sparse maps (formats 0.0 and 0.1): offsets and sizes of data
	 * runs; the member's full size is what is compared. */
	if (key_is(k, kl, "GNU.sparse.map") || key_is(k, kl, "GNU.sparse.offset") ||
	    key_is(k, kl, "GNU.sparse.numbytes") || key_is(k, kl, "GNU.sparse.numblocks"))
		return true;
	if (key_is(k, kl, "hdrcharset")) {
		/* BINARY names are bytes for some readers and UTF-8 for others. */
		if (vl == 22 && memcmp(v, "ISO-IR 10646 2000 UTF-8", 22) == 0)
			return true;
		fail(ts, "pax hdrcharset '%.*s' is not UTF-8", (int)(vl > 40 ? 40 : vl), v);
		return false;
	}
	for (size_t i = 0; passive[i]; i++)
		if (key_is(k, kl, passive[i]))
			return true;
	for (size_t i = 0; passive_prefix[i]; i++)
		if (key_prefix(k, kl, passive_prefix[i]))
			return true;
	fail(ts, "pax keyword '%.*s' is refused (extractors act on it differently or not at all)",
	     (int)(kl > 60 ? 60 : kl), k);
	return false;
}

/* "LEN KEY=VALUE\n" records filling the header's data exactly: a bad
 * length, a missing '=' or newline, or bytes after the last record are
 * refused (readers that skip a malformed record apply the others to a
 * different member). */
static bool pax_parse(struct tg_tarscan *ts, bool global, const uint8_t *data, size_t len)
{
	struct tg_span s = tg_span_make(data, len), rec;

	if (len == 0) {
		fail(ts, "empty pax header");
		return false;
	}
	while (s.len) {
		size_t n = 0, digits = 0;
		while (digits < s.len && s.p[digits] >= '0' && s.p[digits] <= '9') {
			if (n > TG_MAX_TAR_EXT)
				break;
			n = n * 10 + (size_t)(s.p[digits] - '0');
			digits++;
		}
		if (digits == 0 || s.p[0] == '0' || digits >= s.len || s.p[digits] != ' ' || n <= digits + 1 ||
		    !tg_span_take(&s, n, &rec) || rec.p[n - 1] != '\n') {
			fail(ts, "malformed pax record at byte %zu of the pax header", len - s.len);
			return false;
		}
		const char *k = (const char *)rec.p + digits + 1;
		size_t body = n - digits - 2;
		const char *eq = memchr(k, '=', body);
		if (!eq || eq == k || memchr(k, '\0', (size_t)(eq - k))) {
			fail(ts, "pax record without 'keyword=' at byte %zu of the pax header", len - s.len - n);
			return false;
		}
		if (!pax_record(ts, global, k, (size_t)(eq - k), eq + 1, body - (size_t)(eq - k) - 1))
			return false;
	}
	return true;
}

/* -------------------------------------------------------- extensions */

static void ext_done(struct tg_tarscan *ts)
{
	struct tg_tar_pending *p = &ts->pend;
	char **slot;

	switch (ts->ext_type) {
	case 'x':
	case 'g':
		pax_parse(ts, ts->ext_type == 'g', ts->ext, ts->ext_len);
		break;
	default: /* 'L', 'K' */
		slot = ts->ext_type == 'L' ? &p->long_name : &p->long_link;
		size_t nl = strnlen((const char *)ts->ext, ts->ext_len);
		/* GNU writes the name and one NUL; bytes hidden after the NUL
		 * would be part of the name for a reader that takes the size. */
		if (nl == 0 || !all_zero(ts->ext + nl, ts->ext_len - nl)) {
			fail(ts, "GNU long %s header is empty or has bytes after its NUL",
			     ts->ext_type == 'L' ? "name" : "link");
			break;
		}
		if (!(*slot = strndup((const char *)ts->ext, nl)))
			fail(ts, "out of memory");
		break;
	}
	free(ts->ext);
	ts->ext = NULL;
	ts->ext_len = ts->ext_want = 0;
}

static void ext_start(struct tg_tarscan *ts, char type, uint64_t size)
{
	struct tg_tar_pending *p = &ts->pend;

	/* One extension of each kind per member, and never both kinds: a pax
	 * path and a GNU long name (or a second pax header) are two answers
	 * to one question, and readers pick differently (tar-rs applied a
	 * pax header to the wrong member; THREATS case 10). */
	if (type == 'g' && (p->pax || p->gnu_name || p->gnu_link)) {
		fail(ts, "global pax header between a member's extension headers and the member");
		return;
	}
	if (type == 'x' && p->pax) {
		fail(ts, "two pax headers for one member");
		return;
	}
	if ((type == 'L' && p->gnu_name) || (type == 'K' && p->gnu_link)) {
		fail(ts, "two GNU long %s headers for one member", type == 'L' ? "name" : "link");
		return;
	}
	if ((type == 'x' && (p->gnu_name || p->gnu_link)) || ((type == 'L' || type == 'K') && p->pax)) {
		fail(ts, "a member with both pax and GNU long-name headers");
		return;
	}
	if (size > TG_MAX_TAR_EXT) {
		fail(ts, "extension header '%c' of %llu bytes (limit %u)", type, (unsigned long long)size,
		     TG_MAX_TAR_EXT);
		return;
	}
	if (type == 'x')
		p->pax = true;
	else if (type == 'L')
		p->gnu_name = true;
	else if (type == 'K')
		p->gnu_link = true;
	ts->ext_type = type;
	ts->ext_want = (size_t)size;
	ts->ext_len = 0;
	ts->ext = malloc(ts->ext_want ? ts->ext_want : 1);
	if (!ts->ext) {
		fail(ts, "out of memory");
		return;
	}
	ts->skip = (512 - size % 512) % 512;   /* padding after the data */
	if (size == 0) {
		ext_done(ts);
		if (ts->state != S_OFF)
			ts->state = ts->skip ? S_DATA : S_HEADER;
		return;
	}
	ts->state = S_EXT;
}

/* ----------------------------------------------------------- members */

static const char *class_name(enum tg_tar_class c)
{
	static const char *const n[] = { "file", "directory", "symlink", "hard link", "device or FIFO" };
	return n[c];
}

static void member(struct tg_tarscan *ts, const uint8_t *h, uint64_t ustar_size)
{
	struct tg_tar_pending *p = &ts->pend;
	struct tg_tar_entry e = { 0 };
	char type = (char)h[F_TYPE];
	uint64_t stored = ustar_size;
	bool posix = memcmp(h + F_MAGIC, "ustar\0", 6) == 0;
	bool old_sparse = type == 'S';

	/* The name: a pax path, else a GNU long name, else ustar
	 * prefix/name.  A GNU sparse name stands in for the path of a
	 * sparse member and must not contradict it. */
	if (p->sparse_name && p->path && strcmp(p->sparse_name, p->path) != 0) {
		fail(ts, "pax path and GNU.sparse.name disagree");
		return;
	}
	if (p->sparse_name)
		e.name = strdup(p->sparse_name);
	else if (p->path)
		e.name = strdup(p->path);
	else if (p->long_name)
		e.name = strdup(p->long_name);
	else if (posix && h[F_PREFIX]) {
		_cleanup_free_ char *pre = field_str(h + F_PREFIX, 155), *nm = field_str(h + F_NAME, 100);
		if (pre && nm && asprintf(&e.name, "%s/%s", pre, nm) < 0)
			e.name = NULL;
	} else {
		e.name = field_str(h + F_NAME, 100);
	}
	if (!e.name) {
		fail(ts, "out of memory");
		return;
	}
	if (!e.name[0]) {
		fail(ts, "member with an empty name");
		goto bad;
	}

	/* TARmageddon (CVE-2025-62518): a ustar size that differs from the
	 * pax size makes readers that use one or the other find the next
	 * header in different places.  Only a size the 11-digit field cannot
	 * hold may leave it zero. */
	if (p->size_set) {
		if (ustar_size != p->size && !(ustar_size == 0 && p->size > 077777777777ull)) {
			fail(ts, "%s: pax size %llu but ustar size %llu", e.name, (unsigned long long)p->size,
			     (unsigned long long)ustar_size);
			goto bad;
		}
		stored = p->size;
	}

	switch (type) {
	case '0':
	case '\0':
	case '7':
	case 'S':
		e.cls = TG_TAR_FILE;
		break;
	case '1':
		e.cls = TG_TAR_HARDLINK;
		break;
	case '2':
		e.cls = TG_TAR_SYMLINK;
		break;
	case '5':
		e.cls = TG_TAR_DIR;
		break;
	default: /* '3', '4', '6' */
		e.cls = TG_TAR_SPECIAL;
		break;
	}
	/* Old archives mark directories by a trailing slash on a regular
	 * entry; readers then skip no data, so it must carry none. */
	if (e.cls == TG_TAR_FILE && !old_sparse && e.name[strlen(e.name) - 1] == '/')
		e.cls = TG_TAR_DIR;

	if (e.cls == TG_TAR_SYMLINK || e.cls == TG_TAR_HARDLINK) {
		if (p->linkpath)
			e.link = strdup(p->linkpath);
		else if (p->long_link)
			e.link = strdup(p->long_link);
		else
			e.link = field_str(h + F_LINK, 100);
		if (!e.link) {
			fail(ts, "out of memory");
			goto bad;
		}
		if (!e.link[0]) {
			fail(ts, "%s: %s with no target", e.name, class_name(e.cls));
			goto bad;
		}
	} else if (p->linkpath || p->long_link || h[F_LINK]) {
		fail(ts, "%s: a %s header carrying a link target", e.name, class_name(e.cls));
		goto bad;
	}
	/* A link, directory or device has no data.  libarchive skips none
	 * for a symlink whatever the size says, others skip the size: the
	 * "data" would be headers to one reader and content to another. */
	if (e.cls != TG_TAR_FILE && stored != 0) {
		fail(ts, "%s: a %s header carrying %llu bytes of data", e.name, class_name(e.cls),
		     (unsigned long long)stored);
		goto bad;
	}

	e.size = stored;
	bool pax_sparse = p->sparse_name || p->sparse_real_set || p->sparse_size_set || p->sparse_major_set ||
			  p->sparse_minor_set;
	if (pax_sparse && (e.cls != TG_TAR_FILE || old_sparse)) {
		fail(ts, "%s: GNU sparse keywords on a %s", e.name, old_sparse ? "old GNU sparse member" :
		     class_name(e.cls));
		goto bad;
	}
	if (pax_sparse) {
		/* Formats 0.0/0.1 give GNU.sparse.size, 1.0 GNU.sparse.realsize
		 * (with major 1, minor 0).  Anything else is a format no two
		 * readers are known to agree on. */
		bool v1 = p->sparse_major_set && p->sparse_major == 1 && p->sparse_minor_set && p->sparse_minor == 0;
		bool v0 = !p->sparse_major_set && !p->sparse_minor_set;
		if (v1 && p->sparse_real_set && !p->sparse_size_set)
			e.size = p->sparse_real;
		else if (v0 && p->sparse_size_set && !p->sparse_real_set)
			e.size = p->sparse_size;
		else {
			fail(ts, "%s: inconsistent GNU sparse keywords", e.name);
			goto bad;
		}
	}
	if (old_sparse) {
		uint64_t real;
		if (!posix && memcmp(h + F_MAGIC, "ustar  \0", 8) != 0) {
			fail(ts, "%s: old GNU sparse member without the GNU magic", e.name);
			goto bad;
		}
		if (!field_num(h + F_GNU_REAL, 12, &real)) {
			fail(ts, "%s: malformed sparse real size field", e.name);
			goto bad;
		}
		e.size = real;
	}
	pend_clear(ts);
	push(ts, &e);
	if (ts->state == S_OFF)
		return;
	ts->skip = stored + (512 - stored % 512) % 512;
	if (old_sparse && h[F_GNU_EXT]) {
		ts->sparse_blocks = 0;
		ts->state = S_SPARSE_EXT;
		return;
	}
	ts->state = ts->skip ? S_DATA : S_HEADER;
	return;
bad:
	free(e.name);
	free(e.link);
}

static void header(struct tg_tarscan *ts, const uint8_t *h)
{
	uint64_t size;
	char type = (char)h[F_TYPE];

	if (all_zero(h, 512)) {
		if (ts->pend.pax || ts->pend.gnu_name || ts->pend.gnu_link) {
			fail(ts, "extension header with no member after it");
			return;
		}
		ts->state = S_END;
		return;
	}
	if (!checksum_ok(h)) {
		fail(ts, "header at byte %llu: checksum mismatch", (unsigned long long)ts->off);
		return;
	}
	if (!field_num(h + F_SIZE, 12, &size)) {
		fail(ts, "header at byte %llu: malformed size field", (unsigned long long)ts->off);
		return;
	}
	switch (type) {
	case 'x':
	case 'g':
	case 'L':
	case 'K':
		ext_start(ts, type, size);
		return;
	case '0': case '\0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case 'S':
		member(ts, h, size);
		return;
	default:
		/* deb(5): "Unrecognized tar typeflags are considered an
		 * error"; libarchive reads them as regular files. */
		fail(ts, "header at byte %llu: unknown typeflag '%c' (0x%02x)", (unsigned long long)ts->off,
		     type >= 0x20 && type < 0x7f ? type : '?', (unsigned char)type);
		return;
	}
}

/* ------------------------------------------------------------ stream */

void tg_tarscan_feed(struct tg_tarscan *ts, const uint8_t *p, size_t n)
{
	while (n && ts->state != S_OFF) {
		size_t k;

		if (ts->state == S_DATA) {
			k = ts->skip < n ? (size_t)ts->skip : n;
			ts->skip -= k;
			if (!ts->skip)
				ts->state = S_HEADER;
		} else if (ts->state == S_EXT) {
			k = ts->ext_want - ts->ext_len < n ? ts->ext_want - ts->ext_len : n;
			memcpy(ts->ext + ts->ext_len, p, k);
			ts->ext_len += k;
			if (ts->ext_len == ts->ext_want) {
				ext_done(ts);
				if (ts->state != S_OFF)
					ts->state = ts->skip ? S_DATA : S_HEADER;
			}
		} else if (ts->state == S_END) {
			/* Only padding may follow the end block: members after
			 * it are read by `tar --ignore-zeros` and by nothing
			 * else. */
			k = n;
			if (!all_zero(p, n)) {
				fail(ts, "data after the end-of-archive block");
				return;
			}
			ts->trailer += n;
			if (ts->trailer > TG_MAX_TAR_TRAILER) {
				fail(ts, "more than %llu bytes after the end-of-archive block",
				     (unsigned long long)TG_MAX_TAR_TRAILER);
				return;
			}
		} else {
			/* A 512-byte block: straight from p when whole, else
			 * gathered across chunks. */
			const uint8_t *b;
			if (ts->blen == 0 && n >= 512) {
				b = p;
				k = 512;
			} else {
				k = 512 - ts->blen < n ? 512 - ts->blen : n;
				memcpy(ts->blk + ts->blen, p, k);
				ts->blen += k;
				if (ts->blen < 512) {
					ts->off += k;
					return;
				}
				b = ts->blk;
				ts->blen = 0;
			}
			uint64_t at = ts->off + k - 512;
			if (!ts->decided) {
				ts->decided = true;
				ts->active = !all_zero(b, 512) && checksum_ok(b);
				if (!ts->active) {
					ts->state = S_OFF;
					return;
				}
			}
			if (ts->state == S_SPARSE_EXT) {
				/* 21 (offset, size) pairs, then "more follow". */
				if (++ts->sparse_blocks > TG_MAX_TAR_SPARSE_BLOCKS) {
					fail(ts, "more than %u sparse extension blocks", TG_MAX_TAR_SPARSE_BLOCKS);
					return;
				}
				if (!b[504])
					ts->state = ts->skip ? S_DATA : S_HEADER;
			} else {
				uint64_t save = ts->off;
				ts->off = at;
				header(ts, b);
				ts->off = save;
			}
		}
		ts->off += k;
		p += k;
		n -= k;
	}
}

void tg_tarscan_end(struct tg_tarscan *ts)
{
	if (!ts->decided) {
		ts->decided = true;   /* under one block: not a tar */
		ts->state = S_OFF;
		return;
	}
	if (!ts->active || ts->state == S_OFF || ts->state == S_END)
		return;
	/* A missing end block is tolerated (every reader stops at the end
	 * of the data); a header, extension or member cut short is not. */
	if (ts->state != S_HEADER || ts->blen || ts->pend.pax || ts->pend.gnu_name || ts->pend.gnu_link)
		fail(ts, "tar stream ends inside a member or header");
}
