/*
 * TCG PC Client Platform Firmware Profile event logs, as the kernel exposes
 * them in binary_bios_measurements: the legacy SHA-1 format
 * (TCG_PCClientPCREvent) and the crypto-agile format (Spec ID Event03
 * header, then TCG_PCR_EVENT2).  Parsing replays the log into PCR values.
 */
#ifndef TG_EVENTLOG_H
#define TG_EVENTLOG_H

#include "../common/crypto.h"
#include "../common/span.h"

#define TG_EL_MAX_BANKS 5
#define TG_EL_PCRS 24

/* Event types (TCG PC Client PFP §10.4.1). */
#define TG_EV_NO_ACTION 0x00000003u
#define TG_EV_SEPARATOR 0x00000004u
#define TG_EV_TABLE_OF_DEVICES 0x0000000bu
#define TG_EV_COMPACT_HASH 0x0000000cu
#define TG_EV_EFI_BOOT_SERVICES_APPLICATION 0x80000003u

struct tg_event {
	uint32_t index;                        /* position in the log, header = 0 */
	uint32_t pcr, type;
	struct tg_span digest[TG_EL_MAX_BANKS]; /* per bank, into the log buffer */
	struct tg_span data;                    /* event data, into the log buffer */
};

struct tg_el_bank {
	uint16_t alg;          /* TPM_ALG_ID */
	enum tg_hash hash;
	uint16_t size;
};

/* A parsed and replayed log.  Owns a copy of the bytes; events point
 * into it.  Release with tg_eventlog_free(). */
struct tg_eventlog {
	uint8_t *buf;
	size_t len;
	bool crypto_agile;
	size_t nbanks;
	struct tg_el_bank banks[TG_EL_MAX_BANKS];
	struct tg_event *events;
	size_t nevents;
	int startup_locality;   /* -1 when the log has none */
	bool touched[TG_EL_PCRS];  /* extended, or initialised by StartupLocality */
	/* An event extended this PCR without a digest for this bank: the
	 * bank's value for the PCR is unknown and must never be used. */
	bool incomplete[TG_EL_MAX_BANKS][TG_EL_PCRS];
	uint8_t pcr[TG_EL_MAX_BANKS][TG_EL_PCRS][TG_HASH_MAX_LEN];
};

/* Parse and replay.  Malformed, truncated or over-limit logs are errors
 * naming `what` and the byte offset; never a partial result. */
enum tg_err tg_eventlog_parse(struct tg_span in, const char *what, struct tg_eventlog **ret,
			      struct tg_diag *d);
void tg_eventlog_free(struct tg_eventlog *el);
static inline void tg_eventlog_freep(struct tg_eventlog **el) { tg_eventlog_free(*el); }

/* "EV_SEPARATOR", "EV_EFI_VARIABLE_BOOT", ... or "EV_UNKNOWN". */
const char *tg_event_type_name(uint32_t type);
/* One line describing the event data for people (never trusted for
 * decisions: event data is not covered by the PCRs). */
void tg_event_describe(const struct tg_event *e, char *out, size_t n);
/* The replayed value of pcr in bank b, or NULL when the log does not
 * determine it (never extended, or extended without that bank). */
const uint8_t *tg_eventlog_pcr(const struct tg_eventlog *el, size_t bank, unsigned pcr);
/* Index of the bank using hash h, or -1. */
int tg_eventlog_bank(const struct tg_eventlog *el, enum tg_hash h);

#endif
