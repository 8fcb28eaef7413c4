/*
 * A second, independent reader of tar headers (THREATS case 10).
 *
 * libarchive is lenient on purpose: it reads an unknown typeflag as a
 * regular file, takes a pax `size` over the ustar one, skips a symlink's
 * data whatever its size field says, and lets a GNU long name and a pax
 * path both apply.  Other extractors (GNU tar, tar-rs, Go's archive/tar,
 * busybox) settle those cases differently, so one package could unpack to
 * two different trees.  This scanner sees the same decompressed bytes as
 * libarchive, refuses every header that is malformed or ambiguous, and
 * queues the members it finds so the archive walker can compare them, one
 * by one, with what libarchive returned.  It never allocates more than one
 * extension header (TG_MAX_TAR_EXT) and the unmatched queue.
 */
#ifndef TG_TARSCAN_H
#define TG_TARSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tg_tar_class {
	TG_TAR_FILE,
	TG_TAR_DIR,
	TG_TAR_SYMLINK,
	TG_TAR_HARDLINK,
	TG_TAR_SPECIAL,   /* character or block device, FIFO */
};

struct tg_tar_entry {
	char *name;               /* as the headers give it */
	char *link;               /* links only */
	enum tg_tar_class cls;
	uint64_t size;            /* logical size (a sparse file's full size) */
};

struct tg_tarscan {
	int state;
	bool decided;             /* the first block has been seen */
	bool active;              /* ... and it is a tar header */
	char err[240];            /* first problem found, "" while none */
	uint8_t blk[512];
	size_t blen;
	uint64_t off;             /* stream offset of the next byte */
	uint64_t skip;            /* data and padding still to pass over */
	uint64_t trailer;         /* bytes seen after the end-of-archive block */
	uint64_t sparse_blocks;
	/* extension header being collected */
	char ext_type;
	uint8_t *ext;
	size_t ext_len, ext_want;
	/* what the extension headers say about the next member */
	struct tg_tar_pending {
		bool pax, gnu_name, gnu_link;
		char *path, *linkpath, *sparse_name, *long_name, *long_link;
		bool size_set, sparse_real_set, sparse_size_set, sparse_major_set, sparse_minor_set;
		uint64_t size, sparse_real, sparse_size, sparse_major, sparse_minor;
	} pend;
	/* members not yet compared */
	struct tg_tar_entry *q;
	size_t qhead, qn, qcap;
	uint64_t members;
};

void tg_tarscan_init(struct tg_tarscan *ts);
/* The next n bytes of the (decompressed) stream. */
void tg_tarscan_feed(struct tg_tarscan *ts, const uint8_t *p, size_t n);
/* The stream ended. */
void tg_tarscan_end(struct tg_tarscan *ts);
/* Take the oldest member not yet compared: false when none is queued.  The
 * caller frees e->name and e->link. */
bool tg_tarscan_take(struct tg_tarscan *ts, struct tg_tar_entry *e);
void tg_tarscan_release(struct tg_tarscan *ts);

#endif
