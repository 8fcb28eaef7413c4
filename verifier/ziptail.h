/*
 * A zip behind a stub (a self-extractor): does the file end in a zip's
 * end-of-central-directory record whose central directory begins with a
 * file header?  Decided from a file (tg_zip_at_end), or from its bytes as
 * they go by (tg_ziptail_*, for a check of an upload that is never
 * written), with the same answer.
 */
#ifndef TG_ZIPTAIL_H
#define TG_ZIPTAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The record and its comment: at most this many bytes from the end. */
#define TG_ZIP_TAIL (22u + 65535u)

bool tg_zip_at_end(int fd, uint64_t size);

/* The bytes going by: the last TG_ZIP_TAIL of them kept, and the offset of
 * every "PK\1\2" noted (the record may name any offset of the file) -- at
 * most max_marks of them (0: a default of 2^20). */
struct tg_ziptail {
	size_t max_marks;
	uint64_t seen;
	uint8_t tail[2 * TG_ZIP_TAIL];
	size_t tail_len;
	uint64_t *mark;
	size_t nmark, cap_mark;
	uint64_t marks_upto;   /* marks_full: every mark before this offset noted */
	bool marks_full;
	uint8_t carry[3];      /* the last bytes before the next piece */
	size_t ncarry;
};

void tg_ziptail_feed(struct tg_ziptail *z, const uint8_t *p, size_t n);
/* After the last byte: 1 a zip behind a stub, 0 not, -1 not known (the
 * record names an offset past the marks noted; fail closed). */
int tg_ziptail_end(const struct tg_ziptail *z);
void tg_ziptail_release(struct tg_ziptail *z);

#endif
