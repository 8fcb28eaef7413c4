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

/* Nonces: issue one for a host; take (use) one, which succeeds once, for
 * that host, before it expires.  *ret_why says why a take failed. */
enum tg_err tg_nonce_issue(struct tg_db *db, const char *host, const char *by, unsigned ttl, char hex[65],
			   int64_t *ret_expires, struct tg_diag *d);
enum tg_err tg_nonce_check(struct tg_db *db, const char *hex, const char *host, bool take, const char **ret_why,
			   struct tg_diag *d);

#endif
