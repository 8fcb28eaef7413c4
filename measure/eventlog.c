/*
 * TCG PC Client PFP event log parser and replay.
 *
 * Layouts (TCG PC Client Platform Firmware Profile 1.05, §10.2):
 *   TCG_PCClientPCREvent  = u32 PCRIndex, u32 EventType, u8 Digest[20],
 *                           u32 EventDataSize, u8 Event[EventDataSize]
 *   TCG_PCR_EVENT2        = u32 PCRIndex, u32 EventType,
 *                           TPML_DIGEST_VALUES { u32 count,
 *                             { u16 hashAlg, u8 digest[size(hashAlg)] }[count] },
 *                           u32 EventSize, u8 Event[EventSize]
 *   TCG_EfiSpecIDEvent    = "Spec ID Event03\0", u32 platformClass,
 *                           u8 specVersionMinor, u8 specVersionMajor, u8 specErrata,
 *                           u8 uintnSize, u32 numberOfAlgorithms,
 *                           { u16 algorithmId, u16 digestSize }[n],
 *                           u8 vendorInfoSize, u8 vendorInfo[vendorInfoSize]
 * All integers little-endian.  Every length is checked against what is
 * left before it is used (THREATS case 52); nothing is allocated from a
 * length field.
 */
#include <string.h>

#include "eventlog.h"

static const struct {
	uint16_t alg;
	enum tg_hash hash;
} tpm_algs[] = {
	{ 0x0004, TG_HASH_SHA1 }, { 0x000b, TG_HASH_SHA256 }, { 0x000c, TG_HASH_SHA384 },
	{ 0x000d, TG_HASH_SHA512 }, { 0x0012, TG_HASH_SM3 },
};

static const struct {
	uint32_t type;
	const char *name;
} ev_names[] = {
	{ 0x00000000, "EV_PREBOOT_CERT" }, { 0x00000001, "EV_POST_CODE" },
	{ 0x00000002, "EV_UNUSED" }, { 0x00000003, "EV_NO_ACTION" },
	{ 0x00000004, "EV_SEPARATOR" }, { 0x00000005, "EV_ACTION" },
	{ 0x00000006, "EV_EVENT_TAG" }, { 0x00000007, "EV_S_CRTM_CONTENTS" },
	{ 0x00000008, "EV_S_CRTM_VERSION" }, { 0x00000009, "EV_CPU_MICROCODE" },
	{ 0x0000000a, "EV_PLATFORM_CONFIG_FLAGS" }, { 0x0000000b, "EV_TABLE_OF_DEVICES" },
	{ 0x0000000c, "EV_COMPACT_HASH" }, { 0x0000000d, "EV_IPL" },
	{ 0x0000000e, "EV_IPL_PARTITION_DATA" }, { 0x0000000f, "EV_NONHOST_CODE" },
	{ 0x00000010, "EV_NONHOST_CONFIG" }, { 0x00000011, "EV_NONHOST_INFO" },
	{ 0x00000012, "EV_OMIT_BOOT_DEVICE_EVENTS" }, { 0x00000013, "EV_POST_CODE2" },
	{ 0x80000000, "EV_EFI_EVENT_BASE" }, { 0x80000001, "EV_EFI_VARIABLE_DRIVER_CONFIG" },
	{ 0x80000002, "EV_EFI_VARIABLE_BOOT" }, { 0x80000003, "EV_EFI_BOOT_SERVICES_APPLICATION" },
	{ 0x80000004, "EV_EFI_BOOT_SERVICES_DRIVER" }, { 0x80000005, "EV_EFI_RUNTIME_SERVICES_DRIVER" },
	{ 0x80000006, "EV_EFI_GPT_EVENT" }, { 0x80000007, "EV_EFI_ACTION" },
	{ 0x80000008, "EV_EFI_PLATFORM_FIRMWARE_BLOB" }, { 0x80000009, "EV_EFI_HANDOFF_TABLES" },
	{ 0x8000000a, "EV_EFI_PLATFORM_FIRMWARE_BLOB2" }, { 0x8000000b, "EV_EFI_HANDOFF_TABLES2" },
	{ 0x8000000c, "EV_EFI_VARIABLE_BOOT2" }, { 0x8000000d, "EV_EFI_GPT_EVENT2" },
	{ 0x80000010, "EV_EFI_HCRTM_EVENT" }, { 0x800000e0, "EV_EFI_VARIABLE_AUTHORITY" },
	{ 0x800000e1, "EV_EFI_SPDM_FIRMWARE_BLOB" }, { 0x800000e2, "EV_EFI_SPDM_FIRMWARE_CONFIG" },
};

