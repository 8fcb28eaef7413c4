/*
 * Archive walker on libarchive: tar (ustar, pax, GNU) plain or compressed
 * with gzip, bzip2, xz or zstd; zip; cpio; ar (and so .deb).  One streaming
 * pass, nothing extracted: each member is hashed in memory, checked against
 * the unsafe-content rules of THREATS section A, and walked in turn when it
 * is itself an archive (to depth TG_MAX_ARCHIVE_DEPTH).  ARCHIVE_* codes
 * are converted here and nowhere else.  The walker decides nothing: it
 * reports members and findings; verifier/policy.c and cmd_check.c decide.
 */
#ifndef TG_ARCHIVE_H
#define TG_ARCHIVE_H

#include <sys/types.h>

#include "../common/tg.h"

enum tg_ar_sev {
	TG_AR_ALWAYS,   /* rejects at every tier */
	TG_AR_STRICT,   /* rejects from tier 3 (and CII), warns below */
};

struct tg_ar_finding {
	const char *code;
	enum tg_ar_sev sev;
	long member;             /* index in tg_ar_result.m it is about, or -1 */
	char detail[320];
};

struct tg_ar_member {
	char *path;              /* as named, outer!inner for nested members */
	char type[12];           /* file, dir, symlink, hardlink */
	uint64_t size;
	char sha256[65];         /* files only */
	char sm3[65];            /* when hash_sm3 */
	char *norm;              /* normalised name within its own archive */
	char *link;              /* symlink target as stored, hard link
				  * target normalised; NULL otherwise */
	bool link_listed;        /* set by the caller: a signed manifest
				  * lists this link with this target */
	bool link_escapes;       /* a symlink whose target is absolute or
				  * climbs out of the archive (inventory) */
	uint32_t mode;           /* permission and type bits as stored */
	bool nested;             /* inside a member archive */
	long parent;             /* index of the container it is in, -1 at the top */
	bool manifest;           /* the root manifest itself */
	bool deb_control;        /* a .deb's control file (in control.tar) */
	const char *component;   /* "archive", "fit", "capsule" or NULL */
	uint8_t *blob;           /* a FIT or capsule's bytes, for its own
				  * verification (NULL if over the limit) */
	size_t blob_len;
	bool blob_too_large;
};

#define TG_AR_MAX_FINDINGS 64
struct tg_ar_result {
	struct tg_ar_member *m;
	size_t n, cap;
	struct tg_ar_finding f[TG_AR_MAX_FINDINGS];
	size_t nf;
	size_t dropped;          /* findings beyond the list (rejecting ones
				  * replace tier-3-only ones, never drop) */
	uint64_t total;          /* bytes of member data, all depths */
	uint64_t entries;        /* members, all depths */
	bool stopped;            /* a limit ended the walk early */
	bool hash_sm3;           /* set by the caller: SM3 of every member too */
	char deb_version[8];     /* first bytes of a root debian-binary */
	char *deb_control;       /* a root .deb's control file, NUL-terminated
				  * (bounded; NULL if none or too large) */
	size_t deb_control_len;
	uint8_t *manifest;       /* root trustgate.intoto.jsonl, when present */
	size_t manifest_len;
	uint64_t whole_size;     /* set by the caller when nothing but the
				  * members is signed (an embedded manifest):
				  * the file's size, which the walk must account
				  * for to the last byte (0: not checked) */
	bool hash_all;           /* set by the caller: hash every member, not
				  * only components (an embedded manifest
				  * needs them all; a detached signature
				  * already covers every byte) */
};

/* Add a finding; when the list is full a rejecting one takes the place of a
 * tier-3-only one (never dropped).  The finding, or NULL if not listed. */
struct tg_ar_finding *tg_archive_finding(struct tg_ar_result *res, const char *code, enum tg_ar_sev sev,
					const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Pull the next chunk of the archive's bytes: returns its length (0 at the
 * end, -1 on error) and points *buf at it. */
typedef ssize_t (*tg_ar_read_fn)(void *ud, const void **buf);

/* Walk an archive whose bytes come from fn.  TG_E_FORMAT (with a
 * diagnostic) when the top-level archive cannot be read; everything else is
 * a finding in res. */
enum tg_err tg_archive_walk(tg_ar_read_fn fn, void *ud, const char *what, struct tg_ar_result *res,
			    struct tg_diag *d);
void tg_archive_result_release(struct tg_ar_result *res);

/* Walk a zip held in fd with libarchive's seekable reader (central
 * directory), for comparison with the streaming walk (local headers). */
enum tg_err tg_archive_walk_zip_seekable(int fd, const char *what, struct tg_ar_result *res,
					 struct tg_diag *d);

/* Copy the archive in in_fd to out_fd in the same format and compression,
 * member by member, and add one root file `name` holding extra (the signed
 * manifest of `vendor sign`). */
enum tg_err tg_archive_rewrite(int in_fd, const char *what, int out_fd, const char *out_what, const char *name,
			       const uint8_t *extra, size_t extra_len, struct tg_diag *d);

/* Check a member name; write its normalised form.  NULL when safe, else
 * what is wrong with it. */
const char *tg_archive_normalize(const char *name, char *norm, size_t n);

/* Is this the start of an archive we walk? (magic numbers only) */
bool tg_archive_magic(const uint8_t *p, size_t n);

#endif
