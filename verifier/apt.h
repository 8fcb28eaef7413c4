/*
 * A Debian package verified through the signatures of the apt repository it
 * came from, as apt verifies it (the chain of apt-secure(8)): the
 * repository's InRelease is clear-signed by an OpenPGP key of the records
 * (gpgv), is not expired (Valid-Until) and names the suite or codename it
 * was fetched as; it lists the SHA-256 and size of each Packages index; the
 * index lists the SHA-256 and size of the package.  Only text that gpgv
 * says was signed, and indexes whose digest that text lists, are read.
 */
#ifndef TG_APT_H
#define TG_APT_H

#include "../common/crypto.h"
#include "../common/tg.h"
#include "../db/records.h"

#define TG_APT_MAX_PROBLEMS 8

struct tg_apt_problem {
	const char *code;
	char detail[320];
};

struct tg_apt_match {
	bool found;                      /* a chain verified to the package */
	char package[128], version[TG_MAX_VERSION + 1], architecture[32];
	char release[256];               /* the InRelease file that signed it */
	char suite[64], codename[64];
	char signers[8][41];             /* record keys with a valid signature */
	enum tg_hash signer_hash[8];
	size_t nsigners;
	struct tg_apt_problem problems[TG_APT_MAX_PROBLEMS];
	size_t nproblems;
};

/* Find the package (its SHA-256 as hex, and size) in the signed apt lists
 * of dir (apt's /var/lib/apt/lists layout: <site>_dists_<dist>_InRelease
 * and <site>_dists_<dist>_<component>_binary-<arch>_Packages[.lz4|.gz|.xz]).
 * keys: the records' keys (OpenPGP ones are used).  Errors are TG_E_IO for
 * an unreadable dir or file; everything about the evidence is a problem in
 * ret, and ret->found only when one chain verified completely. */
enum tg_err tg_apt_find(const char *dir, const char *sha256, uint64_t size, const struct tg_keyrec *keys,
			size_t nkeys, int64_t now, struct tg_apt_match *ret, struct tg_diag *d);

/* The value of field `name` in a deb822 stanza (first line only), copied
 * into out; false if absent or too long. */
bool tg_deb822_field(const char *stanza, size_t len, const char *name, char *out, size_t n);

#endif