static const char spec_id_sig[16] = "Spec ID Event03";     /* with its NUL */
static const char locality_sig[16] = "StartupLocality";     /* with its NUL */

const char *tg_event_type_name(uint32_t type)
{
	for (size_t i = 0; i < TG_ARRAY_SIZE(ev_names); i++)
		if (ev_names[i].type == type)
			return ev_names[i].name;
	return "EV_UNKNOWN";
}

const uint8_t *tg_eventlog_pcr(const struct tg_eventlog *el, size_t bank, unsigned pcr)
{
	if (bank >= el->nbanks || pcr >= TG_EL_PCRS || !el->touched[pcr] || el->incomplete[bank][pcr])
		return NULL;
	return el->pcr[bank][pcr];
}

int tg_eventlog_bank(const struct tg_eventlog *el, enum tg_hash h)
{
	for (size_t i = 0; i < el->nbanks; i++)
		if (el->banks[i].hash == h)
			return (int)i;
	return -1;
}

void tg_eventlog_free(struct tg_eventlog *el)
{
	if (!el)
		return;
	free(el->events);
	free(el->buf);
	free(el);
}

/* ------------------------------------------------------------- parsing */

struct parser {
	struct tg_eventlog *el;
	struct tg_span s;
	const uint8_t *base;
	const char *what;
	struct tg_diag *d;
	size_t cap;
};

static size_t off(const struct parser *p)
{
	return (size_t)(p->s.p - p->base);
}

static enum tg_err bad(struct parser *p, size_t at, const char *why)
{
	return tg_fail(p->d, TG_E_FORMAT, "%s: malformed event log at byte %zu: %s", p->what, at, why);
}

static enum tg_err push(struct parser *p, const struct tg_event *e)
{
	struct tg_eventlog *el = p->el;

	if (el->nevents >= TG_MAX_EVENTS)
		return tg_fail(p->d, TG_E_LIMIT, "%s: more than %u events", p->what, TG_MAX_EVENTS);
	if (tg_grow(el->events, p->cap, el->nevents, 64) != TG_OK)
		return TG_E_NOMEM;
	el->events[el->nevents] = *e;
	el->events[el->nevents].index = (uint32_t)el->nevents;
	el->nevents++;
	return TG_OK;
}

/* Event data: u32 size then bytes. */
static enum tg_err take_data(struct parser *p, struct tg_event *e, size_t start)
{
	uint32_t size;

	if (!tg_span_le32(&p->s, &size))
		return bad(p, start, "truncated before the event data size");
	if (size > TG_MAX_EVENT_DATA)
		return tg_fail(p->d, TG_E_LIMIT, "%s: event at byte %zu claims %u bytes of data (limit %u)",
			       p->what, start, size, TG_MAX_EVENT_DATA);
	if (!tg_span_take(&p->s, size, &e->data))
		return bad(p, start, "event data runs past the end of the log");
	return TG_OK;
}

static enum tg_err parse_legacy_event(struct parser *p, struct tg_event *e)
{
	size_t start = off(p);

	memset(e, 0, sizeof(*e));
	if (!tg_span_le32(&p->s, &e->pcr) || !tg_span_le32(&p->s, &e->type) ||
	    !tg_span_take(&p->s, 20, &e->digest[0]))
		return bad(p, start, p->el->nevents ? "truncated event header" :
			   "log shorter than one event header");
	return take_data(p, e, start);
}

static enum tg_err parse_event2(struct parser *p, struct tg_event *e)
{
	struct tg_eventlog *el = p->el;
	size_t start = off(p);
	uint32_t count;
	bool seen[TG_EL_MAX_BANKS] = { false };

	memset(e, 0, sizeof(*e));
	if (!tg_span_le32(&p->s, &e->pcr) || !tg_span_le32(&p->s, &e->type) ||
	    !tg_span_le32(&p->s, &count))
		return bad(p, start, "truncated event header");
	/* Each digest is of a bank the Spec ID header lists, at most once; a
	 * bank missing from an event makes that bank's PCR unknown (replay). */
	if (count == 0 || count > el->nbanks)
		return bad(p, start, "digest count out of range for the Spec ID header");
	for (uint32_t i = 0; i < count; i++) {
		uint16_t alg;
		size_t b;
		if (!tg_span_le16(&p->s, &alg))
			return bad(p, start, "truncated digest list");
		for (b = 0; b < el->nbanks; b++)
			if (el->banks[b].alg == alg)
				break;
		if (b == el->nbanks)
			return bad(p, start, "digest of an algorithm the Spec ID header does not list");
		if (seen[b])
			return bad(p, start, "the same digest algorithm twice in one event");
		seen[b] = true;
		if (!tg_span_take(&p->s, el->banks[b].size, &e->digest[b]))
			return bad(p, start, "truncated digest");
	}
	return take_data(p, e, start);
}

