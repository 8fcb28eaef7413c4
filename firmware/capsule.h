/*
 * UEFI FMP capsules: EFI_CAPSULE_HEADER -> EFI_FIRMWARE_MANAGEMENT_CAPSULE_
 * HEADER -> one EFI_FIRMWARE_MANAGEMENT_CAPSULE_IMAGE_HEADER (v1-v3) ->
 * EFI_FIRMWARE_IMAGE_AUTHENTICATION (monotonic count, WIN_CERTIFICATE_UEFI_
 * GUID with a PKCS#7 SignedData over payload || monotonic count) -> payload,
 * optionally starting with an FMP payload header ("MSS1": firmware version,
 * lowest supported version).  Every length is checked in 64-bit arithmetic
 * against what encloses it (THREATS 25); nothing may follow what the
 * headers account for.
 */
#ifndef TG_CAPSULE_H
#define TG_CAPSULE_H

#include "../common/span.h"
#include "../common/tg.h"

struct tg_capsule {
	char image_type[37];        /* UpdateImageTypeId, lowercase UUID */
	uint32_t image_header_version;
	uint8_t image_index;
	uint64_t hardware_instance;
	bool signed_;               /* carries EFI_FIRMWARE_IMAGE_AUTHENTICATION */
	uint64_t monotonic_count;
	uint8_t count_le[8];        /* as signed */
	struct tg_span pkcs7;       /* CertData */
	struct tg_span payload;     /* what the signature covers, before the count */
	bool has_version;           /* FMP payload header present */
	uint32_t fw_version, lowest_supported_version;
};

bool tg_capsule_magic(const uint8_t *p, size_t n);

/* TG_E_FORMAT with a diagnostic for any structural problem. */
enum tg_err tg_capsule_parse(const uint8_t *buf, size_t len, const char *what, struct tg_capsule *c,
			     struct tg_diag *d);

#endif
