/*
 * OpenPGP detached signatures, verified the way apt verifies: gpgv with a
 * keyring built from the records, its status lines read strictly.  No
 * OpenPGP packet is parsed by trustgate itself: gpg lists the packets and
 * keys, gpgv verifies.  Both run in a private, throw-away GNUPGHOME.
 */
#ifndef TG_OPENPGP_H
#define TG_OPENPGP_H

#include <sys/types.h>

#include "../common/crypto.h"
#include "../db/records.h"

struct tg_pgp_key {
	uint8_t *binary;        /* the key, dearmored (owned) */
	size_t len;
	char fingerprint[41];   /* primary key, lowercase hex */
	char algorithm[32];     /* openpgp-rsa3072, openpgp-ed25519, ... */
	int bits;
};

/* An OpenPGP signature file (armored, or a binary signature packet)? */
bool tg_pgp_is_signature(const uint8_t *p, size_t n);

/* Read a `gpg --export` key (binary or armored): exactly one primary key
 * that can sign, RSA >= 2048 or Ed25519/NIST P-256/P-384. */
enum tg_err tg_pgp_key_inspect(struct tg_span in, const char *what, struct tg_pgp_key *ret,
			       struct tg_diag *d);
void tg_pgp_key_release(struct tg_pgp_key *k);

/* A running gpgv fed with the data through a pipe. */
struct tg_pgp_verify {
	pid_t pid;
	int in_fd, out_fd;
	char dir[64];
	bool not_detached;      /* the "signature" also carries data */
	int nsigs;
};

/* Check that sig is one detached signature, build the keyring from keys
 * (OpenPGP ones only), start gpgv reading the data on its stdin. */
enum tg_err tg_pgp_verify_start(struct tg_span sig, const char *what, const struct tg_keyrec *keys,
				size_t nkeys, struct tg_pgp_verify *v, struct tg_diag *d);
/* Feed data; false once gpgv stopped reading (it will report why). */
bool tg_pgp_verify_feed(struct tg_pgp_verify *v, const void *p, size_t n);

struct tg_pgp_result {
	bool valid;             /* exit 0, one GOODSIG, one VALIDSIG, nothing bad */
	char fingerprint[41];   /* primary key that signed, lowercase */
	enum tg_hash hash;
};
enum tg_err tg_pgp_verify_finish(struct tg_pgp_verify *v, struct tg_pgp_result *ret, struct tg_diag *d);
/* Kill and clean up a verification that will not be finished. */
void tg_pgp_verify_abort(struct tg_pgp_verify *v);

/* Every primary key of a keyring (`gpg --export` of several keys, or a
 * file like /usr/share/keyrings/debian-archive-keyring.gpg), each exported
 * alone and checked as tg_pgp_key_inspect checks one.  *ret is an array of
 * *ret_n keys (caller releases each and frees the array). */
enum tg_err tg_pgp_keyring_split(struct tg_span in, const char *what, struct tg_pgp_key **ret, size_t *ret_n,
				 struct tg_diag *d);

/* A clear-signed message (an apt InRelease) verified by gpgv against the
 * OpenPGP keys of the records. */
#define TG_PGP_MAX_SIGNERS 8
#define TG_PGP_MAX_SIGNED_TEXT (64u << 20)
struct tg_pgp_clearsigned {
	bool valid;             /* >= 1 valid signature by a record key, every
				 * other one by a key the records lack, none bad */
	struct { char fingerprint[41]; enum tg_hash hash; } signers[TG_PGP_MAX_SIGNERS];
	size_t nsigners, unknown_signers;
	char *text;             /* the signed text, as gpgv wrote it (owned) */
	size_t len;
};
/* TG_E_FORMAT when msg is not exactly one clear-signed message; an
 * unverified message is ret->valid == false, not an error. */
enum tg_err tg_pgp_verify_clearsigned(struct tg_span msg, const char *what, const struct tg_keyrec *keys, size_t nkeys,
				      struct tg_pgp_clearsigned *ret, struct tg_diag *d);
void tg_pgp_clearsigned_release(struct tg_pgp_clearsigned *c);

#endif
