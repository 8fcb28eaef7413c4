/*
 * UEFI FMP capsule parsing (see capsule.h).  Layouts from the UEFI
 * specification 2.10, sections 8.5.3 (EFI_CAPSULE_HEADER) and 23.3 (FMP
 * capsule, image header versions 1-3, EFI_FIRMWARE_IMAGE_AUTHENTICATION),
 * WIN_CERTIFICATE from section 32.2.4.
 */
#include <stdio.h>
#include <string.h>

#include "capsule.h"

static const uint8_t fmp_capsule_guid[16] = { 0xed, 0xd5, 0xcb, 0x6d, 0x2d, 0xe8, 0x44, 0x4c,
					      0xbd, 0xa1, 0x71, 0x94, 0x19, 0x9a, 0xd9, 0x2a };
/* EFI_CERT_TYPE_PKCS7_GUID 4aafd29d-68df-49ee-8aa9-347d375665a7 */
static const uint8_t pkcs7_guid[16] = { 0x9d, 0xd2, 0xaf, 0x4a, 0xdf, 0x68, 0xee, 0x49,
					0x8a, 0xa9, 0x34, 0x7d, 0x37, 0x56, 0x65, 0xa7 };

bool tg_capsule_magic(const uint8_t *p, size_t n)
{
	return n >= 16 && memcmp(p, fmp_capsule_guid, 16) == 0;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

static void guid_str(const uint8_t *g, char out[37])
{
	snprintf(out, 37, "%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x", le32(g), g[4] | g[5] << 8,
		 g[6] | g[7] << 8, g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15]);
}

enum tg_err tg_capsule_parse(const uint8_t *buf, size_t len, const char *what, struct tg_capsule *c,
			     struct tg_diag *d)
{
	memset(c, 0, sizeof(*c));
	if (!tg_capsule_magic(buf, len) || len < 28)
		return tg_fail(d, TG_E_FORMAT, "%s: not an FMP capsule", what);
	uint64_t hdr_size = le32(buf + 16), flags = le32(buf + 20), img_size = le32(buf + 24);
	(void)flags;
	/* THREATS 25: HeaderSize within the capsule, the capsule exactly the
	 * file (bytes after it would ride along unsigned). */
	if (hdr_size < 28 || img_size < hdr_size || img_size != len)
		return tg_fail(d, TG_E_FORMAT, "%s: capsule header sizes inconsistent (HeaderSize %llu, "
			       "CapsuleImageSize %llu, file %zu bytes)", what, (unsigned long long)hdr_size,
			       (unsigned long long)img_size, len);
	uint64_t fmp = hdr_size;
	if (fmp + 8 > len || le32(buf + fmp) != 1)
		return tg_fail(d, TG_E_FORMAT, "%s: FMP capsule header missing or not version 1", what);
	uint16_t drivers = (uint16_t)(buf[fmp + 4] | buf[fmp + 5] << 8), items = (uint16_t)(buf[fmp + 6] | buf[fmp + 7] << 8);
	/* Embedded drivers are executable code outside any image signature. */
	if (drivers != 0)
		return tg_fail(d, TG_E_FORMAT, "%s: capsule embeds %u UEFI drivers (unsigned code)", what, drivers);
	if (items != 1)
		return tg_fail(d, TG_E_FORMAT, "%s: capsule holds %u payload items; exactly one is supported", what, items);
	if (fmp + 16 > len)
		return tg_fail(d, TG_E_FORMAT, "%s: FMP item offset list truncated", what);
	uint64_t item = fmp + le64(buf + fmp + 8);
	if (item < fmp + 16 || item > len || len - item < 32)
		return tg_fail(d, TG_E_FORMAT, "%s: FMP image header out of bounds", what);
	uint32_t ver = le32(buf + item);
	uint64_t ihdr = ver == 1 ? 32 : ver == 2 ? 40 : ver == 3 ? 48 : 0;
	if (!ihdr || len - item < ihdr)
		return tg_fail(d, TG_E_FORMAT, "%s: FMP image header version %u unknown or truncated", what, ver);
	c->image_header_version = ver;
	guid_str(buf + item + 4, c->image_type);
	c->image_index = buf[item + 20];
	uint64_t upd = le32(buf + item + 24), vendor = le32(buf + item + 28);
	if (ver >= 2)
		c->hardware_instance = le64(buf + item + 32);
	uint64_t data = item + ihdr;
	/* The image and the vendor code fill the rest of the capsule exactly. */
	if (data + upd + vendor != len)
		return tg_fail(d, TG_E_FORMAT, "%s: image (%llu) and vendor code (%llu) sizes do not fill the capsule",
			       what, (unsigned long long)upd, (unsigned long long)vendor);
	if (vendor)
		return tg_fail(d, TG_E_FORMAT, "%s: vendor code (%llu bytes) is not covered by the signature", what,
			       (unsigned long long)vendor);
	struct tg_span img = tg_span_make(buf + data, (size_t)upd);
	/* EFI_FIRMWARE_IMAGE_AUTHENTICATION: count, WIN_CERTIFICATE header,
	 * CertType GUID, CertData. */
	if (img.len >= 8 + 24 && le32(img.p + 8) >= 24 && (img.p[12] | img.p[13] << 8) == 0x0200 &&
	    (img.p[14] | img.p[15] << 8) == 0x0ef1) {
		uint64_t cert_len = le32(img.p + 8);
		if (8 + cert_len > img.len || memcmp(img.p + 16, pkcs7_guid, 16) != 0)
			return tg_fail(d, TG_E_FORMAT, "%s: image authentication is not a PKCS#7 certificate within the "
				       "image (dwLength %llu)", what, (unsigned long long)cert_len);
		c->signed_ = true;
		c->monotonic_count = le64(img.p);
		memcpy(c->count_le, img.p, 8);
		c->pkcs7 = tg_span_make(img.p + 32, (size_t)cert_len - 24);
		c->payload = tg_span_make(img.p + 8 + cert_len, img.len - 8 - (size_t)cert_len);
	} else {
		c->payload = img;
	}
	/* FMP payload header ("MSS1"): the firmware version for rollback. */
	if (c->payload.len >= 16 && memcmp(c->payload.p, "MSS1", 4) == 0) {
		uint32_t hsz = le32(c->payload.p + 4);
		if (hsz < 16 || hsz > c->payload.len)
			return tg_fail(d, TG_E_FORMAT, "%s: FMP payload header size %u out of bounds", what, hsz);
		c->has_version = true;
		c->fw_version = le32(c->payload.p + 8);
		c->lowest_supported_version = le32(c->payload.p + 12);
	}
	return TG_OK;
}
