/*
 * The service's records (schema 7): client certificates in force and
 * revoked, and the nonces issued to hosts.
 */
#ifndef TG_SERVICE_USERS_H
#define TG_SERVICE_USERS_H

#include "../db/db.h"

struct tg_user {
	int64_t id;
	char *name, *role, *host, *ak_fingerprint, *serial, *fingerprint, *subject, *not_after;
	char *created_at, *created_by, *revoked_at, *revoked_by;
};
void tg_user_release(struct tg_user *u);

enum tg_err tg_user_insert(struct tg_db *db, const struct tg_user *u, struct tg_diag *d);
/* The certificate in force under this name (TG_E_NOTFOUND if none). */
enum tg_err tg_user_get_active(struct tg_db *db, const char *name, struct tg_user *ret, struct tg_diag *d);
/* By certificate fingerprint, revoked or not (TG_E_NOTFOUND if unknown). */
enum tg_err tg_user_by_fingerprint(struct tg_db *db, const char *fpr, struct tg_user *ret, struct tg_diag *d);
enum tg_err tg_user_revoke(struct tg_db *db, int64_t id, const char *when, const char *by, struct tg_diag *d);
typedef enum tg_err (*tg_user_fn)(const struct tg_user *u, void *ud);
enum tg_err tg_user_each(struct tg_db *db, tg_user_fn fn, void *ud, struct tg_diag *d);

/* Nonces of network attestations, stateless: 8 bytes of expiry, 8 random,
 * and 16 of HMAC-SHA256 under the service's nonce key over host, expiry and
 * the random bytes (32 bytes, 64 hex digits).  Issuing writes nothing; a
 * nonce is then good for that host only, until it expires, and once: it is
 * used when a verdict records it (tg_nonce_used, inside the verdict's
 * transaction).  *ret_why says why a nonce is refused (NULL: good). */
#define TG_NONCE_KEY_LEN 32
enum tg_err tg_nonce_issue(const uint8_t key[TG_NONCE_KEY_LEN], const char *host, unsigned ttl, char hex[65],
			   int64_t *ret_expires, struct tg_diag *d);
void tg_nonce_verify(const uint8_t key[TG_NONCE_KEY_LEN], const char *host, const char *hex, unsigned ttl,
		     const char **ret_why);
enum tg_err tg_nonce_used(struct tg_db *db, const char *hex, bool *ret_used, struct tg_diag *d);

#endif
