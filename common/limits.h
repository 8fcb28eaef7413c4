/*
 * Every limit trustgate enforces, in one place.  A limit hit is never a
 * silent truncation: it ends in exit 2 or a rejection.
 */
#ifndef TG_LIMITS_H
#define TG_LIMITS_H

/* Key files (PEM/DER SPKI or X.509): real keys are a few KiB. */
#define TG_MAX_KEY_FILE        (256u * 1024u)
/* Detached signature files: an RSA-4096 signature in base64 is < 1 KiB;
 * OpenPGP armored signatures stay well below this. */
#define TG_MAX_SIG_FILE        (64u * 1024u)
/* A blob checked by `check`: streamed, so this only bounds the sizes we
 * report and hash, not memory. */
#define TG_MAX_BLOB_SIZE       (64ull * 1024 * 1024 * 1024)
/* Read buffer for streaming digests. */
#define TG_READ_CHUNK          (256u * 1024u)

/* RSA bounds accepted at import (THREATS P2, case 29). */
#define TG_RSA_MIN_BITS        2048
#define TG_RSA_MAX_BITS        8192

/* Text fields in records: names, reasons, references. */
#define TG_MAX_NAME            128
#define TG_MAX_REASON          1024
#define TG_MAX_VERSION         64

/* Candidate keys tried against one signature. */
#define TG_MAX_CANDIDATE_KEYS  4096

/* TCG event logs (binary_bios_measurements): real ones are < 1 MiB. */
#define TG_MAX_EVENTLOG        (64u * 1024u * 1024u)
#define TG_MAX_EVENTS          200000u
/* One event's data: a forged size field is refused, never allocated
 * (THREATS case 52; go-attestation's 1.2 GB event). */
#define TG_MAX_EVENT_DATA      (16u * 1024u * 1024u)

/* Archives (THREATS case 9): budgets enforced while streaming. */
#define TG_MAX_ARCHIVE_ENTRIES 100000u
#define TG_MAX_ARCHIVE_DEPTH   3            /* nested archives below the top one */
#define TG_MAX_ARCHIVE_MEMBER  (16ull * 1024 * 1024 * 1024)
#define TG_MAX_ARCHIVE_TOTAL   (64ull * 1024 * 1024 * 1024)
#define TG_MAX_ARCHIVE_RATIO   1000u        /* decompressed : compressed */
#define TG_MAX_ARCHIVE_RATIO_FLOOR (64ull * 1024 * 1024)  /* checked beyond this output */

/* tar headers (THREATS case 10): one pax/GNU extension header, bytes
 * after the end-of-archive block (record padding), old GNU sparse
 * extension blocks of one member. */
#define TG_MAX_TAR_EXT         (1024u * 1024u)
#define TG_MAX_TAR_TRAILER     (16ull * 1024 * 1024)
#define TG_MAX_TAR_SPARSE_BLOCKS 65536u

/* FIT images: the device tree (U-Boot's FIT_SIGNATURE_MAX_SIZE default)
 * and the whole file with external data, read into memory. */
#define TG_MAX_FIT_TREE        (256u * 1024u * 1024u)
#define TG_MAX_FIT_FILE        (1024ull * 1024 * 1024)

/* A FIT or capsule inside a package, held in memory to be verified. */
#define TG_MAX_FIRMWARE_COMPONENT (64u * 1024u * 1024u)

/* An embedded package manifest (DSSE envelope). */
#define TG_MAX_MANIFEST        (16u * 1024u * 1024u)

/* Hosts in one `attest --batch`. */
#define TG_MAX_BATCH           100000u
#define TG_MAX_BATCH_LIST      (64u * 1024u * 1024u)   /* check --batch: the list of files */

/* Audit log rows read by `audit verify` in one pass are streamed; no cap. */

#endif
