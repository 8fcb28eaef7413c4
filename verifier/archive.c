#define _GNU_SOURCE
/*
 * Archive walker: libarchive in streaming mode, every member hashed in
 * memory, nothing written to disk (THREATS section A: there is no
 * extraction to escape from, and the rules below refuse what would be
 * unsafe for whoever extracts the package after us).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "tarscan.h"
#include "../firmware/capsule.h"
#include "../firmware/fit.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/reasons.h"

/* ------------------------------------------------------------ findings */

static struct tg_ar_finding *vfinding(struct tg_ar_result *res, const char *code, enum tg_ar_sev sev,
				      const char *fmt, va_list ap)
{
	struct tg_ar_finding *f;

	if (res->nf >= TG_AR_MAX_FINDINGS) {
		/* The list is full: never let a rejecting finding fall off it
		 * behind warnings (it takes the place of the last tier-3-only
		 * one), and count what is not listed. */
		res->dropped++;
		f = NULL;
		for (size_t i = res->nf; sev == TG_AR_ALWAYS && i-- > 0 && !f;)
			if (res->f[i].sev == TG_AR_STRICT)
				f = &res->f[i];
		if (!f)
			return NULL;
	} else {
		f = &res->f[res->nf++];
	}
	f->code = code;
	f->sev = sev;
	f->member = -1;
	vsnprintf(f->detail, sizeof(f->detail), fmt, ap);
	for (char *c = f->detail; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	return f;
}

struct tg_ar_finding *tg_archive_finding(struct tg_ar_result *res, const char *code, enum tg_ar_sev sev,
					const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	struct tg_ar_finding *f = vfinding(res, code, sev, fmt, ap);
	va_end(ap);
	return f;
}

void tg_archive_result_release(struct tg_ar_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->m[i].path);
		free(res->m[i].norm);
		free(res->m[i].link);
		free(res->m[i].blob);
	}
	free(res->m);
	free(res->manifest);
	free(res->deb_control);
	memset(res, 0, sizeof(*res));
}

/* Members live in a growable array: a nested walk adds members and may move
 * it.  So a member is named by its index, never by a pointer held across
 * anything that can add one (the heap use-after-free of issue 10 was a
 * pointer held across a nested walk).  Returns the new index, or -1. */
static long add_member(struct tg_ar_result *res, const char *path)
{
	if (tg_grow(res->m, res->cap, res->n, 64) != TG_OK)
		return -1;
	struct tg_ar_member *m = &res->m[res->n];
	memset(m, 0, sizeof(*m));
	m->path = strdup(path);
	if (!m->path)
		return -1;
	return (long)res->n++;
}

/* ------------------------------------------------------------- magic */

static bool compressed_magic(const uint8_t *h, size_t n)
{
	return (n >= 2 && h[0] == 0x1f && h[1] == 0x8b) ||
	       (n >= 6 && memcmp(h, "\xfd" "7zXZ\0", 6) == 0) ||
	       (n >= 4 && memcmp(h, "\x28\xb5\x2f\xfd", 4) == 0) ||
	       (n >= 3 && memcmp(h, "BZh", 3) == 0);
}

static bool tar_magic(const uint8_t *h, size_t n)
{
	return n >= 262 && memcmp(h + 257, "ustar", 5) == 0;
}

static bool cpio_magic(const uint8_t *h, size_t n)
{
	return n >= 6 && (memcmp(h, "070701", 6) == 0 || memcmp(h, "070707", 6) == 0 ||
			  memcmp(h, "070702", 6) == 0);
}

/* A .deb: an ar archive whose first member is debian-binary (deb(5)).  Any
 * other ar archive (a static library made by `ar rcs`) is a file. */
static bool deb_magic(const uint8_t *h, size_t n)
{
	return n >= 8 + 16 && memcmp(h, "!<arch>\n", 8) == 0 && memcmp(h + 8, "debian-binary", 13) == 0 &&
	       (h[8 + 13] == ' ' || h[8 + 13] == '/');
}

/* The containers a package is made of: tar, cpio, zip, .deb — read as such
 * when they are uncompressed.  A compressed member is a container only if
 * what it decompresses to is tar or cpio (decided by peeking, see
 * member_data); a gzip'd man page or changelog is a file. */
static bool container_magic(const uint8_t *h, size_t n)
{
	return tar_magic(h, n) || cpio_magic(h, n) || deb_magic(h, n) ||
	       (n >= 4 && memcmp(h, "PK\x03\x04", 4) == 0);
}

bool tg_archive_magic(const uint8_t *h, size_t n)
{
	return container_magic(h, n) || compressed_magic(h, n) || (n >= 8 && memcmp(h, "!<arch>\n", 8) == 0);
}

static const char *firmware_magic(const uint8_t *h, size_t n)
{
	return tg_fit_magic(h, n) ? "fit" : tg_capsule_magic(h, n) ? "capsule" : NULL;
}

/* ------------------------------------------------------------- paths */

/* A set of normalised paths (open addressing). */
struct pathset {
	char **slot;
	size_t cap, n;
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 1099511628211ull;
	return h;
}

static bool set_has(const struct pathset *ps, const char *s)
{
	if (!ps->cap)
		return false;
	for (size_t i = fnv(s) & (ps->cap - 1);; i = (i + 1) & (ps->cap - 1)) {
		if (!ps->slot[i])
			return false;
		if (strcmp(ps->slot[i], s) == 0)
			return true;
	}
}

static bool set_add(struct pathset *ps, const char *s)
{
	if ((ps->n + 1) * 2 > ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 256;
		char **ns = calloc(cap, sizeof(*ns));
		if (!ns)
			return false;
		for (size_t i = 0; i < ps->cap; i++)
			if (ps->slot[i]) {
				size_t j = fnv(ps->slot[i]) & (cap - 1);
				while (ns[j])
					j = (j + 1) & (cap - 1);
				ns[j] = ps->slot[i];
			}
		free(ps->slot);
		ps->slot = ns;
		ps->cap = cap;
	}
	size_t i = fnv(s) & (ps->cap - 1);
	while (ps->slot[i])
		i = (i + 1) & (ps->cap - 1);
	ps->slot[i] = strdup(s);
	if (!ps->slot[i])
		return false;
	ps->n++;
	return true;
}

static void set_free(struct pathset *ps)
{
	for (size_t i = 0; i < ps->cap; i++)
		free(ps->slot[i]);
	free(ps->slot);
	memset(ps, 0, sizeof(*ps));
}

/* Strict UTF-8; combining marks (U+0300-U+036F) are refused so that NFC
 * and NFD spellings of one name cannot both pass (THREATS case 6). */
static const char *utf8_problem(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
			     (c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || (len == 2 && c < 0xc2) || (len == 4 && c > 0xf4))
			return "invalid UTF-8";
		for (size_t i = 1; i < len; i++)
			if ((s[i] & 0xc0) != 0x80)
				return "invalid UTF-8";
		if (len == 3 && ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] >= 0xa0)))
			return "invalid UTF-8";
		if (len == 2 && ((c == 0xcc && s[1] >= 0x80) || (c == 0xcd && s[1] <= 0xaf)))
			return "a combining character (Unicode normalisation ambiguity)";
		s += len;
	}
	return NULL;
}

/* Check a member name and write its normalised form ("./a//b/" -> "a/b").
 * Returns the problem, or NULL.  THREATS cases 1, 2.  `windows`: the
 * archive is one that is unpacked on Windows too (zip), where a backslash
 * separates components and "C:" names a drive; in a tar, cpio or .deb both
 * are ordinary characters of a name (systemd's "system-systemd\x2dcryptsetup
 * .slice"), and writing through them goes nowhere. */
