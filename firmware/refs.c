/* Reference measurements (see refs.h). */
#include <stdio.h>
#include <string.h>

#include "refs.h"
#include "fit.h"
#include "pe.h"
#include "../common/encoding.h"
#include "../measure/eventlog.h"

static void add(struct tg_refs *out, int pcr, uint32_t type, enum tg_hash alg, const uint8_t *digest,
		const char *desc)
{
	if (out->n == TG_REFS_MAX)
		return;
	struct tg_ref_meas *m = &out->m[out->n++];
	m->pcr = pcr;
	m->event_type = type;
	m->alg = alg;
	tg_hex_encode(digest, tg_hash_len(alg), m->digest);
	snprintf(m->description, sizeof(m->description), "%s", desc);
}

enum tg_err tg_refs_compute(const uint8_t *buf, size_t len, const char *what, struct tg_refs *out,
			    struct tg_diag *d)
{
	static const enum tg_hash algs[] = { TG_HASH_SHA1, TG_HASH_SHA256, TG_HASH_SHA384 };
	enum tg_err r;

	memset(out, 0, sizeof(*out));
	if (tg_pe_magic(buf, len)) {
		struct tg_pe pe;
		char desc[160];
		r = tg_pe_authenticode(buf, len, what, &pe, d);
		if (r != TG_OK)
			return r;
		out->kind = "pe";
		snprintf(desc, sizeof(desc), "Authenticode digest of %s", what);
		add(out, 4, TG_EV_EFI_BOOT_SERVICES_APPLICATION, TG_HASH_SHA1, pe.sha1, desc);
		add(out, 4, TG_EV_EFI_BOOT_SERVICES_APPLICATION, TG_HASH_SHA256, pe.sha256, desc);
		add(out, 4, TG_EV_EFI_BOOT_SERVICES_APPLICATION, TG_HASH_SHA384, pe.sha384, desc);
		return TG_OK;
	}
	if (!tg_fit_magic(buf, len))
		return TG_OK;
	struct tg_fit fit;
	r = tg_fit_parse(buf, len, what, &fit, d);
	if (r != TG_OK)
		return r;
	out->kind = "fit";
	for (size_t i = 0; i < fit.nimg; i++) {
		const struct tg_fit_image *im = &fit.img[i];
		int pcr;
		uint32_t type;
		char desc[160];
		if (!im->type)
			continue;
		if (strcmp(im->type, "kernel") == 0)
			pcr = 8, type = TG_EV_COMPACT_HASH;
		else if (strcmp(im->type, "ramdisk") == 0)
			pcr = 9, type = TG_EV_COMPACT_HASH;
		else if (strcmp(im->type, "flat_dt") == 0)
			pcr = 1, type = TG_EV_TABLE_OF_DEVICES;
		else
			continue;   /* not measured by U-Boot's bootm */
		snprintf(desc, sizeof(desc), "FIT image %s (%s) of %s", im->name, im->type, what);
		for (size_t a = 0; a < sizeof(algs) / sizeof(algs[0]); a++) {
			uint8_t dg[TG_HASH_MAX_LEN];
			r = tg_digest(algs[a], im->data, im->size, dg);
			if (r != TG_OK) {
				tg_fit_release(&fit);
				return r;
			}
			add(out, pcr, type, algs[a], dg, desc);
		}
	}
	tg_fit_release(&fit);
	return TG_OK;
}
