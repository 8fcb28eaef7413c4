/*
 * Reference measurements of approved firmware: the digests a measured boot
 * will extend for a file (`release add --file`), so that host attestation
 * can recognise them.
 *   UEFI PE/COFF (shim, GRUB, kernel, UKI): its Authenticode digest in PCR 4
 *     as EV_EFI_BOOT_SERVICES_APPLICATION (firmware measures every image it
 *     loads this way);
 *   FIT: each image U-Boot's bootm measures: the kernel in PCR 8 and the
 *     ramdisk in PCR 9 (EV_COMPACT_HASH), the device tree in PCR 1
 *     (EV_TABLE_OF_DEVICES, with CONFIG_MEASURE_DEVICETREE).
 * Digests in SHA-1, SHA-256 and SHA-384 (the PCR banks in use).
 */
#ifndef TG_REFS_H
#define TG_REFS_H

#include "../common/crypto.h"

#define TG_REFS_MAX 64

struct tg_ref_meas {
	int pcr;
	uint32_t event_type;
	enum tg_hash alg;
	char digest[2 * TG_HASH_MAX_LEN + 1];
	char description[160];
};

struct tg_refs {
	const char *kind;          /* "pe", "fit", or NULL: nothing measured */
	struct tg_ref_meas m[TG_REFS_MAX];
	size_t n;
};

/* The measurements buf[0..len) will produce (none for other files).  A
 * FIT or PE that does not parse is TG_E_FORMAT. */
enum tg_err tg_refs_compute(const uint8_t *buf, size_t len, const char *what, struct tg_refs *out,
			    struct tg_diag *d);

#endif