static const char *path_problem(const char *p, char *norm, size_t n, bool windows)
{
	size_t o = 0;

	if (!p || !*p)
		return "empty name";
	if (strlen(p) >= n)
		return "name too long";
	for (const char *c = p; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return "control character in name";
		if (*c == '\\' && windows)
			return "backslash in name";
	}
	const char *u = utf8_problem((const unsigned char *)p);
	if (u)
		return u;
	if (p[0] == '/')
		return "absolute path";
	if (windows && ((p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= 'a' && p[0] <= 'z')) && p[1] == ':')
		return "drive-letter path";
	while (*p) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return "'..' component";
		if (len && !(len == 1 && p[0] == '.')) {
			if (o)
				norm[o++] = '/';
			memcpy(norm + o, p, len);
			o += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	norm[o] = '\0';
	if (!o)
		return "name is only '.' components";
	return NULL;
}

const char *tg_archive_normalize(const char *name, char *norm, size_t n)
{
	return path_problem(name, norm, n, false);
}

/* A symlink target a person or a manifest can read: not empty, under
 * PATH_MAX, no control bytes, strict UTF-8 (and no backslash where it
 * separates components). */
static bool target_clean(const char *t, bool windows)
{
	size_t n = strlen(t);

	if (n == 0 || n >= 4096 || utf8_problem((const unsigned char *)t))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)t[i] < 0x20 || t[i] == 0x7f || (t[i] == '\\' && windows))
			return false;
	return true;
}

/* Does the symlink `link` (normalised) with target `t` stay inside? */
static bool link_escapes(const char *link, const char *t)
{
	int depth = 0;

	if (t[0] == '/' || t[0] == '\\')
		return true;
	for (const char *c = link; *c; c++)
		if (*c == '/')
			depth++;  /* components of the link's directory */
	while (*t) {
		const char *end = strchr(t, '/');
		size_t len = end ? (size_t)(end - t) : strlen(t);
		if (len == 2 && t[0] == '.' && t[1] == '.') {
			if (--depth < 0)
				return true;
		} else if (len && !(len == 1 && t[0] == '.')) {
			depth++;
		}
		t += len;
		while (*t == '/')
			t++;
	}
	return false;
}

/* ------------------------------------------------------------- walking */

/* One archive level, read in two stages: `raw` undoes the compression
 * (filters and libarchive's raw format) and hands its output, zero-copy,
 * to `fmt`, which parses the archive.  The tar scanner sees exactly the
 * bytes `fmt` sees, in order, so libarchive's reading of every tar header
 * can be compared with an independent one (THREATS case 10). */
struct layer {
	struct archive *raw, *fmt;
	struct tg_tarscan ts;
	bool raw_eof;
	uint8_t *peek;            /* decompressed bytes read ahead by layer_peek */
	size_t peek_len, peek_pos;
	const uint8_t *last;      /* the last block handed to fmt (valid until
				   * raw is read again) */
	size_t last_len;
	uint64_t delivered;       /* bytes handed to fmt */
};

struct walk {
	struct tg_ar_result *res;
	struct layer *layer;      /* NULL: no second reader (seekable zip) */
	struct archive *top;      /* for the compression ratio */
	const char *top_what;     /* the file, for diagnostics */
	const char *prefix;       /* "outer.tar!" for nested members */
	int depth;
	long parent;              /* the container member being walked, or -1 */
	bool payload;             /* what an installer unpacks: the top level,
				   * and a .deb's control and data tarballs */
	bool failed;              /* this (nested, not payload) level could not
				   * be read to its end: left as a file */
	struct pathset names, dupkeys, symlinks;
};

/* A member's bytes straight from libarchive's own buffers
 * (archive_read_data_block: no copy), in order, holes of sparse members
 * delivered as zeros.  Only this reader touches a member's data, so the
 * zero-copy and copying calls are never mixed (mixing them loses data). */
struct mreader {
	struct archive *a;
	const uint8_t *p;      /* current block */
	size_t len, pos;
	int64_t boff;          /* member offset of p[0] */
	int64_t off;           /* member offset of the next byte delivered */
	int64_t size;          /* from the header, or -1 */
	bool eof;
};

static const uint8_t zeros[65536];

static void mreader_init(struct mreader *r, struct archive *a, struct archive_entry *e)
{
	memset(r, 0, sizeof(*r));
	r->a = a;
	/* Only a sparse member may end in a hole (archive_read_data fills
	 * it the same way); any other member is exactly the bytes read. */
	r->size = archive_entry_sparse_count(e) > 0 && archive_entry_size_is_set(e) ? archive_entry_size(e) : -1;
}

/* Up to max bytes at *ret: 1 with data, 0 at the end, -1 on a read error. */
static int mread(struct mreader *r, size_t max, const uint8_t **ret, size_t *ret_len)
{
	while (r->pos == r->len && !r->eof) {
		const void *b;
		size_t n;
		la_int64_t o;
		int rc = archive_read_data_block(r->a, &b, &n, &o);
		if (rc == ARCHIVE_EOF) {
			r->eof = true;
			break;
		}
		if (rc < ARCHIVE_WARN)
			return -1;
		/* Blocks must move forward: a block behind what was delivered
		 * would make two readings of one member. */
		if (o < r->off)
			return -1;
		r->p = b;
		r->len = n;
		r->pos = 0;
		r->boff = o;
	}
	if (r->pos < r->len) {
		int64_t at = r->boff + (int64_t)r->pos;
		if (at > r->off) {            /* a hole before this block */
			uint64_t gap = (uint64_t)(at - r->off);
			*ret = zeros;
			*ret_len = gap < sizeof(zeros) ? (size_t)gap : sizeof(zeros);
			*ret_len = *ret_len < max ? *ret_len : max;
			r->off += (int64_t)*ret_len;
			return 1;
		}
		size_t n = r->len - r->pos < max ? r->len - r->pos : max;
		*ret = r->p + r->pos;
		*ret_len = n;
		r->pos += n;
		r->off += (int64_t)n;
		return 1;
	}
	if (r->size > r->off) {               /* a hole at the end */
		uint64_t gap = (uint64_t)(r->size - r->off);
		*ret = zeros;
		*ret_len = gap < sizeof(zeros) ? (size_t)gap : sizeof(zeros);
		*ret_len = *ret_len < max ? *ret_len : max;
		r->off += (int64_t)*ret_len;
		return 1;
	}
	return 0;
}

/* A nested archive reads its bytes from the outer archive's member. */
struct nested_src {
	struct mreader *mr;
	const uint8_t *peek;
	size_t peek_len;
	struct tg_md *md, *md2;  /* md2: the SM3 of a member that may turn
				  * out to be a file (NULL if not needed) */
	uint64_t size;
	int err;
};

static la_ssize_t nested_read(struct archive *a, void *ud, const void **buf)
{
	struct nested_src *src = ud;
	const uint8_t *p;
	size_t n;
	int rc;

	(void)a;
	if (src->peek_len) {
		*buf = src->peek;
		n = src->peek_len;
		src->peek_len = 0;
		return (la_ssize_t)n;
	}
	rc = mread(src->mr, 1u << 20, &p, &n);
	if (rc < 0) {
		src->err = 1;
		return -1;
	}
	if (rc == 0)
		return 0;
	tg_md_write(src->md, p, n);
	if (src->md2)
		tg_md_write(src->md2, p, n);
	src->size += n;
	*buf = p;
	return (la_ssize_t)n;
}

struct top_src {
	tg_ar_read_fn fn;
	void *ud;
};

static la_ssize_t top_read(struct archive *a, void *ud, const void **buf)
{
	struct top_src *src = ud;
	(void)a;
	return src->fn(src->ud, buf);
}

/* Only the filters and formats a vendor package may use; "all" would add
 * dozens of parsers of no use here. */
static void support_filters(struct archive *a)
{
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_zstd(a);
}