/* The Spec ID event of a crypto-agile log (PFP §10.4.5.1). */
static enum tg_err parse_spec_id(struct parser *p, const struct tg_event *e, size_t at)
{
	struct tg_eventlog *el = p->el;
	struct tg_span s = e->data, sig;
	uint32_t platform_class, nalgs;
	uint8_t minor, major, errata, uintn, vsize;

	if (!tg_span_take(&s, 16, &sig) || !tg_span_le32(&s, &platform_class) ||
	    !tg_span_u8(&s, &minor) || !tg_span_u8(&s, &major) || !tg_span_u8(&s, &errata) ||
	    !tg_span_u8(&s, &uintn) || !tg_span_le32(&s, &nalgs))
		return bad(p, at, "truncated Spec ID event");
	/* "Spec ID Event03" with version 1.2 mixes the two formats (THREATS
	 * case 43d): refuse rather than guess. */
	if (major != 2 || minor != 0)
		return bad(p, at, "Spec ID Event03 with a spec version other than 2.0");
	(void)uintn; /* informational; 0 occurs in real logs */
	if (nalgs == 0 || nalgs > TG_EL_MAX_BANKS)
		return bad(p, at, "Spec ID numberOfAlgorithms out of range");
	for (uint32_t i = 0; i < nalgs; i++) {
		uint16_t alg, size;
		size_t k;
		if (!tg_span_le16(&s, &alg) || !tg_span_le16(&s, &size))
			return bad(p, at, "truncated Spec ID algorithm list");
		for (k = 0; k < TG_ARRAY_SIZE(tpm_algs); k++)
			if (tpm_algs[k].alg == alg)
				break;
		if (k == TG_ARRAY_SIZE(tpm_algs))
			return bad(p, at, "Spec ID lists an unknown digest algorithm");
		/* Digest sizes come from the algorithm, and the header must
		 * agree (go-attestation@9176b4b): a lying size desynchronises. */
		if (size != tg_hash_len(tpm_algs[k].hash))
			return bad(p, at, "Spec ID digest size does not match its algorithm");
		for (size_t j = 0; j < el->nbanks; j++)
			if (el->banks[j].alg == alg)
				return bad(p, at, "Spec ID lists an algorithm twice");
		el->banks[el->nbanks++] = (struct tg_el_bank){ alg, tpm_algs[k].hash, size };
	}
	if (!tg_span_u8(&s, &vsize) || !tg_span_take(&s, vsize, NULL))
		return bad(p, at, "Spec ID vendor information runs past the event");
	if (s.len != 0)
		return bad(p, at, "trailing bytes inside the Spec ID event");
	return TG_OK;
}

static bool is_zero(struct tg_span s)
{
	for (size_t i = 0; i < s.len; i++)
		if (s.p[i])
			return false;
	return true;
}

/* Replay one event into the PCRs (PFP §10.4.2; EV_NO_ACTION is never
 * extended, THREATS case 43). */
static enum tg_err replay(struct parser *p, const struct tg_event *e, size_t at)
{
	struct tg_eventlog *el = p->el;

	/* Windows logs carry informational EV_NO_ACTION events with PCR
	 * index 0xFFFFFFFF; any other index above 23 is malformed (case 52). */
	if (e->pcr >= TG_EL_PCRS && !(e->type == TG_EV_NO_ACTION && e->pcr == 0xffffffffu))
		return bad(p, at, "PCR index above 23");
	if (e->type == TG_EV_NO_ACTION) {
		if (e->data.len >= 16 && memcmp(e->data.p, locality_sig, 16) == 0) {
			/* StartupLocality sets PCR 0's starting value to the
			 * locality the TPM was started from (PFP §10.4.5.3);
			 * only valid once and before anything extends PCR 0. */
			if (e->data.len != 17 || e->pcr != 0)
				return bad(p, at, "malformed StartupLocality event");
			if (el->startup_locality >= 0 || el->touched[0])
				return bad(p, at, "StartupLocality after PCR 0 was already used");
			el->startup_locality = e->data.p[16];
			if (el->startup_locality != 0 && el->startup_locality != 3 &&
			    el->startup_locality != 4)
				return bad(p, at, "StartupLocality other than 0, 3 or 4");
			for (size_t b = 0; b < el->nbanks; b++)
				el->pcr[b][0][el->banks[b].size - 1] = (uint8_t)el->startup_locality;
			el->touched[0] = true;
		}
		return TG_OK;
	}
	for (size_t b = 0; b < el->nbanks; b++) {
		struct tg_md *md = NULL;
		if (!e->digest[b].p) {
			el->incomplete[b][e->pcr] = true;
			continue;
		}
		if (tg_md_new(el->banks[b].hash, &md) != TG_OK)
			return TG_E_CRYPTO;
		tg_md_write(md, el->pcr[b][e->pcr], el->banks[b].size);
		tg_md_write(md, e->digest[b].p, e->digest[b].len);
		tg_md_final(md, el->pcr[b][e->pcr]);
		tg_md_free(md);
	}
	el->touched[e->pcr] = true;
	return TG_OK;
}

