/*
 * PE/COFF images (shim, GRUB, kernels, unified kernel images): the
 * Authenticode digest, computed as UEFI firmware computes it before it
 * extends PCR 4 with an EV_EFI_BOOT_SERVICES_APPLICATION event (EDK2's
 * PE image hashing: headers without the checksum and the certificate-table
 * entry, sections in file order, then the data after them up to the
 * certificate table).
 */
#ifndef TG_PE_H
#define TG_PE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/crypto.h"
#include "../common/span.h"

#define TG_PE_MAX_SIGS 8

struct tg_pe {
	struct tg_span sig[TG_PE_MAX_SIGS];   /* PKCS#7 of each WIN_CERTIFICATE */
	size_t nsig;
	bool pe32plus;
	uint16_t machine;
	uint64_t cert_off, cert_size;     /* the certificate table (0 if none) */
	uint8_t sha1[20], sha256[32], sha384[48];
};

/* "MZ" and a PE signature where e_lfanew points. */
bool tg_pe_magic(const uint8_t *p, size_t n);

/* Parse buf[0..len) and compute its Authenticode digests.  TG_E_FORMAT
 * with a diagnostic naming `what` for anything out of bounds. */
enum tg_err tg_pe_authenticode(const uint8_t *buf, size_t len, const char *what, struct tg_pe *pe,
			       struct tg_diag *d);

#endif