static void support_formats(struct archive *a)
{
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_zip_streamable(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_ar(a);
}

/* The next decompressed block of a level: 1 with one, 0 at the end, -1 on
 * a decompression error (libarchive's reason in l->raw). */
static int raw_next(struct layer *l, const void **b, size_t *n)
{
	la_int64_t o;

	if (l->raw_eof)
		return 0;
	int rc = archive_read_data_block(l->raw, b, n, &o);
	if (rc == ARCHIVE_EOF) {
		l->raw_eof = true;
		return 0;
	}
	return rc < ARCHIVE_WARN ? -1 : 1;
}

static const char *raw_error(struct layer *l, const char *dflt)
{
	return archive_error_string(l->raw) ? archive_error_string(l->raw) : dflt;
}

static la_ssize_t layer_read(struct archive *a, void *ud, const void **buf)
{
	struct layer *l = ud;
	const void *b;
	size_t n = 0;
	int rc;

	if (l->peek_pos < l->peek_len) {
		n = l->peek_len - l->peek_pos;
		*buf = l->peek + l->peek_pos;
		tg_tarscan_feed(&l->ts, *buf, n);
		l->peek_pos = l->peek_len;
		l->last = *buf;
		l->last_len = n;
		l->delivered += n;
		return (la_ssize_t)n;
	}
	while ((rc = raw_next(l, &b, &n)) != 0) {
		if (rc < 0) {
			if (a)
				archive_set_error(a, EIO, "%s", raw_error(l, "decompression failed"));
			return -1;
		}
		if (n) {
			tg_tarscan_feed(&l->ts, b, n);
			*buf = b;
			l->last = b;
			l->last_len = n;
			l->delivered += n;
			return (la_ssize_t)n;
		}
	}
	return 0;
}

static void layer_close(struct layer *l)
{
	if (l->fmt)
		archive_read_free(l->fmt);
	if (l->raw)
		archive_read_free(l->raw);
	tg_tarscan_release(&l->ts);
	free(l->peek);
	memset(l, 0, sizeof(*l));
}

/* The decompressing stage over a byte source.  TG_OK, or TG_E_FORMAT with
 * *why pointing at libarchive's reason. */
static enum tg_err layer_open_raw(struct layer *l, archive_read_callback *cb, void *ud, const char **why)
{
	struct archive_entry *e;

	memset(l, 0, sizeof(*l));
	tg_tarscan_init(&l->ts);
	l->raw = archive_read_new();
	if (!l->raw)
		return TG_E_NOMEM;
	support_filters(l->raw);
	archive_read_support_format_raw(l->raw);
	if (archive_read_open(l->raw, ud, NULL, cb, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(l->raw, &e) != ARCHIVE_OK) {
		*why = archive_error_string(l->raw) ? archive_error_string(l->raw) : "empty";
		return TG_E_FORMAT;
	}
	return TG_OK;
}

/* Read ahead (and keep) at least `want` decompressed bytes, or all there
 * are.  TG_OK, or TG_E_FORMAT when decompression fails. */
static enum tg_err layer_peek(struct layer *l, size_t want, const char **why)
{
	const void *b;
	size_t n;
	int rc;

	while (l->peek_len < want && (rc = raw_next(l, &b, &n)) != 0) {
		if (rc < 0) {
			*why = raw_error(l, "decompression failed");
			return TG_E_FORMAT;
		}
		if (!n)
			continue;
		uint8_t *np = realloc(l->peek, l->peek_len + n);
		if (!np)
			return TG_E_NOMEM;
		memcpy(np + l->peek_len, b, n);
		l->peek = np;
		l->peek_len += n;
	}
	return TG_OK;
}

/* The archive-format stage on top of the raw one. */
static enum tg_err layer_open_fmt(struct layer *l, const char **why)
{
	l->fmt = archive_read_new();
	if (!l->fmt)
		return TG_E_NOMEM;
	support_formats(l->fmt);
	if (archive_read_open(l->fmt, l, NULL, layer_read, NULL) != ARCHIVE_OK) {
		*why = archive_error_string(l->fmt) ? archive_error_string(l->fmt) : "unknown format";
		return TG_E_FORMAT;
	}
	return TG_OK;
}

/* Open both stages over a byte source. */
static enum tg_err layer_open(struct layer *l, archive_read_callback *cb, void *ud, const char **why)
{
	enum tg_err r = layer_open_raw(l, cb, ud, why);

	return r == TG_OK ? layer_open_fmt(l, why) : r;
}

/* After libarchive's last member: read what is left of the level so the
 * scanner sees the end of the tar stream (data hidden after the end
 * block), then compare the member counts. */
static bool layer_finish(struct layer *l, char *why, size_t n)
{
	const void *b;
	struct tg_tar_entry t;

	while (l->ts.active && !l->ts.err[0] && !l->raw_eof)
		if (layer_read(NULL, l, &b) < 0) {
			snprintf(why, n, "%s", raw_error(l, "decompression failed"));
			return false;
		}
	tg_tarscan_end(&l->ts);
	if (l->ts.err[0]) {
		snprintf(why, n, "tar headers: %s", l->ts.err);
		return false;
	}
	if (tg_tarscan_take(&l->ts, &t)) {
		snprintf(why, n, "tar headers: member '%s' that libarchive did not return", t.name);
		free(t.name);
		free(t.link);
		return false;
	}
	return true;
}

/* The non-zero bytes of a level after its format's end: the rest of the
 * block libarchive was handed but did not consume (still in place: raw has
 * not been read since), what layer_read has not handed over, then the rest
 * of the decompressed stream.  false (with *err) when they cannot be
 * accounted for. */
static bool layer_tail_nonzero(struct layer *l, uint64_t *ret, const char **err)
{
	int ff = archive_filter_count(l->fmt);
	int64_t took = ff > 0 ? archive_filter_bytes(l->fmt, ff - 1) : -1;
	uint64_t left = took >= 0 && (uint64_t)took <= l->delivered ? l->delivered - (uint64_t)took : UINT64_MAX;
	uint64_t nonzero = 0;
	const void *b;
	size_t n;
	int rc;

	*err = NULL;
	if (left > l->last_len) {
		*err = "cannot account for the bytes after the archive's end marker";
		return false;
	}
	for (size_t i = l->last_len - (size_t)left; i < l->last_len; i++)
		nonzero += l->last[i] != 0;
	l->last_len -= (size_t)left;   /* counted once */
	for (size_t i = l->peek_pos; i < l->peek_len; i++)
		nonzero += l->peek[i] != 0;
	l->peek_pos = l->peek_len;
	while ((rc = raw_next(l, &b, &n)) != 0) {
		if (rc < 0) {
			*err = raw_error(l, "unreadable data after the end");
			return false;
		}
		for (size_t i = 0; i < n; i++)
			nonzero += ((const uint8_t *)b)[i] != 0;
	}
	*ret = nonzero;
	return true;
}

/* cpio, at every level and under any signature: after libarchive's end
 * only zero padding.  The kernel's initramfs unpacker reads on after a
 * trailer and lets a later archive's files win, and libarchive's own idea
 * of where a cpio ends depends on how its input was buffered (a member
 * named TRAILER!!! with a long body ends the archive when the buffers are
 * contiguous, not when they are reused: found when the file began to be
 * mapped instead of read).  Either way the rest must not hide a second
 * archive nobody walked. */
static struct tg_ar_finding *level_finding(struct walk *w, const char *code, enum tg_ar_sev sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cpio_tail(struct walk *w, struct layer *l, const char *name)
{
	uint64_t nonzero = 0;
	const char *err;

	if ((archive_format(l->fmt) & ARCHIVE_FORMAT_BASE_MASK) != ARCHIVE_FORMAT_CPIO || w->res->stopped || w->failed)
		return;
	if (!layer_tail_nonzero(l, &nonzero, &err))
		level_finding(w, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: %s", name, err);
	else if (nonzero)
		level_finding(w, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: %llu non-zero bytes after the cpio trailer (another "
			      "archive, which the kernel's initramfs unpacker would read; not walked)", name,
			      (unsigned long long)nonzero);
}

static struct archive *reader_new_zip_seekable(void)
{
	struct archive *a = archive_read_new();

	if (a)
		archive_read_support_format_zip_seekable(a);
	return a;
}

static enum tg_err walk_archive(struct walk *w, struct archive *a, const char *what, struct tg_diag *d);

static bool over_limits(struct walk *w)
{
	struct tg_ar_result *res = w->res;
	int64_t in = archive_filter_bytes(w->top, -1), out = archive_filter_bytes(w->top, 0);

	if (res->total > TG_MAX_ARCHIVE_TOTAL) {
		tg_archive_finding(res, TG_R(ARCHIVE_LIMIT), TG_AR_ALWAYS, "more than %llu bytes of content",
			(unsigned long long)TG_MAX_ARCHIVE_TOTAL);
		return true;
	}
	/* THREATS case 9: budgets enforced while streaming, never after. */
	if (out > (int64_t)TG_MAX_ARCHIVE_RATIO_FLOOR && in > 0 && out / in > TG_MAX_ARCHIVE_RATIO) {
		tg_archive_finding(res, TG_R(ARCHIVE_LIMIT), TG_AR_ALWAYS, "compression ratio over %u:1 (decompression bomb)",
			TG_MAX_ARCHIVE_RATIO);
		return true;
	}
	return false;
}

/* Hash a member's data (and walk it when it is an archive). */
/* Keep the root manifest (bounded) for the caller. */
static void manifest_append(struct tg_ar_result *res, struct tg_ar_member *m, const char *name, const uint8_t *p,
			    size_t n)
{
	if (!m->manifest || !res->manifest || n == 0)
		return;
	if (res->manifest_len + n > TG_MAX_MANIFEST) {
		tg_archive_finding(res, TG_R(MANIFEST_INVALID), TG_AR_ALWAYS, "%s: manifest over %u bytes", name, TG_MAX_MANIFEST);
		free(res->manifest);
		res->manifest = NULL;
		res->manifest_len = 0;
		m->manifest = false;
		return;
	}
	uint8_t *nm = realloc(res->manifest, res->manifest_len + n);
	if (nm) {
		memcpy(nm + res->manifest_len, p, n);
		res->manifest = nm;
		res->manifest_len += n;
	}
}

/* A finding about a member of this level.  The rules stop what unpacking a
 * package could do (escapes, differentials); a container that is only a
 * file of the package is not unpacked when it is installed, so what is
 * found inside it rejects from tier 3, not at every tier. */
static struct tg_ar_finding *level_finding(struct walk *w, const char *code, enum tg_ar_sev sev, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static struct tg_ar_finding *level_finding(struct walk *w, const char *code, enum tg_ar_sev sev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	struct tg_ar_finding *f = vfinding(w->res, code, w->payload ? sev : TG_AR_STRICT, fmt, ap);
	va_end(ap);
	return f;
}

/* A nested level that cannot be read to its end.  The package's own
 * payload (what dpkg or tar would unpack) must read cleanly: ARCHIVE_MALFORMED
 * at every tier, and the walk stops.  A container that is merely a file of
 * the package (Go's archive/tar test data, a vendor's tarball of sources)
 * is covered byte for byte by the signature like any file, but its contents
 * were not inspected: ARCHIVE_NESTED_OPAQUE, rejected from tier 3 where
 * firmware hidden in it would otherwise go unverified. */
static void level_failed(struct walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void level_failed(struct walk *w, const char *fmt, ...)
{
	char why[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (w->payload) {
		tg_archive_finding(w->res, TG_R(ARCHIVE_MALFORMED), TG_AR_ALWAYS, "%s", why);
		w->res->stopped = true;
	} else {
		tg_archive_finding(w->res, TG_R(ARCHIVE_NESTED_OPAQUE), TG_AR_STRICT, "%s; its contents were not inspected", why);
	}
	w->failed = true;
}

/* A .deb's control file, kept for checks against an apt index (bounded:
 * a larger one is dropped, and then matches nothing). */
#define TG_MAX_DEB_CONTROL (256u * 1024u)
static void control_append(struct tg_ar_result *res, const struct tg_ar_member *m, const uint8_t *p, size_t n)
{
	if (!m->deb_control || !n)
		return;
	if (res->deb_control_len + n > TG_MAX_DEB_CONTROL) {
		free(res->deb_control);
		res->deb_control = NULL;
		res->deb_control_len = SIZE_MAX / 2;
		return;
	}
	char *nc = realloc(res->deb_control, res->deb_control_len + n + 1);
	if (!nc)
		return;
	memcpy(nc + res->deb_control_len, p, n);
	res->deb_control = nc;
	res->deb_control_len += n;
	nc[res->deb_control_len] = '\0';
}

static enum tg_err member_error(struct walk *w, struct archive *a, const char *name, struct tg_diag *d)
{
	if (w->depth == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: malformed archive at %s: %s", w->top_what, name,
			       archive_error_string(a) ? archive_error_string(a) : "unreadable member data");
	level_failed(w, "%s%s: %s", w->prefix, name, archive_error_string(a) ? archive_error_string(a) :
		     "unreadable member data");
	return TG_OK;
}

/* Walk a member that looks like a container (its first bytes in head).  A
 * compressed member is walked only when it decompresses to tar or cpio;
 * otherwise *walked stays false and the caller hashes it as a file.  The
 * member's bytes pulled through src are hashed into src->md as they go.
 * Member mi is re-fetched by index after the walk: the walk adds members. */
static enum tg_err nested_walk(struct walk *w, long mi, const char *name, struct nested_src *src, bool compressed,
			       bool *walked, struct tg_diag *d)
{
	struct tg_ar_result *res = w->res;
	struct layer inner;
	const char *why = NULL;
	char fwhy[300];
	_cleanup_free_ char *prefix = NULL;
	enum tg_err r;

	*walked = false;
	r = layer_open_raw(&inner, nested_read, src, &why);
	if (compressed && r != TG_E_NOMEM) {
		if (r == TG_OK)
			r = layer_peek(&inner, 512, &why);
		if (r == TG_E_FORMAT || (r == TG_OK && !tar_magic(inner.peek, inner.peek_len) &&
					 !cpio_magic(inner.peek, inner.peek_len))) {
			/* A single compressed file (or one that does not even
			 * decompress): a file, hashed as stored, what the signer
			 * shipped; nothing in it is unpacked by an installer. */
			layer_close(&inner);
			return TG_OK;
		}
	}
	*walked = true;
	/* A .deb's control and data tarballs are what dpkg unpacks. */
	struct walk sub = { .res = res, .layer = &inner, .top = w->top, .top_what = w->top_what,
			    .depth = w->depth + 1, .parent = mi, .payload = w->depth == 0 && res->deb_version[0] };
	if (r == TG_OK && sub.depth > TG_MAX_ARCHIVE_DEPTH) {
		/* Bounded, not refused outright: each level is a file of the one
		 * above, covered by its digest. */
		level_failed(&sub, "%s%s: containers nested deeper than %d", w->prefix, name, TG_MAX_ARCHIVE_DEPTH);
		layer_close(&inner);
		return TG_OK;
	}
	if (r == TG_OK)
		r = layer_open_fmt(&inner, &why);
	if (r == TG_OK && asprintf(&prefix, "%s%s!", w->prefix, name) < 0)
		r = TG_E_NOMEM;
	if (r == TG_E_FORMAT) {
		level_failed(&sub, "%s%s: %s", w->prefix, name, why);
		r = TG_OK;
	} else if (r == TG_OK) {
		sub.prefix = prefix;
		r = walk_archive(&sub, inner.fmt, name, d);
		if (r == TG_OK && !res->stopped && !sub.failed && !layer_finish(&inner, fwhy, sizeof(fwhy)))
			level_failed(&sub, "%s%s: %s", w->prefix, name, fwhy);
		if (r == TG_OK)
			cpio_tail(&sub, &inner, prefix);
		if (r == TG_OK && !sub.failed)
			res->m[mi].component = "archive";
	}
	set_free(&sub.names);
	set_free(&sub.dupkeys);
	set_free(&sub.symlinks);
	layer_close(&inner);
	return r;
}

/* A member over TG_MAX_ARCHIVE_MEMBER (THREATS case 9): in the payload the
 * walk stops (ARCHIVE_LIMIT); inside a container that is a file of the
 * package, that container is left unread (Go ships a 60 GB sparse tar as
 * test data). */
static void member_too_large(struct walk *w, const char *name)
{
	if (w->payload) {
		tg_archive_finding(w->res, TG_R(ARCHIVE_LIMIT), TG_AR_ALWAYS, "%s%s: member larger than %llu bytes", w->prefix,
				   name, (unsigned long long)TG_MAX_ARCHIVE_MEMBER);
		w->res->stopped = true;
	} else {
		level_failed(w, "%s%s: member larger than %llu bytes", w->prefix, name,
			     (unsigned long long)TG_MAX_ARCHIVE_MEMBER);
	}
}

/* Keep a firmware member's bytes for its own verification (bounded: a
 * larger one is rejected, not skipped). */
static enum tg_err blob_append(struct tg_ar_member *m, size_t *cap, const uint8_t *p, size_t n)
{
	if (!m->blob)
		return TG_OK;
	if (m->blob_len + n > TG_MAX_FIRMWARE_COMPONENT) {
		free(m->blob);
		m->blob = NULL;
		m->blob_len = 0;
		m->blob_too_large = true;
		return TG_OK;
	}
	if (m->blob_len + n > *cap) {
		/* Doubling: one copy per byte overall, not per chunk. */
		size_t nc = *cap * 2 > m->blob_len + n ? *cap * 2 : m->blob_len + n;
		uint8_t *nb = realloc(m->blob, nc);
		if (!nb)
			return TG_E_NOMEM;
		m->blob = nb;
		*cap = nc;
	}
	memcpy(m->blob + m->blob_len, p, n);
	m->blob_len += n;
	return TG_OK;
}

static void md_free_pair(struct tg_md **a, struct tg_md **b)
{
	tg_md_free(*a);
	tg_md_free(*b);
	*a = *b = NULL;
}

/* Hash a member's data, and walk it when it is a container.  The member is
 * res->m[mi], re-fetched after anything that may add members. */
static enum tg_err member_data(struct walk *w, struct archive *a, struct archive_entry *e, long mi,
			       const char *name, struct tg_diag *d)
{
	struct tg_ar_result *res = w->res;
	struct tg_ar_member *m = &res->m[mi];
	uint8_t head[4096], digest[32];
	size_t hl = 0, n, blob_cap = 0;
	const uint8_t *p;
	struct tg_md *md = NULL, *sm3 = NULL;
	struct mreader mr;
	enum tg_err r = TG_OK;
	int rc = 1;

	/* A size the header already puts over the limit is not read (a sparse
	 * member's holes would be hashed as zeros first). */
	if (archive_entry_size_is_set(e) && (uint64_t)archive_entry_size(e) > TG_MAX_ARCHIVE_MEMBER) {
		member_too_large(w, name);
		return TG_OK;
	}
	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK)
		return TG_E_CRYPTO;
	if (res->hash_sm3 && tg_md_new(TG_HASH_SM3, &sm3) != TG_OK) {
		tg_md_free(md);
		return TG_E_CRYPTO;
	}
	mreader_init(&mr, a, e);
	/* The first bytes (blocks may be short) decide what the member is. */
	while (hl < sizeof(head) && (rc = mread(&mr, sizeof(head) - hl, &p, &n)) > 0) {
		memcpy(head + hl, p, n);
		hl += n;
	}
	if (rc < 0) {
		md_free_pair(&md, &sm3);
		return member_error(w, a, name, d);
	}
	m->size = hl;
	res->total += hl;
	if (w->depth == 0 && strcmp(m->norm, "debian-binary") == 0)
		memcpy(res->deb_version, head, hl < sizeof(res->deb_version) - 1 ? hl : sizeof(res->deb_version) - 1);
	/* The manifest is read as text whatever its first bytes. */
	bool container = !m->manifest && !m->deb_control && container_magic(head, hl),
	     compressed = !m->manifest && !m->deb_control && !container && compressed_magic(head, hl);
	m->component = container || compressed ? NULL : firmware_magic(head, hl);
	bool hashing = res->hash_all || container || compressed || m->component;
	if (hashing)
		tg_md_write(md, head, hl);
	if (sm3)
		tg_md_write(sm3, head, hl);
	if (m->manifest && res->manifest) {
		tg_archive_finding(res, TG_R(MANIFEST_INVALID), TG_AR_ALWAYS, "%s: more than one manifest", name);
		m->manifest = false;
	} else if (m->manifest && !(res->manifest = malloc(1))) {
		md_free_pair(&md, &sm3);
		return TG_E_NOMEM;
	}
	manifest_append(res, m, name, head, hl);
	control_append(res, m, head, hl);
	/* Firmware inside the package is verified in full afterwards, from
	 * these very bytes. */
	if (m->component) {
		blob_cap = hl ? hl : 1;
		if (!(m->blob = malloc(blob_cap))) {
			md_free_pair(&md, &sm3);
			return TG_E_NOMEM;
		}
		memcpy(m->blob, head, hl);
		m->blob_len = hl;
	}
	if (container || compressed) {
		struct nested_src src = { .mr = &mr, .peek = head, .peek_len = hl, .md = md, .md2 = sm3, .size = 0 };
		bool walked = false;
		r = nested_walk(w, mi, name, &src, compressed, &walked, d);
		m = &res->m[mi];  /* the walk may have moved the array */
		if (r != TG_OK) {
			md_free_pair(&md, &sm3);
			return r;
		}
		/* Whatever the inner walk left unread still belongs to the
		 * member's digests (SHA-256, and SM3 for the GM profile). */
		while (!res->stopped && !w->failed && !src.err && (rc = mread(&mr, SIZE_MAX, &p, &n)) > 0) {
			tg_md_write(md, p, n);
			if (sm3)
				tg_md_write(sm3, p, n);
			src.size += n;
			if (!walked && hl + src.size > TG_MAX_ARCHIVE_MEMBER) {
				member_too_large(w, name);
				break;
			}
		}
		m->size += src.size;
		res->total += walked ? 0 : src.size;
		if (!res->stopped && !w->failed && (src.err || rc < 0)) {
			md_free_pair(&md, &sm3);
			return member_error(w, a, name, d);
		}
	} else {
		while (rc > 0 && (rc = mread(&mr, SIZE_MAX, &p, &n)) > 0) {
			if (hashing)
				tg_md_write(md, p, n);
			if (sm3)
				tg_md_write(sm3, p, n);
			manifest_append(res, m, name, p, n);
			control_append(res, m, p, n);
			if (blob_append(m, &blob_cap, p, n) != TG_OK) {
				md_free_pair(&md, &sm3);
				return TG_E_NOMEM;
			}
			m->size += n;
			res->total += n;
			if (m->size > TG_MAX_ARCHIVE_MEMBER) {
				member_too_large(w, name);
				break;
			}
			if (over_limits(w)) {
				res->stopped = true;
				break;
			}
		}
		if (rc < 0) {
			md_free_pair(&md, &sm3);
			return member_error(w, a, name, d);
		}
	}
	/* A device tree is firmware only when it is a FIT; a plain DTB (qemu's
	 * bamboo.dtb) is a file.  One too large to look at stays a FIT
	 * component and is refused. */
	if (m->component && strcmp(m->component, "fit") == 0 && m->blob && !tg_fit_is_fit(m->blob, m->blob_len)) {
		m->component = NULL;
		free(m->blob);
		m->blob = NULL;
		m->blob_len = 0;
	}
	tg_md_final(md, digest);
	tg_md_free(md);
	if (hashing)
		tg_hex_encode(digest, 32, m->sha256);
	if (sm3) {
		tg_md_final(sm3, digest);
		tg_md_free(sm3);
		tg_hex_encode(digest, 32, m->sm3);
	}
	return TG_OK;
}

/* The member libarchive just returned must be the next one the tar
 * scanner found, with the same name, type, link target and size: a tar
 * that two readers take apart differently is refused (THREATS case 10). */
static bool tar_agrees(struct walk *w, struct archive *a, struct archive_entry *e, char *why, size_t n)
{
	struct tg_tarscan *ts = &w->layer->ts;
	bool tar = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
	struct tg_tar_entry t;
	enum tg_tar_class cls;
	const char *name = archive_entry_pathname(e), *link = NULL;
	bool ok = true;

	if (ts->err[0]) {
		snprintf(why, n, "tar headers: %s", ts->err);
		return false;
	}
	if (!tar && !ts->active)
		return true;
	if (tar != ts->active) {
		snprintf(why, n, "tar headers: read as %s by libarchive and %s by the header scan",
			 tar ? "tar" : archive_format_name(a), ts->active ? "tar" : "not tar");
		return false;
	}
	if (!tg_tarscan_take(ts, &t)) {
		snprintf(why, n, "tar headers: libarchive returned '%s', which the header scan did not find",
			 name ? name : "");
		return false;
	}
	if ((link = archive_entry_hardlink(e)))
		cls = TG_TAR_HARDLINK;
	else if (archive_entry_filetype(e) == AE_IFLNK)
		cls = TG_TAR_SYMLINK, link = archive_entry_symlink(e);
	else if (archive_entry_filetype(e) == AE_IFDIR)
		cls = TG_TAR_DIR;
	else if (archive_entry_filetype(e) == AE_IFREG)
		cls = TG_TAR_FILE;
	else
		cls = TG_TAR_SPECIAL;
	if (!name || strcmp(name, t.name) != 0)
		snprintf(why, n, "tar headers: member named '%s' by libarchive and '%s' by the header scan",
			 name ? name : "", t.name), ok = false;
	else if (cls != t.cls)
		snprintf(why, n, "tar headers: %s is typed differently by libarchive and the header scan", t.name),
			ok = false;
	else if ((link || t.link) && (!link || !t.link || strcmp(link, t.link) != 0))
		snprintf(why, n, "tar headers: %s links to '%s' for libarchive and '%s' for the header scan", t.name,
			 link ? link : "", t.link ? t.link : ""), ok = false;
	else if (cls == TG_TAR_FILE && (!archive_entry_size_is_set(e) || (uint64_t)archive_entry_size(e) != t.size))
		snprintf(why, n, "tar headers: %s is %lld bytes for libarchive and %llu for the header scan", t.name,
			 (long long)archive_entry_size(e), (unsigned long long)t.size), ok = false;
	free(t.name);
	free(t.link);
	return ok;
}

static enum tg_err walk_archive(struct walk *w, struct archive *a, const char *what, struct tg_diag *d)
{
	struct tg_ar_result *res = w->res;
	char why[600];
	struct archive_entry *e;
	char norm[4096], key[4096], full[4200];
	int rc;

	(void)what;
	while (!res->stopped && !w->failed) {
		rc = archive_read_next_header(a, &e);
		if (rc == ARCHIVE_EOF)
			break;
		/* A warning is a header libarchive had to guess at (THREATS
		 * case 10): fail closed. */
		if (rc != ARCHIVE_OK) {
			/* The file given is malformed input: exit 2 (CLI.md).  A
			 * corrupt member archive is a finding about the package.
			 * The scanner's reason, when it has one, is the precise
			 * one (libarchive says "Damaged tar archive"). */
			if (w->layer && w->layer->ts.err[0])
				snprintf(why, sizeof(why), "tar headers: %s", w->layer->ts.err);
			else
				snprintf(why, sizeof(why), "%s", archive_error_string(a) ? archive_error_string(a) :
					 "unreadable header");
			if (w->depth == 0)
				return tg_fail(d, TG_E_FORMAT, "%s: malformed archive at member %llu: %s", what,
					       (unsigned long long)res->entries + 1, why);
			level_failed(w, "%sentry %llu: %s", w->prefix, (unsigned long long)res->entries, why);
			break;
		}
		if (w->layer && !tar_agrees(w, a, e, why, sizeof(why))) {
			if (w->depth == 0)
				return tg_fail(d, TG_E_FORMAT, "%s: malformed archive at member %llu: %s", what,
					       (unsigned long long)res->entries + 1, why);
			level_failed(w, "%s%s", w->prefix, why);
			break;
		}
		if (++res->entries > TG_MAX_ARCHIVE_ENTRIES) {
			tg_archive_finding(res, TG_R(ARCHIVE_LIMIT), TG_AR_ALWAYS, "more than %u members", TG_MAX_ARCHIVE_ENTRIES);
			res->stopped = true;
			break;
		}
		const char *name = archive_entry_pathname(e);
		bool windows = (archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP;
		const char *problem = path_problem(name, norm, sizeof(norm), windows);
		snprintf(full, sizeof(full), "%s%s", w->prefix, name ? name : "(no name)");
		if (problem && strcmp(problem, "name is only '.' components") == 0 &&
		    archive_entry_filetype(e) == AE_IFDIR && !archive_entry_hardlink(e))
			continue; /* "./": the archive's own root directory */
		if (problem) {
			level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: %s", full, problem);
			continue;
		}
		/* cpio ends at a member named TRAILER!!!: GNU cpio and the kernel
		 * stop there whatever its type, libarchive reads on when it is
		 * not an empty file.  Readers would disagree on the members
		 * (THREATS case 12). */
		if ((archive_format(a) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_CPIO &&
		    strcmp(norm, "TRAILER!!!") == 0) {
			level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: a member named like the cpio trailer", full);
			continue;
		}
		long mi = add_member(res, full);
		if (mi < 0 || !(res->m[mi].norm = strdup(norm)))
			return TG_E_NOMEM;
		/* m is valid until member_data, which may add members. */
		struct tg_ar_member *m = &res->m[mi];
		m->nested = w->depth > 0;
		m->parent = w->parent;
		m->manifest = w->depth == 0 && archive_entry_filetype(e) == AE_IFREG &&
			      (strcmp(norm, "trustgate.intoto.jsonl") == 0 || strcmp(norm, "trustgate.dsse.json") == 0);
		m->mode = (uint32_t)archive_entry_mode(e);
		/* The control file of a .deb: control.tar.*!./control */
		m->deb_control = w->depth == 1 && w->payload && archive_entry_filetype(e) == AE_IFREG &&
				 strcmp(norm, "control") == 0 && strncmp(res->m[w->parent].norm, "control.tar", 11) == 0;
		int base = archive_format(a) & ARCHIVE_FORMAT_BASE_MASK;
		mode_t type = archive_entry_filetype(e);
		/* ar members are regular files by definition; deterministic ar
		 * (binutils' default) stores no type bits. */
		if (type == 0 && base == ARCHIVE_FORMAT_AR)
			type = AE_IFREG;
		const char *hl = archive_entry_hardlink(e), *sl = archive_entry_symlink(e);
		struct tg_ar_finding *lf;
		char tnorm[4096];
		/* Duplicates after normalisation, type changes of one path
		 * included (THREATS cases 5, 6).  Names that differ only in case
		 * are one file where the target folds case: zip archives are
		 * unpacked on such systems; a .deb, tar or cpio on Linux is not. */
		size_t kl = strlen(norm);
		bool fold = windows;
		for (size_t i = 0; i <= kl; i++)
			key[i] = (fold && norm[i] >= 'A' && norm[i] <= 'Z') ? (char)(norm[i] + 32) : norm[i];
		if (set_has(&w->dupkeys, key))
			level_finding(w, TG_R(ARCHIVE_DUPLICATE), TG_AR_ALWAYS, "%s: a member of this name already exists", full);
		else if (!set_add(&w->dupkeys, key) || !set_add(&w->names, norm))
			return TG_E_NOMEM;
		/* A path through an earlier symlink writes where the link points
		 * (THREATS case 3): the extraction escape a link enables. */
		for (size_t i = 0; i < kl; i++)
			if (norm[i] == '/') {
				norm[i] = '\0';
				bool via = set_has(&w->symlinks, norm);
				norm[i] = '/';
				if (via) {
					level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: path passes through a symlink", full);
					break;
				}
			}
		/* setuid/setgid files are listed; whether a product may carry them
		 * from tier 3 is the product record's decision (--allow setuid). */
		if ((m->mode & (S_ISUID | S_ISGID)) && !hl && type == AE_IFREG &&
		    (lf = level_finding(w, TG_R(ARCHIVE_SETUID), TG_AR_STRICT, "%s: setuid/setgid bit (mode %04o)", full,
					     (unsigned)(m->mode & 07777))))
			lf->member = mi;
		else if ((m->mode & (S_ISUID | S_ISGID)) && (hl || type != AE_IFREG))
			level_finding(w, TG_R(ARCHIVE_SETUID), TG_AR_STRICT, "%s: setuid/setgid bit on a %s", full,
					   hl ? "hard link" : "non-file");
		if (hl) {
			snprintf(m->type, sizeof(m->type), "hardlink");
			/* THREATS case 4: a hard link may only name an earlier member,
			 * never itself, and never carries data. */
			if (path_problem(hl, tnorm, sizeof(tnorm), windows) || !set_has(&w->names, tnorm) ||
			    strcmp(tnorm, norm) == 0)
				level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: hard link to '%s' outside the archive",
					full, hl);
			else if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0)
				level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: hard link carrying data", full);
			else if (!(m->link = strdup(tnorm)))
				return TG_E_NOMEM;
		} else if (type == AE_IFLNK) {
			snprintf(m->type, sizeof(m->type), "symlink");
			/* A link is content like a file: an absolute target or one
			 * with '..' is what Debian Policy 10.5 asks for and what the
			 * signer shipped.  What links make dangerous is writing through
			 * them while unpacking, refused above.  A target must still be
			 * a name a person and a manifest can read: no control bytes,
			 * strict UTF-8, bounded (case 12's 1 MB binary target). */
			if (!sl || !target_clean(sl, windows))
				level_finding(w, TG_R(ARCHIVE_UNSAFE_PATH), TG_AR_ALWAYS, "%s: symlink target is not a clean path",
					full);
			else if (!(m->link = strdup(sl)))
				return TG_E_NOMEM;
			else
				m->link_escapes = link_escapes(norm, sl);
			if (!set_add(&w->symlinks, norm))
				return TG_E_NOMEM;
		} else if (type == AE_IFDIR) {
			snprintf(m->type, sizeof(m->type), "dir");
		} else if (type == AE_IFREG) {
			snprintf(m->type, sizeof(m->type), "file");
			enum tg_err r = member_data(w, a, e, mi, name, d);
			if (r != TG_OK)
				return r;
		} else {
			/* Devices, FIFOs, sockets, unknown type flags. */
			snprintf(m->type, sizeof(m->type), "special");
			level_finding(w, TG_R(ARCHIVE_SPECIAL_FILE), TG_AR_ALWAYS, "%s: device, FIFO, socket or unknown type", full);
		}
	}
	return TG_OK;
}

/* deb(5): an ar archive whose first member is debian-binary is a Debian
 * package and holds exactly debian-binary ("2.x"), control.tar[.gz|.xz|
 * .zst] and data.tar[.gz|.xz|.bz2|.zst|.lzma], in that order — no extra
 * member (an unpacked-but-unsigned _gpgorigin, a second data.tar) that dpkg
 * and a verifier could read differently (THREATS case 11). */
static bool suffix_in(const char *s, const char *base, const char *const *ext)
{
	size_t bl = strlen(base);

	if (strncmp(s, base, bl) != 0)
		return false;
	for (; *ext; ext++)
		if (strcmp(s + bl, *ext) == 0)
			return true;
	return false;
}

static void deb_rules(struct tg_ar_result *res)
{
	static const char *const control_ext[] = { "", ".gz", ".xz", ".zst", NULL };
	static const char *const data_ext[] = { "", ".gz", ".xz", ".bz2", ".zst", ".lzma", NULL };
	const struct tg_ar_member *top[4] = { NULL };
	size_t ntop = 0;

	for (size_t i = 0; i < res->n; i++)
		if (!res->m[i].nested) {
			if (ntop < 4)
				top[ntop] = &res->m[i];
			ntop++;
		}
	if (ntop == 0 || strcmp(top[0]->norm, "debian-binary") != 0)
		return;
	if (strncmp(res->deb_version, "2.", 2) != 0)
		tg_archive_finding(res, TG_R(DEB_MALFORMED), TG_AR_ALWAYS, "debian-binary is not a version 2.x package");
	if (ntop != 3 || !suffix_in(top[1]->norm, "control.tar", control_ext) ||
	    !suffix_in(top[2]->norm, "data.tar", data_ext))
		tg_archive_finding(res, TG_R(DEB_MALFORMED), TG_AR_ALWAYS, "a .deb holds exactly debian-binary, control.tar.* and "
			"data.tar.*, in that order (%zu members found)", ntop);
}

/* Under an embedded manifest only the members are signed: every byte of
 * the file must belong to them or to the format's own framing, or bytes
 * after the end (a second cpio archive after an initramfs, which the kernel
 * unpacks and lets win; another gzip member; anything after the compressed
 * stream) would ride along unsigned.  The tar scanner already refuses
 * anything but zeros after the end blocks; here: any other format's
 * decompressed tail must be zeros (cpio pads with them), and the
 * decompressor must have consumed the whole file. */
static void whole_file(struct layer *top, const struct walk *w, struct tg_ar_result *res)
{
	int base = archive_format(top->fmt) & ARCHIVE_FORMAT_BASE_MASK;
	uint64_t nonzero = 0;

	if (!top->ts.active && base != ARCHIVE_FORMAT_ZIP && base != ARCHIVE_FORMAT_CPIO) {
		const char *err;
		if (!layer_tail_nonzero(top, &nonzero, &err))
			tg_archive_finding(res, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: %s", w->top_what, err);
		else if (nonzero)
			tg_archive_finding(res, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: %llu non-zero bytes after the "
					   "archive's end marker are not covered by the signed manifest", w->top_what,
					   (unsigned long long)nonzero);
		if (err || nonzero)
			return;
	}
	int nf = archive_filter_count(top->raw);
	int64_t used = nf > 0 ? archive_filter_bytes(top->raw, nf - 1) : -1;
	if (nf > 1 && (used < 0 || (uint64_t)used != res->whole_size))
		tg_archive_finding(res, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: the %s stream ends at byte %lld of %llu; "
				   "what follows is not covered by the signed manifest", w->top_what,
				   archive_filter_name(top->raw, 0), (long long)used, (unsigned long long)res->whole_size);
}

enum tg_err tg_archive_walk(tg_ar_read_fn fn, void *ud, const char *what, struct tg_ar_result *res,
			    struct tg_diag *d)
{
	struct top_src src = { fn, ud };
	struct layer top;
	const char *why = NULL;
	char fwhy[300];
	enum tg_err r;

	r = layer_open(&top, top_read, &src, &why);
	if (r != TG_OK) {
		if (r == TG_E_FORMAT)
			r = tg_fail(d, TG_E_FORMAT, "%s: not a readable archive: %s", what, why);
		layer_close(&top);
		return r;
	}
	struct walk w = { .res = res, .layer = &top, .top = top.raw, .top_what = what, .prefix = "", .depth = 0, .parent = -1,
			  .payload = true };
	r = walk_archive(&w, top.fmt, what, d);
	if (r == TG_OK && !res->stopped && !layer_finish(&top, fwhy, sizeof(fwhy)))
		r = tg_fail(d, TG_E_FORMAT, "%s: malformed archive: %s", what, fwhy);
	if (r == TG_OK)
		cpio_tail(&w, &top, what);
	if (r == TG_OK && (archive_format(top.fmt) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_AR)
		deb_rules(res);
	if (r == TG_OK && res->whole_size && !res->stopped)
		whole_file(&top, &w, res);
	if (r == TG_OK && res->entries == 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: archive has no members", what);
	layer_close(&top);
	set_free(&w.names);
	set_free(&w.dupkeys);
	set_free(&w.symlinks);
	return r;
}

enum tg_err tg_archive_walk_zip_seekable(int fd, const char *what, struct tg_ar_result *res,
					 struct tg_diag *d)
{
	struct archive *a = reader_new_zip_seekable();
	enum tg_err r;

	if (!a)
		return TG_E_NOMEM;
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		r = tg_fail(d, TG_E_FORMAT, "%s: zip central directory unreadable: %s", what, archive_error_string(a));
		archive_read_free(a);
		return r;
	}
	struct walk w = { .res = res, .top = a, .top_what = what, .prefix = "", .depth = 0, .parent = -1,
			  .payload = true };
	r = walk_archive(&w, a, what, d);
	archive_read_free(a);
	set_free(&w.names);
	set_free(&w.dupkeys);
	set_free(&w.symlinks);
	return r;
}

/* ------------------------------------------------------------ rewriting */

/* The writer for the format and filter the reader found, so a signed copy
 * is the same kind of archive as the one the supplier handed in. */
static const char *werr(struct archive *w)
{
	return archive_error_string(w) ? archive_error_string(w) : "libarchive gave no reason";
}

static enum tg_err writer_like(struct archive *in, struct archive **ret, const char *what, struct tg_diag *d)
{
	int fmt = archive_format(in), filt = archive_filter_count(in) > 1 ? archive_filter_code(in, 0) : ARCHIVE_FILTER_NONE;
	struct archive *w;
	int rc;

	if (archive_filter_count(in) > 2)
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: more than one compression layer", what);
	if (!(w = archive_write_new()))
		return TG_E_NOMEM;
	if ((fmt & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_AR) {
		/* An SVR4 ar keeps names over 15 bytes in a table that must come
		 * first, so a member cannot be appended; and a .deb's member list
		 * is fixed.  Both are signed detached. */
		archive_write_free(w);
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: an ar archive cannot take an added member; sign it detached (--sig)",
			       what);
	}
	/* Each writer named, not archive_write_set_format(code): that one
	 * table drags every writer libarchive has (xar's needs libxml2 and
	 * ICU) into the program, and their start-up cost into every check. */
	switch (fmt) {
	case ARCHIVE_FORMAT_TAR:
	case ARCHIVE_FORMAT_TAR_PAX_RESTRICTED:
		rc = archive_write_set_format_pax_restricted(w);
		break;
	case ARCHIVE_FORMAT_TAR_PAX_INTERCHANGE:
		rc = archive_write_set_format_pax(w);
		break;
	case ARCHIVE_FORMAT_TAR_USTAR:
		rc = archive_write_set_format_ustar(w);
		break;
	case ARCHIVE_FORMAT_TAR_GNUTAR:
		rc = archive_write_set_format_gnutar(w);
		break;
	case ARCHIVE_FORMAT_ZIP:
		rc = archive_write_set_format_zip(w);
		break;
	case ARCHIVE_FORMAT_CPIO:
	case ARCHIVE_FORMAT_CPIO_POSIX:
		rc = archive_write_set_format_cpio(w);
		break;
	case ARCHIVE_FORMAT_CPIO_SVR4_NOCRC:
		rc = archive_write_set_format_cpio_newc(w);
		break;
	default:
		archive_write_free(w);
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: cannot write this archive format (%s)", what,
			       archive_format_name(in));
	}
	if (rc == ARCHIVE_OK && filt != ARCHIVE_FILTER_NONE)
		rc = archive_write_add_filter(w, filt);
	if (rc != ARCHIVE_OK) {
		enum tg_err r = tg_fail(d, TG_E_UNSUPPORTED, "%s: cannot write this archive format (%s): %s", what,
					archive_format_name(in), werr(w));
		archive_write_free(w);
		return r;
	}
	*ret = w;
	return TG_OK;
}

enum tg_err tg_archive_rewrite(int in_fd, const char *what, int out_fd, const char *out_what, const char *name,
			       const uint8_t *extra, size_t extra_len, struct tg_diag *d)
{
	struct archive *a = archive_read_new(), *w = NULL;
	struct archive_entry *e;
	_cleanup_free_ uint8_t *buf = malloc(TG_READ_CHUNK);
	time_t newest = 0;
	enum tg_err r = TG_OK;
	int rc;

	if (!a || !buf) {
		if (a)
			archive_read_free(a);
		return TG_E_NOMEM;
	}
	support_filters(a);
	support_formats(a);
	if (archive_read_open_fd(a, in_fd, TG_READ_CHUNK) != ARCHIVE_OK) {
		r = tg_fail(d, TG_E_FORMAT, "%s: not a readable archive: %s", what, werr(a));
		goto out;
	}
	while (r == TG_OK && (rc = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		la_ssize_t n;
		if (!w) {
			r = writer_like(a, &w, what, d);
			if (r != TG_OK)
				break;
			if (archive_write_open_fd(w, out_fd) != ARCHIVE_OK) {
				r = tg_fail(d, TG_E_IO, "%s: %s", out_what, werr(w));
				break;
			}
		}
		if (archive_entry_mtime(e) > newest)
			newest = archive_entry_mtime(e);
		if (archive_write_header(w, e) < ARCHIVE_WARN) {
			r = tg_fail(d, TG_E_IO, "%s: %s: %s", out_what, archive_entry_pathname(e), werr(w));
			break;
		}
		while ((n = archive_read_data(a, buf, TG_READ_CHUNK)) > 0)
			if (archive_write_data(w, buf, (size_t)n) != n) {
				n = -1;
				r = tg_fail(d, TG_E_IO, "%s: %s", out_what, werr(w));
				break;
			}
		if (n < 0 && r == TG_OK)
			r = tg_fail(d, TG_E_FORMAT, "%s: %s: %s", what, archive_entry_pathname(e), werr(a));
	}
	if (r == TG_OK && rc != ARCHIVE_EOF)
		r = tg_fail(d, TG_E_FORMAT, "%s: %s", what, werr(a));
	if (r == TG_OK && !w)
		r = tg_fail(d, TG_E_FORMAT, "%s: archive has no members", what);
	if (r == TG_OK) {
		/* The manifest goes last, as an ordinary root file, dated like
		 * the newest member so signing twice gives the same bytes. */
		struct archive_entry *m = archive_entry_new();
		if (!m) {
			r = TG_E_NOMEM;
			goto out;
		}
		archive_entry_set_pathname(m, name);
		archive_entry_set_filetype(m, AE_IFREG);
		archive_entry_set_perm(m, 0644);
		archive_entry_set_size(m, (la_int64_t)extra_len);
		archive_entry_set_mtime(m, newest, 0);
		if (archive_write_header(w, m) != ARCHIVE_OK ||
		    archive_write_data(w, extra, extra_len) != (la_ssize_t)extra_len ||
		    archive_write_close(w) != ARCHIVE_OK)
			r = tg_fail(d, TG_E_IO, "%s: %s", out_what, werr(w));
		archive_entry_free(m);
	}
out:
	if (w)
		archive_write_free(w);
	archive_read_free(a);
	return r;
}
