#define _GNU_SOURCE
/*
 * FIT parsing and signed-region computation (see fit.h).  Written from
 * U-Boot's doc/usage/fit/{source_file_format,signature}.rst and the
 * devicetree specification; the region rules follow what U-Boot's
 * verified boot hashes so that a FIT mkimage signed verifies here exactly
 * when U-Boot would accept it, with the stricter checks of THREATS B on
 * top.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "fit.h"
#include "../common/limits.h"
#include "../common/reasons.h"

#define FIT_MAX_DEPTH    16
#define FIT_MAX_NODES    4096
#define FIT_MAX_CHILDREN 256
#define FIT_MAX_PROPS    256
#define FIT_MAX_REGIONS  1024

bool tg_fit_magic(const uint8_t *p, size_t n)
{
	return n >= 4 && p[0] == 0xd0 && p[1] == 0x0d && p[2] == 0xfe && p[3] == 0xed;
}

bool tg_fit_is_fit(const uint8_t *p, size_t n)
{
	/* A device tree is a FIT only when its root has an "images" node
	 * (U-Boot's fit_check_format); qemu's bamboo.dtb is just a DTB. */
	return tg_fit_magic(p, n) && tg_fdt_version_ok(p, n) && fdt_check_header(p) == 0 &&
	       fdt_totalsize(p) <= n && fdt_path_offset(p, "/images") >= 0;
}

bool tg_fdt_version_ok(const uint8_t *p, size_t n)
{
	/* libfdt 1.6.1's fdt_check_full() dereferences NULL on some trees of
	 * versions before 16 (found by fuzz_fit); mkimage and dtc write 17.
	 * Only 16 and 17 are read at all. */
	return n >= sizeof(struct fdt_header) && fdt_version(p) >= 16 && fdt_version(p) <= 17 &&
	       fdt_last_comp_version(p) <= 16;
}

static void problem(struct tg_fit *fit, const char *code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(struct tg_fit *fit, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (fit->code)
		return;
	fit->code = code;
	va_start(ap, fmt);
	vsnprintf(fit->problem, sizeof(fit->problem), fmt, ap);
	va_end(ap);
}

void tg_fit_release(struct tg_fit *fit)
{
	free(fit->img);
	free(fit->conf);
	free(fit->sig);
	memset(fit, 0, sizeof(*fit));
}

/* ------------------------------------------------------------ helpers */

const char *tg_fdt_str(const void *fdt, int node, const char *name)
{
	int len;
	const char *p = fdt_getprop(fdt, node, name, &len);

	if (!p || len < 1 || p[len - 1] != '\0' || strlen(p) != (size_t)len - 1)
		return NULL;
	return p;
}

static bool prop_u32(const void *fdt, int node, const char *name, uint32_t *ret, bool *present)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	*present = p != NULL;
	if (!p)
		return true;
	if (len != 4)
		return false;
	*ret = fdt32_to_cpu(*p);
	return true;
}

/* Exact-name child lookup.  libfdt's own lookup lets "kernel" match
 * "kernel@1" (CVE-2021-27138, THREATS 13); names with '@' are refused
 * anyway, and this never matches on a prefix. */
static int child(const void *fdt, int parent, const char *name)
{
	int n;

	fdt_for_each_subnode(n, fdt, parent) {
		const char *nm = fdt_get_name(fdt, n, NULL);
		if (nm && strcmp(nm, name) == 0)
			return n;
	}
	return -1;
}

/* Every string of a stringlist property, NUL-terminated and non-empty. */
static int stringlist(const void *p, int len, const char **out, int max)
{
	const char *s = p, *end = s + len;
	int n = 0;

	if (len < 1 || s[len - 1] != '\0')
		return -1;
	while (s < end) {
		size_t l = strlen(s);
		if (l == 0 || n >= max)
			return -1;
		out[n++] = s;
		s += l + 1;
	}
	return n;
}

/* ------------------------------------------------------------ structure */

/* One unnamed root, no '@' in any name, bounded depth and size, no two
 * siblings or properties of one node with the same name (readers would
 * take different ones). */
static enum tg_err check_structure(const void *fdt, const char *what, struct tg_diag *d)
{
	int off = 0, next, depth = 0, roots = 0, nodes = 0;
	uint32_t tag;