enum tg_err tg_eventlog_parse(struct tg_span in, const char *what, struct tg_eventlog **ret,
			      struct tg_diag *d)
{
	struct tg_eventlog *el;
	struct parser p = { .what = what, .d = d };
	struct tg_event e;
	enum tg_err r;

	if (in.len == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: event log is empty", what);
	if (in.len > TG_MAX_EVENTLOG)
		return tg_fail(d, TG_E_LIMIT, "%s: event log over %u bytes", what, TG_MAX_EVENTLOG);
	el = tg_calloc(1, sizeof(*el));
	if (!el)
		return TG_E_NOMEM;
	el->buf = malloc(in.len);
	if (!el->buf) {
		free(el);
		return TG_E_NOMEM;
	}
	memcpy(el->buf, in.p, in.len);
	el->len = in.len;
	el->startup_locality = -1;
	p.el = el;
	p.base = el->buf;
	p.s = tg_span_make(el->buf, el->len);

	/* The first event is always in the SHA-1 layout; it is the Spec ID
	 * header of a crypto-agile log or the first event of a legacy one. */
	r = parse_legacy_event(&p, &e);
	if (r != TG_OK)
		goto fail;
	bool spec = e.data.len >= 16 && memcmp(e.data.p, spec_id_sig, 16) == 0;
	if (spec) {
		if (e.pcr != 0 || e.type != TG_EV_NO_ACTION || !is_zero(e.digest[0])) {
			r = bad(&p, 0, "Spec ID event not an EV_NO_ACTION in PCR 0 with a zero digest");
			goto fail;
		}
		r = parse_spec_id(&p, &e, 0);
		if (r != TG_OK)
			goto fail;
		el->crypto_agile = true;
	} else {
		el->nbanks = 1;
		el->banks[0] = (struct tg_el_bank){ 0x0004, TG_HASH_SHA1, 20 };
	}
	/* DRTM PCRs 17-22 start at all ones (PFP §3.3.3.4, THREATS 50c). */
	for (size_t b = 0; b < el->nbanks; b++)
		for (int i = 17; i <= 22; i++)
			memset(el->pcr[b][i], 0xff, el->banks[b].size);
	if (!spec) {
		r = replay(&p, &e, 0);
		if (r != TG_OK)
			goto fail;
	}
	r = push(&p, &e);
	if (r != TG_OK)
		goto fail;

	while (p.s.len > 0) {
		size_t at = off(&p);
		r = el->crypto_agile ? parse_event2(&p, &e) : parse_legacy_event(&p, &e);
		if (r == TG_OK)
			r = replay(&p, &e, at);
		if (r == TG_OK)
			r = push(&p, &e);
		if (r != TG_OK)
			goto fail;
	}
	*ret = el;
	return TG_OK;
fail:
	tg_eventlog_free(el);
	return r;
}

/* ---------------------------------------------------------- describing */

static void ascii(struct tg_span s, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < s.len && o + 1 < n; i++) {
		uint8_t c = s.p[i];
		if (c == 0 && i + 1 == s.len)
			break;
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '.';
	}
	out[o] = '\0';
}

