/*
 * Authenticode digest of a PE/COFF image (see pe.h).  From the Microsoft
 * "Windows Authenticode Portable Executable Signature Format" and the PE
 * format specification; every offset is checked against the file before
 * it is used, in 64-bit arithmetic.
 */
#include <stdlib.h>
#include <string.h>

#include "pe.h"
#include "../common/span.h"

#define PE_MAX_SECTIONS 96

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

bool tg_pe_magic(const uint8_t *p, size_t n)
{
	if (n < 0x40 || p[0] != 'M' || p[1] != 'Z')
		return false;
	uint32_t off = le32(p + 0x3c);
	return off <= n - 4 && memcmp(p + off, "PE\0\0", 4) == 0;
}

struct sect {
	uint64_t ptr, size;
};

static int sect_cmp(const void *a, const void *b)
{
	const struct sect *x = a, *y = b;
	return x->ptr < y->ptr ? -1 : x->ptr > y->ptr;
}

struct mds {
	struct tg_md *md[3];
};

static void feed(struct mds *m, const uint8_t *p, uint64_t n)
{
	for (int i = 0; i < 3; i++)
		tg_md_write(m->md[i], p, (size_t)n);
}

enum tg_err tg_pe_authenticode(const uint8_t *buf, size_t len, const char *what, struct tg_pe *pe,
			       struct tg_diag *d)
{
	static const enum tg_hash algs[3] = { TG_HASH_SHA1, TG_HASH_SHA256, TG_HASH_SHA384 };
	struct sect sec[PE_MAX_SECTIONS];
	struct mds m = { { NULL } };
	enum tg_err r = TG_OK;

	memset(pe, 0, sizeof(*pe));
	if (!tg_pe_magic(buf, len))
		return tg_fail(d, TG_E_FORMAT, "%s: not a PE/COFF image", what);
	uint64_t coff = (uint64_t)le32(buf + 0x3c) + 4;
	if (coff + 20 > len)
		return tg_fail(d, TG_E_FORMAT, "%s: PE header truncated", what);
	pe->machine = le16(buf + coff);
	uint16_t nsec = le16(buf + coff + 2), optsize = le16(buf + coff + 16);
	uint64_t opt = coff + 20;
	if (opt + optsize > len || optsize < 96)
		return tg_fail(d, TG_E_FORMAT, "%s: PE optional header truncated", what);
	uint16_t magic = le16(buf + opt);
	if (magic != 0x10b && magic != 0x20b)
		return tg_fail(d, TG_E_FORMAT, "%s: unknown PE optional header magic 0x%x", what, magic);
	pe->pe32plus = magic == 0x20b;
	uint64_t csum = opt + 64;
	uint64_t size_of_headers = le32(buf + opt + 60);
	uint64_t nrva_off = opt + (pe->pe32plus ? 108 : 92), dd = opt + (pe->pe32plus ? 112 : 96);
	if (nrva_off + 4 > opt + optsize)
		return tg_fail(d, TG_E_FORMAT, "%s: PE optional header too short", what);
	uint32_t nrva = le32(buf + nrva_off);
	bool has_cert_dir = nrva > 4 && dd + 5 * 8 <= opt + optsize;
	uint64_t cert_dir = dd + 4 * 8;
	if (has_cert_dir) {
		pe->cert_off = le32(buf + cert_dir);
		pe->cert_size = le32(buf + cert_dir + 4);
		/* The certificate table is unhashed: it must sit inside the
		 * file and at its end, so nothing else hides there (THREATS 26). */
		if (pe->cert_size && (pe->cert_off + pe->cert_size != len || pe->cert_off < size_of_headers))
			return tg_fail(d, TG_E_FORMAT, "%s: certificate table (%llu bytes at %llu) is not at the end of "
				       "the file", what, (unsigned long long)pe->cert_size,
				       (unsigned long long)pe->cert_off);
	}
	uint64_t sect_tab = opt + optsize;
	if (nsec > PE_MAX_SECTIONS || sect_tab + (uint64_t)nsec * 40 > len)
		return tg_fail(d, TG_E_FORMAT, "%s: PE section table out of bounds", what);
	if (size_of_headers > len || size_of_headers < sect_tab + (uint64_t)nsec * 40 ||
	    (has_cert_dir && cert_dir + 8 > size_of_headers))
		return tg_fail(d, TG_E_FORMAT, "%s: PE SizeOfHeaders out of bounds", what);

	uint64_t sum = size_of_headers;
	size_t ns = 0;
	for (uint16_t i = 0; i < nsec; i++) {
		const uint8_t *s = buf + sect_tab + (uint64_t)i * 40;
		uint64_t size = le32(s + 16), ptr = le32(s + 20);
		if (!size)
			continue;
		if (ptr > len || size > len - ptr)
			return tg_fail(d, TG_E_FORMAT, "%s: PE section %u data out of bounds", what, i);
		sec[ns++] = (struct sect){ ptr, size };
		sum += size;
	}
	qsort(sec, ns, sizeof(*sec), sect_cmp);

	for (int i = 0; i < 3; i++)
		if ((r = tg_md_new(algs[i], &m.md[i])) != TG_OK)
			goto out;
	/* Headers, minus the checksum and the certificate-table entry. */
	feed(&m, buf, csum);
	if (has_cert_dir) {
		feed(&m, buf + csum + 4, cert_dir - (csum + 4));
		feed(&m, buf + cert_dir + 8, size_of_headers - (cert_dir + 8));
	} else {
		feed(&m, buf + csum + 4, size_of_headers - (csum + 4));
	}
	for (size_t i = 0; i < ns; i++)
		feed(&m, buf + sec[i].ptr, sec[i].size);
	/* What follows the sections, up to the certificate table. */
	if (len > sum) {
		uint64_t cert = has_cert_dir ? pe->cert_size : 0;
		if (len < cert + sum) {
			r = tg_fail(d, TG_E_FORMAT, "%s: PE sections and certificate table overlap", what);
			goto out;
		}
		feed(&m, buf + sum, len - cert - sum);
	}
	/* The certificate table: WIN_CERTIFICATE entries (revision 2.0,
	 * PKCS#7 SignedData), each 8-byte aligned, filling it exactly. */
	for (uint64_t at = pe->cert_off, end = pe->cert_off + pe->cert_size; has_cert_dir && pe->cert_size && at < end;) {
		if (end - at < 8) {
			r = tg_fail(d, TG_E_FORMAT, "%s: certificate table entry truncated", what);
			goto out;
		}
		uint64_t wl = le32(buf + at);
		uint16_t rev = le16(buf + at + 4), type = le16(buf + at + 6);
		if (wl < 8 || wl > end - at || rev != 0x0200 || type != 0x0002 || pe->nsig == TG_PE_MAX_SIGS) {
			r = tg_fail(d, TG_E_FORMAT, "%s: certificate table entry at %llu is not a PKCS#7 WIN_CERTIFICATE", what,
				    (unsigned long long)at);
			goto out;
		}
		pe->sig[pe->nsig++] = tg_span_make(buf + at + 8, (size_t)wl - 8);
		at += (wl + 7) / 8 * 8;
		if (at > end && at - end >= 8) {
			r = tg_fail(d, TG_E_FORMAT, "%s: certificate table entries overrun the table", what);
			goto out;
		}
	}
	tg_md_final(m.md[0], pe->sha1);
	tg_md_final(m.md[1], pe->sha256);
	tg_md_final(m.md[2], pe->sha384);
out:
	for (int i = 0; i < 3; i++)
		tg_md_free(m.md[i]);
	return r;
}
