/*
 * U-Boot FIT images (libfdt): structure, hash nodes, and the exact bytes a
 * signature node covers, computed as U-Boot verified boot computes them —
 * with the list of signed nodes derived from the configuration, never read
 * from the image's own `hashed-nodes` (THREATS case 16).  The parser
 * decides nothing about trust: it reports what the FIT says and what each
 * signature covers; keys come from the records (verifier/cmd_check.c).
 */
#ifndef TG_FIT_H
#define TG_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/crypto.h"
#include "../common/tg.h"

#define TG_FIT_MAX_HASHES 8
#define TG_FIT_MAX_REFS   32

struct tg_fit_hash {
	const char *name;            /* node name, e.g. "hash-1" */
	const char *algo;            /* as written */
	enum tg_hash hash;           /* TG_HASH_NONE for crc32 */
	const uint8_t *value;
	size_t value_len;
	bool ok;                     /* recomputed and equal */
};

struct tg_fit_sig {
	const char *name, *algo, *key_hint, *padding;
	bool conf;                   /* on a configuration (else an image) */
	int owner;                   /* index of that configuration or image */
	enum tg_hash hash;
	enum tg_key_type key_type;
	unsigned key_bits;
	enum tg_sig_scheme scheme;   /* what `padding` / the algorithm demand */
	const uint8_t *value;
	size_t value_len;
	uint8_t digest[TG_HASH_MAX_LEN];
	bool covered;                /* digest of the signed bytes computed */
	char problem[200];           /* why it cannot be checked, "" if it can */
};

struct tg_fit_image {
	const char *name, *description, *type, *arch, *os, *compression;
	bool external;
	const uint8_t *data;
	size_t size;
	uint8_t sha1[20], sha256[32], sha384[48];
	struct tg_fit_hash h[TG_FIT_MAX_HASHES];
	size_t nh;
	enum tg_hash strongest;      /* best hash node algorithm (NONE: crc32 or none) */
	int node;                    /* FDT node offset */
};

struct tg_fit_conf {
	const char *name, *description;
	struct {
		const char *prop;
		int image;
	} ref[TG_FIT_MAX_REFS];
	size_t nref;
	int node;
};

struct tg_fit {
	const uint8_t *buf;
	size_t len;
	const char *description;
	struct tg_fit_image *img;
	size_t nimg;
	struct tg_fit_conf *conf;
	size_t nconf;
	struct tg_fit_sig *sig;
	size_t nsig;
	int def;                     /* default configuration, -1 if none */
	/* The first content problem (a hash node that does not match, an
	 * image no configuration covers...): its reason code and detail. */
	const char *code;
	char problem[300];
};

/* Parse and check a FIT held in buf[0..len): fdt_check_full() over the real
 * length, one unnamed root, no '@' in any node name (THREATS 13, 14),
 * exact-name lookups only, bounded depth and counts, external data inside
 * the file and every byte after the tree either image data or zero
 * padding.  Recomputes every hash node and the digest each signature node
 * covers.  A FIT that cannot be parsed is TG_E_FORMAT with a diagnostic; a
 * parsed one with bad content has fit->code set. */
enum tg_err tg_fit_parse(const uint8_t *buf, size_t len, const char *what, struct tg_fit *fit, struct tg_diag *d);
void tg_fit_release(struct tg_fit *fit);

/* Does key k verify signature node s (algorithm, size and padding as the
 * node says, over what the node covers)?  TG_OK with *ok; an error only
 * when verification itself failed to run. */
enum tg_err tg_fit_verify(const struct tg_fit *fit, const struct tg_fit_sig *s, const struct tg_key *k, bool *ok);

/* A property holding exactly one NUL-terminated string, else NULL. */
const char *tg_fdt_str(const void *fdt, int node, const char *name);

/* A device-tree header version libfdt's full check can be trusted with. */
bool tg_fdt_version_ok(const uint8_t *p, size_t n);

/* The FDT magic (big-endian d00dfeed). */
bool tg_fit_magic(const uint8_t *p, size_t n);
/* A whole device tree whose root has an "images" node: a FIT, not a plain
 * DTB (p..n holds the complete tree). */
bool tg_fit_is_fit(const uint8_t *p, size_t n);

#endif