static void ucs2(struct tg_span s, size_t chars, char *out, size_t n)
{
	size_t o = 0;

	for (size_t i = 0; i < chars && 2 * i + 1 < s.len && o + 1 < n; i++) {
		uint16_t c = (uint16_t)(s.p[2 * i] | s.p[2 * i + 1] << 8);
		if (c == 0)
			break;
		out[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[o] = '\0';
}

static bool le64(struct tg_span *s, uint64_t *v)
{
	uint32_t lo, hi;

	if (!tg_span_le32(s, &lo) || !tg_span_le32(s, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

/* UEFI device path: the first media file path node (type 4, subtype 4). */
static void device_path_file(struct tg_span dp, char *out, size_t n)
{
	out[0] = '\0';
	while (dp.len >= 4) {
		uint8_t type = dp.p[0], sub = dp.p[1];
		uint16_t len = (uint16_t)(dp.p[2] | dp.p[3] << 8);
		struct tg_span node;
		if (len < 4 || !tg_span_take(&dp, len, &node))
			return;
		if (type == 0x7f)
			return;
		if (type == 4 && sub == 4) {
			struct tg_span name = { node.p + 4, node.len - 4 };
			ucs2(name, name.len / 2, out, n);
			return;
		}
	}
}

void tg_event_describe(const struct tg_event *e, char *out, size_t n)
{
	struct tg_span s = e->data;
	char buf[256];

	out[0] = '\0';
	switch (e->type) {
	case TG_EV_NO_ACTION:
		if (s.len >= 16 && memcmp(s.p, spec_id_sig, 16) == 0)
			snprintf(out, n, "Spec ID Event03 header");
		else if (s.len == 17 && memcmp(s.p, locality_sig, 16) == 0)
			snprintf(out, n, "StartupLocality %u", s.p[16]);
		else {
			struct tg_span sig = { s.p, s.len < 16 ? s.len : 16 };
			ascii(sig, buf, sizeof(buf));
			snprintf(out, n, "%s (%zu bytes)", buf, s.len);
		}
		return;
	case TG_EV_SEPARATOR:
		if (s.len == 4 && is_zero(s))
			snprintf(out, n, "separator");
		else if (s.len == 4 && s.p[0] == 0xff && s.p[1] == 0xff && s.p[2] == 0xff && s.p[3] == 0xff)
			snprintf(out, n, "separator (firmware error)");
		else
			snprintf(out, n, "separator with unexpected data (%zu bytes)", s.len);
		return;
	case 0x80000001: case 0x80000002: case 0x8000000c: case 0x800000e0: {
		/* UEFI_VARIABLE_DATA: GUID, u64 name chars, u64 data len,
		 * CHAR16 name[], data[] */
		uint64_t nchars = 0, dlen = 0;
		struct tg_span guid;
		if (tg_span_take(&s, 16, &guid) && le64(&s, &nchars) && le64(&s, &dlen) &&
		    nchars <= s.len / 2) {
			ucs2(s, (size_t)nchars, buf, sizeof(buf));
			snprintf(out, n, "variable %s (%llu bytes)", buf, (unsigned long long)dlen);
		} else {
			snprintf(out, n, "malformed variable data (%zu bytes)", e->data.len);
		}
		return;
	}
	case 0x80000003: case 0x80000004: case 0x80000005: {
		/* UEFI_IMAGE_LOAD_EVENT: u64 addr, u64 len, u64 link addr,
		 * u64 device path length, device path */
		uint64_t addr = 0, len = 0, link = 0, dplen = 0;
		struct tg_span dp;
		if (le64(&s, &addr) && le64(&s, &len) && le64(&s, &link) && le64(&s, &dplen) &&
		    dplen <= s.len && tg_span_take(&s, (size_t)dplen, &dp)) {
			device_path_file(dp, buf, sizeof(buf));
			snprintf(out, n, "image %llu bytes%s%s", (unsigned long long)len,
				 buf[0] ? " " : "", buf);
		} else {
			snprintf(out, n, "image (%zu bytes of event data)", e->data.len);
		}
		return;
	}
	case 0x80000008: {
		uint64_t base = 0, len = 0;
		if (le64(&s, &base) && le64(&s, &len))
			snprintf(out, n, "firmware blob at 0x%llx, %llu bytes", (unsigned long long)base,
				 (unsigned long long)len);
		return;
	}
	case 0x80000006:
		snprintf(out, n, "GPT (%zu bytes)", s.len);
		return;
	case 0x00000008: /* S-CRTM version: UCS-2 */
		ucs2(s, s.len / 2, buf, sizeof(buf));
		snprintf(out, n, "%s", buf);
		return;
	case 0x0000000d: /* EV_IPL: ASCII, or UCS-2 from systemd-stub */
		if (s.len >= 4 && s.p[1] == 0 && s.p[3] == 0) {
			ucs2(s, s.len / 2, buf, sizeof(buf) < 100 ? sizeof(buf) : 100);
			snprintf(out, n, "%s", buf);
			return;
		}
		/* fall through */
	default:
		ascii(s, buf, sizeof(buf) < 100 ? sizeof(buf) : 100);
		snprintf(out, n, "%s", buf);
		return;
	}
}