	do {
		tag = fdt_next_tag(fdt, off, &next);
		if (next < 0)
			return tg_fail(d, TG_E_FORMAT, "%s: FIT structure is corrupt", what);
		if (tag == FDT_BEGIN_NODE) {
			int len;
			const char *name = fdt_get_name(fdt, off, &len);
			if (!name)
				return tg_fail(d, TG_E_FORMAT, "%s: FIT node name unreadable", what);
			if (++depth > FIT_MAX_DEPTH)
				return tg_fail(d, TG_E_FORMAT, "%s: FIT nodes nested deeper than %d", what, FIT_MAX_DEPTH);
			if (++nodes > FIT_MAX_NODES)
				return tg_fail(d, TG_E_FORMAT, "%s: more than %d FIT nodes", what, FIT_MAX_NODES);
			/* CVE-2021-27097: a second or a named root node. */
			if (depth == 1 && (roots++ > 0 || len != 0))
				return tg_fail(d, TG_E_FORMAT, "%s: FIT has %s", what,
					       roots > 1 ? "a second root node" : "a named root node");
			if (strchr(name, '@'))
				return tg_fail(d, TG_E_FORMAT, "%s: FIT node '%s' has a unit address ('@'), which "
					       "lets a lookup match the wrong node", what, name);
		} else if (tag == FDT_END_NODE) {
			depth--;
		} else if (tag == FDT_PROP && depth == 0) {
			return tg_fail(d, TG_E_FORMAT, "%s: FIT property outside any node", what);
		}
		off = next;
	} while (tag != FDT_END);
	if (roots != 1)
		return tg_fail(d, TG_E_FORMAT, "%s: FIT has no root node", what);

	for (int n = 0; n >= 0; n = fdt_next_node(fdt, n, NULL)) {
		const char *names[FIT_MAX_PROPS > FIT_MAX_CHILDREN ? FIT_MAX_PROPS : FIT_MAX_CHILDREN];
		int k = 0, c, p;
		fdt_for_each_property_offset(p, fdt, n) {
			const char *pn;
			if (!fdt_getprop_by_offset(fdt, p, &pn, NULL) || !pn)
				return tg_fail(d, TG_E_FORMAT, "%s: FIT property unreadable", what);
			if (k == FIT_MAX_PROPS)
				return tg_fail(d, TG_E_FORMAT, "%s: a FIT node with more than %d properties", what,
					       FIT_MAX_PROPS);
			for (int i = 0; i < k; i++)
				if (strcmp(names[i], pn) == 0)
					return tg_fail(d, TG_E_FORMAT, "%s: FIT node '%s' has property '%s' twice", what,
						       fdt_get_name(fdt, n, NULL), pn);
			names[k++] = pn;
		}
		k = 0;
		fdt_for_each_subnode(c, fdt, n) {
			const char *cn = fdt_get_name(fdt, c, NULL);
			if (k == FIT_MAX_CHILDREN)
				return tg_fail(d, TG_E_FORMAT, "%s: a FIT node with more than %d subnodes", what,
					       FIT_MAX_CHILDREN);
			for (int i = 0; i < k; i++)
				if (strcmp(names[i], cn) == 0)
					return tg_fail(d, TG_E_FORMAT, "%s: FIT node '%s' appears twice", what, cn);
			names[k++] = cn;
		}
	}
	return TG_OK;
}

/* ------------------------------------------------------------- hashing */

