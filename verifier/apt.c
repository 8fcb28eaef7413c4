/* Debian packages through apt's signed lists (see apt.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <archive.h>
#include <archive_entry.h>

#include "apt.h"
#include "openpgp.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/reasons.h"

#define APT_MAX_RELEASE (16u << 20)     /* an InRelease */
#define APT_MAX_INDEX (1024ull << 20)   /* a decompressed Packages index */
#define APT_MAX_LISTS 256

static void problem(struct tg_apt_match *m, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct tg_apt_match *m, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (m->nproblems >= TG_APT_MAX_PROBLEMS)
		return;
	struct tg_apt_problem *p = &m->problems[m->nproblems++];
	p->code = code;
	va_start(ap, fmt);
	vsnprintf(p->detail, sizeof(p->detail), fmt, ap);
	va_end(ap);
	for (char *c = p->detail; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
}

/* ------------------------------------------------------------ deb822 */

/* The line of field `name` ("Name:" at a line start), or NULL. */
static const char *field_at(const char *s, size_t len, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = s; p < s + len;) {
		const char *e = memchr(p, '\n', (size_t)(s + len - p));
		size_t ll = e ? (size_t)(e - p) : (size_t)(s + len - p);
		if (ll > nl && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			return p + nl + 1;
		if (!e)
			break;
		p = e + 1;
	}
	return NULL;
}

bool tg_deb822_field(const char *stanza, size_t len, const char *name, char *out, size_t n)
{
	const char *v = field_at(stanza, len, name);

	if (!v)
		return false;
	while (v < stanza + len && (*v == ' ' || *v == '\t'))
		v++;
	const char *e = memchr(v, '\n', (size_t)(stanza + len - v));
	size_t vl = e ? (size_t)(e - v) : (size_t)(stanza + len - v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
		vl--;
	if (vl == 0 || vl >= n)
		return false;
	memcpy(out, v, vl);
	out[vl] = '\0';
	return true;
}

/* In the SHA256 field of a Release text: the digest and size listed for
 * `path`. */
static bool release_lists(const char *text, size_t len, const char *path, char hex[65], uint64_t *size)
{
	const char *v = field_at(text, len, "SHA256");

	if (!v)
		return false;
	const char *p = memchr(v, '\n', (size_t)(text + len - v));
	while (p && ++p < text + len && (*p == ' ' || *p == '\t')) {
		const char *e = memchr(p, '\n', (size_t)(text + len - p));
		size_t ll = e ? (size_t)(e - p) : (size_t)(text + len - p);
		char h[80], pth[512];
		unsigned long long sz;
		char line[700];
		if (ll < sizeof(line)) {
			memcpy(line, p, ll);
			line[ll] = '\0';
			if (sscanf(line, " %79s %llu %511s", h, &sz, pth) == 3 && strcmp(pth, path) == 0 && strlen(h) == 64) {
				for (int i = 0; i < 64; i++)
					hex[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] + 32 : h[i]);
				hex[64] = '\0';
				*size = sz;
				return true;
			}
		}
		p = e;
	}
	return false;
}

/* "Sat, 05 Dec 2026 02:53:00 UTC" (RFC 2822, as apt writes and reads it). */
static bool rfc2822_time(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	const char *e = strptime(s, "%a, %d %b %Y %H:%M:%S", &tm);

	if (!e)
		return false;
	while (*e == ' ')
		e++;
	if (*e && strcmp(e, "UTC") != 0 && strcmp(e, "GMT") != 0 && strcmp(e, "+0000") != 0 && strcmp(e, "Z") != 0)
		return false;
	*ret = (int64_t)timegm(&tm);
	return true;
}

/* ------------------------------------------------------------ indexes */

/* A Packages index, decompressed whole (lz4, as apt stores it, or gzip,
 * xz, bzip2, zstd, or plain), bounded. */
static enum tg_err index_read(const char *path, char **ret, size_t *ret_len, struct tg_diag *d)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	enum tg_err r = TG_OK;

	if (!a)
		return TG_E_NOMEM;
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_format_raw(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_filename(a, path, 1u << 20) != ARCHIVE_OK) {
		r = tg_fail(d, TG_E_FORMAT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	int rc = archive_read_next_header(a, &e);
	if (rc == ARCHIVE_EOF)
		goto out;   /* an empty index */
	if (rc != ARCHIVE_OK) {
		r = tg_fail(d, TG_E_FORMAT, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		if (cap - len < (1u << 20)) {
			size_t nc = cap ? cap * 2 : 8u << 20;
			if (nc > APT_MAX_INDEX + 1) {
				r = tg_fail(d, TG_E_LIMIT, "%s: index over %llu bytes", path, (unsigned long long)APT_MAX_INDEX);
				goto out;
			}
			char *nb = realloc(buf, nc);
			if (!nb) {
				r = TG_E_NOMEM;
				goto out;
			}
			buf = nb;
			cap = nc;
		}
		la_ssize_t n = archive_read_data(a, buf + len, cap - len - 1);
		if (n < 0) {
			r = tg_fail(d, TG_E_FORMAT, "%s: %s", path, archive_error_string(a));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
out:
	archive_read_free(a);
	if (r != TG_OK) {
		free(buf);
		return r;
	}
	if (!buf && !(buf = malloc(1)))
		return TG_E_NOMEM;
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return TG_OK;
}

/* The stanza of the index whose SHA256 field is the package's. */
static bool stanza_of(const char *idx, size_t len, const char *sha256, const char **ret, size_t *ret_len)
{
	char needle[80];
	const char *p = idx;

	snprintf(needle, sizeof(needle), "\nSHA256: %s\n", sha256);
	for (;;) {
		const char *hit = memmem(p, (size_t)(idx + len - p), needle, strlen(needle));
		if (!hit)
			return false;
		/* The stanza: from after the blank line before it to the next. */
		const char *s = hit;
		while (s > idx && !(s[-1] == '\n' && s - 1 > idx && s[-2] == '\n'))
			s--;
		const char *e = memmem(hit + 1, (size_t)(idx + len - hit - 1), "\n\n", 2);
		*ret = s;
		*ret_len = e ? (size_t)(e - s + 1) : (size_t)(idx + len - s);
		return true;
	}
}

/* ------------------------------------------------------------ the walk */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The index path an apt list file names: "<prefix>main_binary-amd64_Packages.lz4"
 * -> "main/binary-amd64/Packages" (apt escapes '_' inside URI parts). */
static bool index_path(const char *file, const char *prefix, char *out, size_t n)
{
	static const char *const comp[] = { "", ".lz4", ".gz", ".xz", ".bz2", ".zst", NULL };
	size_t pl = strlen(prefix);

	if (strncmp(file, prefix, pl) != 0)
		return false;
	const char *rest = file + pl;
	for (size_t c = 0; comp[c]; c++) {
		size_t rl = strlen(rest), cl = strlen(comp[c]);
		if (rl <= cl || strcmp(rest + rl - cl, comp[c]) != 0)
			continue;
		if (rl - cl < 9 || strncmp(rest + rl - cl - 9, "_Packages", 9) != 0 || rl - cl >= n)
			continue;
		for (size_t i = 0; i < rl - cl; i++)
			out[i] = rest[i] == '_' ? '/' : rest[i];
		out[rl - cl] = '\0';
		return true;
	}
	return false;
}

/* One InRelease and its Packages indexes: fills m and returns true when the
 * package is found through it. */
static enum tg_err try_release(const char *dir, const char *rel, char **names, size_t nnames, const char *sha256,
			       uint64_t size, const struct tg_keyrec *keys, size_t nkeys, int64_t now,
			       struct tg_apt_match *m, struct tg_diag *d)
{
	_cleanup_free_ char *path = tg_path_join(dir, rel);
	_cleanup_free_ uint8_t *raw = NULL;
	struct tg_pgp_clearsigned cs = { 0 };
	char prefix[512], dist[128], suite[64] = "", codename[64] = "", vu[64];
	size_t rawlen = 0;
	enum tg_err r = TG_OK;

	if (!path)
		return TG_E_NOMEM;
	/* "<site>_dists_<dist>_InRelease" */
	size_t rl = strlen(rel);
	const char *ds = strstr(rel, "_dists_");
	if (!ds || rl - 10 >= sizeof(prefix))
		return TG_OK;
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(rl - 9), rel);
	snprintf(dist, sizeof(dist), "%.*s", (int)(rl - 10 - (size_t)(ds + 7 - rel)), ds + 7);
	for (char *c = dist; *c; c++)
		if (*c == '_')
			*c = '/';

	/* The index first (cheap to search); the signature and digests are
	 * all checked before anything found counts. */
	for (size_t i = 0; i < nnames; i++) {
		char ipath[256], lhex[65], hex[65];
		uint64_t lsize = 0;
		uint8_t dg[32];
		_cleanup_free_ char *ifile = NULL, *idx = NULL;
		size_t ilen = 0;
		const char *st;
		size_t stlen;
		if (!index_path(names[i], prefix, ipath, sizeof(ipath)))
			continue;
		if (!(ifile = tg_path_join(dir, names[i])))
			return TG_E_NOMEM;
		r = index_read(ifile, &idx, &ilen, d);
		if (r == TG_E_FORMAT || r == TG_E_LIMIT) {
			problem(m, TG_R(APT_INDEX_MISMATCH), "%s: unreadable: %s", names[i], d->msg);
			continue;
		}
		if (r != TG_OK)
			return r;
		if (!stanza_of(idx, ilen, sha256, &st, &stlen))
			continue;
		/* Found in this index: now prove the index and its release. */
		if (!raw) {
			r = tg_file_read(path, APT_MAX_RELEASE, &raw, &rawlen, d);
			if (r != TG_OK)
				return r;
			struct tg_diag pd = { { 0 } };
			r = tg_pgp_verify_clearsigned(tg_span_make(raw, rawlen), rel, keys, nkeys, &cs, &pd);
			if (r == TG_E_FORMAT) {
				problem(m, TG_R(APT_RELEASE_UNSIGNED), "%s", pd.msg);
				return TG_OK;
			}
			if (r != TG_OK) {
				*d = pd;
				return r;
			}
		}
		if (!cs.valid) {
			problem(m, TG_R(APT_RELEASE_UNSIGNED), "%s is not signed by an OpenPGP key of the records (or a "
				"signature on it is bad)", rel);
			tg_pgp_clearsigned_release(&cs);
			return TG_OK;
		}
		tg_deb822_field(cs.text, cs.len, "Suite", suite, sizeof(suite));
		tg_deb822_field(cs.text, cs.len, "Codename", codename, sizeof(codename));
		/* Fetched as one distribution, signed as another: an old or
		 * other suite's valid InRelease served in its place. */
		if (strcmp(dist, suite) != 0 && strcmp(dist, codename) != 0) {
			problem(m, TG_R(APT_SUITE_MISMATCH), "%s was fetched as %s but is signed as suite %s, codename %s", rel,
				dist, suite[0] ? suite : "(none)", codename[0] ? codename : "(none)");
			break;
		}
		int64_t until;
		if (tg_deb822_field(cs.text, cs.len, "Valid-Until", vu, sizeof(vu))) {
			if (!rfc2822_time(vu, &until)) {
				problem(m, TG_R(APT_RELEASE_EXPIRED), "%s: Valid-Until '%s' is not a date", rel, vu);
				break;
			}
			if (now >= until) {
				problem(m, TG_R(APT_RELEASE_EXPIRED), "%s expired at %s (Valid-Until)", rel, vu);
				break;
			}
		}
		if (!release_lists(cs.text, cs.len, ipath, lhex, &lsize)) {
			problem(m, TG_R(APT_INDEX_MISMATCH), "%s: %s is not listed in %s", names[i], ipath, rel);
			continue;
		}
		r = tg_digest(TG_HASH_SHA256, idx, ilen, dg);
		if (r != TG_OK)
			break;
		tg_hex_encode(dg, 32, hex);
		if (lsize != ilen || strcmp(hex, lhex) != 0) {
			problem(m, TG_R(APT_INDEX_MISMATCH), "%s: %zu bytes, sha256 %.16s..., but %s lists %llu bytes, %.16s...",
				names[i], ilen, hex, rel, (unsigned long long)lsize, lhex);
			continue;
		}
		char sz[32], pkg[128], ver[TG_MAX_VERSION + 1], arch[32];
		if (!tg_deb822_field(st, stlen, "Size", sz, sizeof(sz)) || strtoull(sz, NULL, 10) != size ||
		    !tg_deb822_field(st, stlen, "Package", pkg, sizeof(pkg)) ||
		    !tg_deb822_field(st, stlen, "Version", ver, sizeof(ver)) ||
		    !tg_deb822_field(st, stlen, "Architecture", arch, sizeof(arch))) {
			problem(m, TG_R(APT_INDEX_MISMATCH), "%s: the entry for this package has another size or lacks "
				"Package, Version or Architecture", names[i]);
			continue;
		}
		m->found = true;
		snprintf(m->package, sizeof(m->package), "%s", pkg);
		snprintf(m->version, sizeof(m->version), "%s", ver);
		snprintf(m->architecture, sizeof(m->architecture), "%s", arch);
		snprintf(m->release, sizeof(m->release), "%s", rel);
		snprintf(m->suite, sizeof(m->suite), "%s", suite);
		snprintf(m->codename, sizeof(m->codename), "%s", codename);
		for (size_t k = 0; k < cs.nsigners && k < 8; k++) {
			memcpy(m->signers[m->nsigners], cs.signers[k].fingerprint, 41);
			m->signer_hash[m->nsigners++] = cs.signers[k].hash;
		}
		break;
	}
	tg_pgp_clearsigned_release(&cs);
	return r == TG_OK || r == TG_E_FORMAT ? TG_OK : r;
}

enum tg_err tg_apt_find(const char *dir, const char *sha256, uint64_t size, const struct tg_keyrec *keys,
			size_t nkeys, int64_t now, struct tg_apt_match *ret, struct tg_diag *d)
{
	DIR *dh = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	enum tg_err r = TG_OK;

	memset(ret, 0, sizeof(*ret));
	if (!dh)
		return tg_fail(d, TG_E_IO, "%s: cannot open the apt lists: %s", dir, strerror(errno));
	while ((e = readdir(dh))) {
		if (e->d_name[0] == '.' || (!ends_with(e->d_name, "_InRelease") && !strstr(e->d_name, "_Packages")))
			continue;
		if (n >= APT_MAX_LISTS) {
			r = tg_fail(d, TG_E_LIMIT, "%s: more than %d list files", dir, APT_MAX_LISTS);
			break;
		}
		char **nn = realloc(names, (n + 1) * sizeof(*names));
		if (!nn || !(nn[n] = strdup(e->d_name))) {
			names = nn ? nn : names;
			r = TG_E_NOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(dh);
	if (r == TG_OK && n)
		qsort(names, n, sizeof(*names), cmp_str);
	size_t releases = 0;
	for (size_t i = 0; r == TG_OK && i < n && !ret->found; i++)
		if (ends_with(names[i], "_InRelease")) {
			releases++;
			r = try_release(dir, names[i], names, n, sha256, size, keys, nkeys, now, ret, d);
		}
	if (r == TG_OK && !releases)
		r = tg_fail(d, TG_E_FORMAT, "%s: no InRelease file (not an apt lists folder)", dir);
	if (r == TG_OK && !ret->found && !ret->nproblems)
		problem(ret, TG_R(APT_NOT_IN_INDEX), "no Packages index of %s lists a package with this SHA-256 and size", dir);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}