static uint32_t crc32_ieee(const uint8_t *p, size_t n)
{
	static uint32_t table[256];
	static bool init;
	uint32_t c = 0xffffffffu;

	if (!init) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;
			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		init = true;
	}
	for (size_t i = 0; i < n; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

static enum tg_hash hash_by_name(const char *s)
{
	if (strcmp(s, "sha1") == 0)
		return TG_HASH_SHA1;
	if (strcmp(s, "sha256") == 0)
		return TG_HASH_SHA256;
	if (strcmp(s, "sha384") == 0)
		return TG_HASH_SHA384;
	if (strcmp(s, "sha512") == 0)
		return TG_HASH_SHA512;
	return TG_HASH_NONE;
}

/* Rank of a hash for "strongest": crc32/none < sha1 < sha256 < ... */
static int hash_rank(enum tg_hash h)
{
	switch (h) {
	case TG_HASH_SHA1: return 1;
	case TG_HASH_SHA256: return 2;
	case TG_HASH_SHA384: return 3;
	case TG_HASH_SHA512: return 4;
	default: return 0;
	}
}

static enum tg_err image_hashes(struct tg_fit *fit, struct tg_fit_image *im)
{
	uint8_t out[TG_HASH_MAX_LEN];
	enum tg_err r;

	/* SHA-256 of every image is reported; the others as hash nodes ask. */
	r = tg_digest(TG_HASH_SHA256, im->data, im->size, im->sha256);
	if (r != TG_OK)
		return r;
	for (size_t i = 0; i < im->nh; i++) {
		struct tg_fit_hash *h = &im->h[i];
		if (h->hash == TG_HASH_NONE) {
			uint32_t c = crc32_ieee(im->data, im->size);
			uint8_t be[4] = { (uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8), (uint8_t)c };
			h->ok = h->value_len == 4 && memcmp(be, h->value, 4) == 0;
		} else {
			if (h->hash == TG_HASH_SHA256)
				memcpy(out, im->sha256, 32);
			else if ((r = tg_digest(h->hash, im->data, im->size, out)) != TG_OK)
				return r;
			h->ok = h->value_len == tg_hash_len(h->hash) && memcmp(out, h->value, h->value_len) == 0;
			if (h->hash == TG_HASH_SHA1)
				memcpy(im->sha1, out, 20);
			if (h->hash == TG_HASH_SHA384)
				memcpy(im->sha384, out, 48);
		}
		if (!h->ok)
			problem(fit, TG_R(FIT_HASH_MISMATCH), "image %s: %s hash node %s does not match the data",
				im->name, h->algo, h->name);
	}
	return TG_OK;
}

/* --------------------------------------------------------------- images */

struct span64 {
	uint64_t start, end;
};

static enum tg_err parse_image(struct tg_fit *fit, int node, struct tg_fit_image *im, struct span64 *ext,
			       size_t *next, const char *what, struct tg_diag *d)
{
	const void *fdt = fit->buf;
	int len, c;
	uint32_t size = 0, off = 0, pos = 0;
	bool has_size, has_off, has_pos;
	const uint8_t *data = fdt_getprop(fdt, node, "data", &len);

	im->node = node;
	im->name = fdt_get_name(fdt, node, NULL);
	im->description = tg_fdt_str(fdt, node, "description");
	im->type = tg_fdt_str(fdt, node, "type");
	im->arch = tg_fdt_str(fdt, node, "arch");
	im->os = tg_fdt_str(fdt, node, "os");
	im->compression = tg_fdt_str(fdt, node, "compression");
	if (!prop_u32(fdt, node, "data-size", &size, &has_size) || !prop_u32(fdt, node, "data-offset", &off, &has_off) ||
	    !prop_u32(fdt, node, "data-position", &pos, &has_pos))
		return tg_fail(d, TG_E_FORMAT, "%s: image %s: external data property is not one 32-bit cell", what,
			       im->name);
	if (data) {
		/* Two sources of the same bytes would read two ways. */
		if (has_size || has_off || has_pos)
			return tg_fail(d, TG_E_FORMAT, "%s: image %s has both embedded and external data", what,
				       im->name);
		im->data = data;
		im->size = (size_t)len;
	} else {
		uint64_t start;
		if (!has_size || has_off == has_pos)
			return tg_fail(d, TG_E_FORMAT, "%s: image %s: no data, or external data without exactly one of "
				       "data-offset and data-position plus data-size", what, im->name);
		/* THREATS 19: offsets checked in 64 bits against the file. */
		start = has_pos ? pos : ((uint64_t)fdt_totalsize(fdt) + 3) / 4 * 4 + off;
		if (start > fit->len || size > fit->len - start)
			return tg_fail(d, TG_E_FORMAT, "%s: image %s: external data (%llu bytes at %llu) is outside "
				       "the file", what, im->name, (unsigned long long)size, (unsigned long long)start);
		if (start < fdt_totalsize(fdt))
			return tg_fail(d, TG_E_FORMAT, "%s: image %s: external data overlaps the FIT structure", what,
				       im->name);
		im->data = fit->buf + start;
		im->size = size;
		im->external = true;
		ext[(*next)++] = (struct span64){ start, start + size };
	}
	fdt_for_each_subnode(c, fdt, node) {
		const char *cn = fdt_get_name(fdt, c, NULL);
		if (strncmp(cn, "hash", 4) == 0) {
			struct tg_fit_hash *h;
			const char *algo = tg_fdt_str(fdt, c, "algo");
			if (im->nh == TG_FIT_MAX_HASHES)
				return tg_fail(d, TG_E_FORMAT, "%s: image %s has more than %d hash nodes", what, im->name,
					       TG_FIT_MAX_HASHES);
			h = &im->h[im->nh++];
			h->name = cn;
			h->algo = algo;
			if (!algo)
				return tg_fail(d, TG_E_FORMAT, "%s: image %s: hash node %s has no algo", what, im->name,
					       cn);
			h->hash = hash_by_name(algo);
			if (h->hash == TG_HASH_NONE && strcmp(algo, "crc32") != 0) {
				/* md5 and anything unknown: nothing to rely on. */
				problem(fit, strcmp(algo, "md5") == 0 ? TG_R(WEAK_ALGORITHM) : TG_R(FIT_MALFORMED),
					"image %s: hash algorithm '%s' is refused", im->name, algo);
				im->nh--;
				continue;
			}
			h->value = fdt_getprop(fdt, c, "value", &len);
			h->value_len = h->value && len > 0 ? (size_t)len : 0;
			if (!h->value)
				return tg_fail(d, TG_E_FORMAT, "%s: image %s: hash node %s has no value", what, im->name,
					       cn);
			if (hash_rank(h->hash) > hash_rank(im->strongest))
				im->strongest = h->hash;
		} else if (strcmp(cn, "cipher") == 0) {
			problem(fit, TG_R(FIT_MALFORMED), "image %s is encrypted (cipher node): not verifiable offline",
				im->name);
		}
	}
	return TG_OK;
}

/* ------------------------------------------------------------- signatures */

static void parse_sig_algo(struct tg_fit_sig *s)
{
	char hash[16];
	const char *comma = s->algo ? strchr(s->algo, ',') : NULL;

	if (!comma || (size_t)(comma - s->algo) >= sizeof(hash)) {
		snprintf(s->problem, sizeof(s->problem), "unknown signature algorithm '%s'", s->algo ? s->algo : "");
		return;
	}
	memcpy(hash, s->algo, (size_t)(comma - s->algo));
	hash[comma - s->algo] = '\0';
	s->hash = hash_by_name(hash);
	const char *cr = comma + 1;
	if (strcmp(cr, "rsa2048") == 0 || strcmp(cr, "rsa3072") == 0 || strcmp(cr, "rsa4096") == 0) {
		s->key_type = TG_KEY_RSA;
		s->key_bits = (unsigned)atoi(cr + 3);
		if (!s->padding || strcmp(s->padding, "pkcs-1.5") == 0)
			s->scheme = TG_SCHEME_RSA_PKCS1;
		else if (strcmp(s->padding, "pss") == 0)
			s->scheme = TG_SCHEME_RSA_PSS;
	} else if (strcmp(cr, "ecdsa256") == 0 || strcmp(cr, "ecdsa384") == 0) {
		s->key_type = strcmp(cr, "ecdsa256") == 0 ? TG_KEY_P256 : TG_KEY_P384;
		s->key_bits = strcmp(cr, "ecdsa256") == 0 ? 256 : 384;
		s->scheme = s->padding ? TG_SCHEME_NONE : TG_SCHEME_ECDSA;
	}
	if (s->hash == TG_HASH_NONE || s->key_type == TG_KEY_NONE || s->scheme == TG_SCHEME_NONE)
		snprintf(s->problem, sizeof(s->problem), "unknown signature algorithm '%s'%s%s", s->algo,
			 s->padding ? " with padding " : "", s->padding ? s->padding : "");
}

static struct tg_fit_sig *add_sig(struct tg_fit *fit, size_t *cap, const void *fdt, int node, bool conf, int owner)
{
	int len;

	if (tg_grow(fit->sig, *cap, fit->nsig, 8) != TG_OK)
		return NULL;
	struct tg_fit_sig *s = &fit->sig[fit->nsig++];
	memset(s, 0, sizeof(*s));
	s->name = fdt_get_name(fdt, node, NULL);
	s->algo = tg_fdt_str(fdt, node, "algo");
	s->key_hint = tg_fdt_str(fdt, node, "key-name-hint");
	s->padding = tg_fdt_str(fdt, node, "padding");
	s->conf = conf;
	s->owner = owner;
	s->value = fdt_getprop(fdt, node, "value", &len);
	s->value_len = s->value && len > 0 ? (size_t)len : 0;
	parse_sig_algo(s);
	if (!s->problem[0] && !s->value_len)
		snprintf(s->problem, sizeof(s->problem), "signature node has no value");
	return s;
}

struct region {
	size_t off, len;
};

static bool in_list(const int *set, size_t n, int v)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

/* The structure-block regions a configuration signature covers, as U-Boot
 * computes them: every tag and property of the listed nodes (except the
 * data properties, which the hash nodes cover), only the begin/end tags of
 * their direct subnodes, and the end tag.  *str_end: how far into the
 * strings block the covered properties' names reach. */
static int find_regions(const void *fdt, const int *inc, size_t ninc, struct region *rg, size_t max,
			size_t *ret_n, size_t *str_end)
{
	static const char *const excluded[] = { "data", "data-size", "data-position", "data-offset" };
	int want_stack[FIT_MAX_DEPTH + 2];
	int off = 0, next, depth = -1, want = 0;
	long start = -1;
	size_t n = 0, base = fdt_off_dt_struct(fdt);
	uint32_t tag;

	*str_end = 0;
	do {
		bool include = false;
		int stop_at;
		tag = fdt_next_tag(fdt, off, &next);
		if (next < 0)
			return -1;
		stop_at = next;
		switch (tag) {
		case FDT_PROP: {
			int plen;
			const struct fdt_property *p = fdt_get_property_by_offset(fdt, off, &plen);
			const char *name = p ? fdt_string(fdt, (int)fdt32_to_cpu(p->nameoff)) : NULL;
			if (!name)
				return -1;
			include = want >= 2;
			stop_at = off;
			for (size_t i = 0; i < sizeof(excluded) / sizeof(excluded[0]); i++)
				if (strcmp(name, excluded[i]) == 0)
					include = false;
			if (include) {
				size_t e = fdt32_to_cpu(p->nameoff) + strlen(name) + 1;
				if (e > *str_end)
					*str_end = e;
			}
			break;
		}
		case FDT_NOP:
			include = want >= 2;
			stop_at = off;
			break;
		case FDT_BEGIN_NODE:
			if (++depth > FIT_MAX_DEPTH)
				return -1;
			want_stack[depth] = want;
			if (want == 1)
				stop_at = off;
			if (in_list(inc, ninc, off))
				want = 2;
			else if (want)
				want--;
			else
				stop_at = off;
			include = want != 0;
			break;
		case FDT_END_NODE:
			if (depth < 0)
				return -1;
			include = want != 0;
			want = want_stack[depth--];
			break;
		case FDT_END:
			include = true;
			break;
		default:
			return -1;
		}
		if (include && start < 0) {
			/* Adjacent regions merge. */
			if (n && rg[n - 1].off + rg[n - 1].len == base + (size_t)off)
				start = (long)(rg[--n].off - base);
			else
				start = off;
		}
		if (!include && start >= 0) {
			if (n == max)
				return -1;
			rg[n++] = (struct region){ base + (size_t)start, (size_t)(stop_at - start) };
			start = -1;
		}
		off = next;
	} while (tag != FDT_END);
	if (start < 0 || n == max || (uint32_t)next != fdt_size_dt_struct(fdt))
		return -1;
	rg[n++] = (struct region){ base + (size_t)start, (size_t)(next - start) };
	*ret_n = n;
	return 0;
}

/* Digest what configuration signature s covers: the root, the
 * configuration, and every image it references with their hash, cipher
 * and dm-verity subnodes — derived here, never from `hashed-nodes`
 * (THREATS 16) — then the strings block up to `hashed-strings`. */
static enum tg_err conf_digest(struct tg_fit *fit, const struct tg_fit_conf *cf, struct tg_fit_sig *s, int sig_node)
{
	const void *fdt = fit->buf;
	int inc[2 + TG_FIT_MAX_REFS * (TG_FIT_MAX_HASHES + 3)];
	size_t ninc = 0, nrg = 0, str_end;
	int len, c;
	struct region *rg = NULL;
	struct tg_md *md = NULL;
	enum tg_err r = TG_OK;

	inc[ninc++] = 0;
	inc[ninc++] = cf->node;
	for (size_t i = 0; i < cf->nref; i++) {
		const struct tg_fit_image *im = &fit->img[cf->ref[i].image];
		if (in_list(inc, ninc, im->node))
			continue;
		inc[ninc++] = im->node;
		fdt_for_each_subnode(c, fdt, im->node) {
			const char *cn = fdt_get_name(fdt, c, NULL);
			if ((strncmp(cn, "hash", 4) == 0 || strcmp(cn, "cipher") == 0 || strcmp(cn, "dm-verity") == 0) &&
			    ninc < sizeof(inc) / sizeof(inc[0]))
				inc[ninc++] = c;
		}
	}
	/* THREATS 18: hashed-strings is <0 size>, size within the block. */
	const fdt32_t *hs = fdt_getprop(fdt, sig_node, "hashed-strings", &len);
	if (!hs || len != 8) {
		snprintf(s->problem, sizeof(s->problem), "invalid hashed-strings property");
		return TG_OK;
	}
	uint32_t hs_off = fdt32_to_cpu(hs[0]), hs_size = fdt32_to_cpu(hs[1]);
	if (hs_off != 0 || hs_size > fdt_size_dt_strings(fdt)) {
		snprintf(s->problem, sizeof(s->problem), "hashed-strings region is out of bounds");
		return TG_OK;
	}
	rg = calloc(FIT_MAX_REGIONS, sizeof(*rg));
	if (!rg)
		return TG_E_NOMEM;
	if (find_regions(fdt, inc, ninc, rg, FIT_MAX_REGIONS, &nrg, &str_end) != 0) {
		snprintf(s->problem, sizeof(s->problem), "signed regions cannot be computed");
		goto out;
	}
	/* A covered property whose name lies past the signed strings could
	 * be renamed without breaking the signature. */
	if (str_end > hs_size) {
		snprintf(s->problem, sizeof(s->problem), "a signed property's name lies outside hashed-strings");
		goto out;
	}
	r = tg_md_new(s->hash, &md);
	if (r != TG_OK)
		goto out;
	for (size_t i = 0; i < nrg; i++)
		tg_md_write(md, fit->buf + rg[i].off, rg[i].len);
	tg_md_write(md, fit->buf + fdt_off_dt_strings(fdt), hs_size);
	tg_md_final(md, s->digest);
	tg_md_free(md);
	s->covered = true;
out:
	free(rg);
	return r;
}

/* ------------------------------------------------------------------ parse */

static int span_cmp(const void *a, const void *b)
{
	const struct span64 *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

enum tg_err tg_fit_parse(const uint8_t *buf, size_t len, const char *what, struct tg_fit *fit, struct tg_diag *d)
{
	const void *fdt = buf;
	size_t sig_cap = 0, next_ext = 0;
	struct span64 *ext = NULL;
	int images, confs, n, rc;
	enum tg_err r;

	memset(fit, 0, sizeof(*fit));
	fit->buf = buf;
	fit->len = len;
	fit->def = -1;
	/* THREATS 14, 20, 21: the full check, over the real length. */
	if (len < sizeof(struct fdt_header) || fdt_totalsize(fdt) > len)
		return tg_fail(d, TG_E_FORMAT, "%s: FIT header totalsize %u exceeds the file (%zu bytes)", what,
			       len >= sizeof(struct fdt_header) ? fdt_totalsize(fdt) : 0, len);
	if (fdt_totalsize(fdt) > TG_MAX_FIT_TREE)
		return tg_fail(d, TG_E_FORMAT, "%s: FIT tree of %u bytes is over the %u-byte limit", what,
			       fdt_totalsize(fdt), TG_MAX_FIT_TREE);
	if (!tg_fdt_version_ok(buf, len))
		return tg_fail(d, TG_E_FORMAT, "%s: device-tree version %u is not 16 or 17", what, fdt_version(fdt));
	rc = fdt_check_full(fdt, fdt_totalsize(fdt));
	if (rc != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: not a well-formed FIT: %s", what, fdt_strerror(rc));
	r = check_structure(fdt, what, d);
	if (r != TG_OK)
		return r;
	fit->description = tg_fdt_str(fdt, 0, "description");

	images = child(fdt, 0, "images");
	confs = child(fdt, 0, "configurations");
	if (images < 0)
		return tg_fail(d, TG_E_FORMAT, "%s: FIT has no /images node", what);
	fdt_for_each_subnode(n, fdt, images)
		fit->nimg++;
	if (fit->nimg == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: FIT has no images", what);
	fit->img = calloc(fit->nimg, sizeof(*fit->img));
	ext = calloc(fit->nimg, sizeof(*ext));
	if (!fit->img || !ext) {
		free(ext);
		return TG_E_NOMEM;
	}
	size_t i = 0;
	fdt_for_each_subnode(n, fdt, images) {
		r = parse_image(fit, n, &fit->img[i++], ext, &next_ext, what, d);
		if (r != TG_OK)
			goto out;
	}

	/* THREATS 26: every byte after the tree is image data or zero
	 * padding; nothing rides along unsigned. */
	qsort(ext, next_ext, sizeof(*ext), span_cmp);
	uint64_t at = fdt_totalsize(fdt);
	for (size_t k = 0; k <= next_ext; k++) {
		uint64_t upto = k < next_ext ? ext[k].start : len;
		for (uint64_t b = at; b < upto; b++)
			if (buf[b] != 0) {
				r = tg_fail(d, TG_E_FORMAT, "%s: byte %llu after the FIT tree belongs to no image", what,
					    (unsigned long long)b);
				goto out;
			}
		if (k < next_ext && ext[k].end > at)
			at = ext[k].end;
	}

	if (confs >= 0) {
		fdt_for_each_subnode(n, fdt, confs)
			fit->nconf++;
	}
	if (fit->nconf) {
		fit->conf = calloc(fit->nconf, sizeof(*fit->conf));
		if (!fit->conf) {
			r = TG_E_NOMEM;
			goto out;
		}
	}
	i = 0;
	if (confs >= 0) {
		const char *def = tg_fdt_str(fdt, confs, "default");
		if (fdt_getprop(fdt, confs, "default", NULL) && !def) {
			r = tg_fail(d, TG_E_FORMAT, "%s: /configurations default is not a string", what);
			goto out;
		}
		fdt_for_each_subnode(n, fdt, confs) {
			struct tg_fit_conf *cf = &fit->conf[i];
			int p;
			cf->node = n;
			cf->name = fdt_get_name(fdt, n, NULL);
			cf->description = tg_fdt_str(fdt, n, "description");
			if (def && strcmp(def, cf->name) == 0)
				fit->def = (int)i;
			fdt_for_each_property_offset(p, fdt, n) {
				const char *pn, *names[TG_FIT_MAX_REFS];
				int plen, cnt;
				const void *pv = fdt_getprop_by_offset(fdt, p, &pn, &plen);
				if (strcmp(pn, "description") == 0 || strcmp(pn, "compatible") == 0)
					continue;
				/* Everything else names images (kernel, fdt, ramdisk,
				 * loadables, firmware, fpga, setup, script, ...), so a
				 * new image type is covered by the signature too. */
				cnt = stringlist(pv, plen, names, TG_FIT_MAX_REFS);
				if (cnt < 0) {
					r = tg_fail(d, TG_E_FORMAT, "%s: configuration %s: '%s' is not a list of image names",
						    what, cf->name, pn);
					goto out;
				}
				for (int k = 0; k < cnt; k++) {
					int im = -1;
					for (size_t q = 0; q < fit->nimg; q++)
						if (strcmp(fit->img[q].name, names[k]) == 0)
							im = (int)q;
					if (im < 0) {
						r = tg_fail(d, TG_E_FORMAT, "%s: configuration %s: %s '%s' names no image", what,
							    cf->name, pn, names[k]);
						goto out;
					}
					if (cf->nref == TG_FIT_MAX_REFS) {
						r = tg_fail(d, TG_E_FORMAT, "%s: configuration %s references more than %d "
							    "images", what, cf->name, TG_FIT_MAX_REFS);
						goto out;
					}
					cf->ref[cf->nref].prop = pn;
					cf->ref[cf->nref++].image = im;
				}
			}
			if (!cf->nref) {
				r = tg_fail(d, TG_E_FORMAT, "%s: configuration %s references no image", what, cf->name);
				goto out;
			}
			i++;
		}
		if (def && fit->def < 0) {
			r = tg_fail(d, TG_E_FORMAT, "%s: default configuration '%s' does not exist", what, def);
			goto out;
		}
	}

	/* Hash nodes, then signatures and what they cover. */
	for (i = 0; i < fit->nimg; i++) {
		r = image_hashes(fit, &fit->img[i]);
		if (r != TG_OK)
			goto out;
	}
	for (i = 0; i < fit->nimg; i++) {
		struct tg_fit_image *im = &fit->img[i];
		int c;
		fdt_for_each_subnode(c, fdt, im->node) {
			if (strncmp(fdt_get_name(fdt, c, NULL), "signature", 9) != 0)
				continue;
			struct tg_fit_sig *s = add_sig(fit, &sig_cap, fdt, c, false, (int)i);
			if (!s) {
				r = TG_E_NOMEM;
				goto out;
			}
			if (!s->problem[0]) {
				r = tg_digest(s->hash, im->data, im->size, s->digest);
				if (r != TG_OK)
					goto out;
				s->covered = true;
			}
		}
	}
	for (i = 0; i < fit->nconf; i++) {
		struct tg_fit_conf *cf = &fit->conf[i];
		int c;
		fdt_for_each_subnode(c, fdt, cf->node) {
			if (strncmp(fdt_get_name(fdt, c, NULL), "signature", 9) != 0)
				continue;
			struct tg_fit_sig *s = add_sig(fit, &sig_cap, fdt, c, true, (int)i);
			if (!s) {
				r = TG_E_NOMEM;
				goto out;
			}
			if (!s->problem[0]) {
				/* U-Boot refuses to sign an image with no hash node:
				 * its data would not be covered. */
				for (size_t k = 0; k < cf->nref && !s->problem[0]; k++)
					if (!fit->img[cf->ref[k].image].nh)
						snprintf(s->problem, sizeof(s->problem), "image %s has no hash node",
							 fit->img[cf->ref[k].image].name);
			}
			if (!s->problem[0]) {
				r = conf_digest(fit, cf, s, c);
				if (r != TG_OK)
					goto out;
			}
		}
	}
	r = TG_OK;
out:
	free(ext);
	if (r != TG_OK)
		tg_fit_release(fit);
	return r;
}

/* ---------------------------------------------------------------- verify */

enum tg_err tg_fit_verify(const struct tg_fit *fit, const struct tg_fit_sig *s, const struct tg_key *k, bool *ok)
{
	uint8_t der[2 * 48 + 16];
	struct tg_span sig = tg_span_make(s->value, s->value_len);
	enum tg_sig_scheme scheme = TG_SCHEME_NONE;
	enum tg_err r;

	(void)fit;
	*ok = false;
	if (!s->covered || s->problem[0] || k->type != s->key_type || k->bits != s->key_bits)
		return TG_OK;
	if (k->type == TG_KEY_P256 || k->type == TG_KEY_P384) {
		/* FIT ECDSA signatures are raw r || s. */
		size_t half = k->type == TG_KEY_P256 ? 32 : 48;
		if (s->value_len != 2 * half)
			return TG_OK;
		size_t n = tg_ecdsa_der_encode(s->value, half, s->value + half, half, der);
		if (!n)
			return TG_OK;
		sig = tg_span_make(der, n);
	} else if (s->value_len != k->bits / 8) {
		return TG_OK;
	}
	r = tg_verify_digest(k, s->hash, s->digest, sig, ok, &scheme);
	if (r != TG_OK)
		return r;
	/* The padding the node names is the one that must have verified. */
	if (*ok && scheme != s->scheme)
		*ok = false;
	return TG_OK;
}
