/* The service's records: users (client certificates) and host nonces. */
#include <sqlite3.h>
#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "users.h"
#include "../common/encoding.h"

#define USER_COLS "id, name, role, host, ak_fingerprint, serial, fingerprint, subject, not_after, created_at, " \
		  "created_by, revoked_at, revoked_by"

void tg_user_release(struct tg_user *u)
{
	char **f[] = { &u->name, &u->role, &u->host, &u->ak_fingerprint, &u->serial, &u->fingerprint, &u->subject,
		       &u->not_after, &u->created_at, &u->created_by, &u->revoked_at, &u->revoked_by };

	for (size_t i = 0; i < TG_ARRAY_SIZE(f); i++)
		free(*f[i]);
	memset(u, 0, sizeof(*u));
}

static void user_get(sqlite3_stmt *st, struct tg_user *u)
{
	u->id = tg_db_col_int(st, 0);
	u->name = tg_db_col_text(st, 1);
	u->role = tg_db_col_text(st, 2);
	u->host = tg_db_col_text(st, 3);
	u->ak_fingerprint = tg_db_col_text(st, 4);
	u->serial = tg_db_col_text(st, 5);
	u->fingerprint = tg_db_col_text(st, 6);
	u->subject = tg_db_col_text(st, 7);
	u->not_after = tg_db_col_text(st, 8);
	u->created_at = tg_db_col_text(st, 9);
	u->created_by = tg_db_col_text(st, 10);
	u->revoked_at = tg_db_col_text(st, 11);
	u->revoked_by = tg_db_col_text(st, 12);
}

enum tg_err tg_user_insert(struct tg_db *db, const struct tg_user *u, struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db,
				      "INSERT INTO service_user (name, role, host, ak_fingerprint, serial, fingerprint, "
				      "subject, not_after, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?,?);",
				      &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, u->name);
	tg_db_bind_text(st, 2, u->role);
	tg_db_bind_text(st, 3, u->host);
	tg_db_bind_text(st, 4, u->ak_fingerprint);
	tg_db_bind_text(st, 5, u->serial);
	tg_db_bind_text(st, 6, u->fingerprint);
	tg_db_bind_text(st, 7, u->subject);
	tg_db_bind_text(st, 8, u->not_after);
	tg_db_bind_text(st, 9, u->created_at);
	tg_db_bind_text(st, 10, u->created_by);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "user '%s' already has a certificate in force (revoke it first)", u->name);
	return r;
}

static enum tg_err user_one(struct tg_db *db, const char *sql, const char *key, struct tg_user *ret,
			    struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, sql, &st, d);

	memset(ret, 0, sizeof(*ret));
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, key);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return TG_E_NOTFOUND;
	user_get(st, ret);
	return ret->name && ret->role && ret->serial && ret->fingerprint ? TG_OK : TG_E_NOMEM;
}

enum tg_err tg_user_get_active(struct tg_db *db, const char *name, struct tg_user *ret, struct tg_diag *d)
{
	enum tg_err r = user_one(db, "SELECT " USER_COLS " FROM service_user WHERE name = ? AND revoked_at IS NULL;",
				 name, ret, d);

	return r == TG_E_NOTFOUND ? tg_fail(d, r, "no user '%s' with a certificate in force", name) : r;
}

enum tg_err tg_user_by_fingerprint(struct tg_db *db, const char *fpr, struct tg_user *ret, struct tg_diag *d)
{
	return user_one(db, "SELECT " USER_COLS " FROM service_user WHERE fingerprint = ?;", fpr, ret, d);
}

enum tg_err tg_user_revoke(struct tg_db *db, int64_t id, const char *when, const char *by, struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db,
				      "UPDATE service_user SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at "
				      "IS NULL;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, when);
	tg_db_bind_text(st, 2, by);
	tg_db_bind_int(st, 3, id);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_OK && sqlite3_changes(db->h) != 1)
		return tg_fail(d, TG_E_NOTFOUND, "certificate already revoked");
	return r;
}

enum tg_err tg_user_each(struct tg_db *db, tg_user_fn fn, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db, "SELECT " USER_COLS " FROM service_user ORDER BY name, id;", &st, d);

	while (r == TG_OK) {
		struct tg_user u;
		bool row = false;
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		user_get(st, &u);
		r = fn(&u, ud);
		tg_user_release(&u);
	}
	return r;
}

/* ------------------------------------------------------------------ nonces */

enum tg_err tg_nonce_issue(struct tg_db *db, const char *host, const char *by, unsigned ttl, char hex[65],
			   int64_t *ret_expires, struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *del = NULL, *ins = NULL;
	uint8_t n[32];
	int64_t now = tg_now_epoch();
	enum tg_err r;

	if (gnutls_rnd(GNUTLS_RND_NONCE, n, sizeof(n)) < 0)
		return tg_fail(d, TG_E_CRYPTO, "no random nonce");
	tg_hex_encode(n, sizeof(n), hex);
	*ret_expires = now + ttl;
	/* Expired nonces go as new ones come: the table holds about one
	 * interval's worth per host. */
	r = tg_db_prepare(db, "DELETE FROM service_nonce WHERE expires_at < ?;", &del, d);
	if (r == TG_OK) {
		tg_db_bind_int(del, 1, now - 3600);
		r = tg_db_exec_stmt(db, del, d);
	}
	if (r == TG_OK)
		r = tg_db_prepare(db, "INSERT INTO service_nonce (nonce, host, issued_by, issued_at, expires_at) VALUES "
				      "(?,?,?,?,?);", &ins, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_text(ins, 1, hex);
	tg_db_bind_text(ins, 2, host);
	tg_db_bind_text(ins, 3, by);
	tg_db_bind_int(ins, 4, now);
	tg_db_bind_int(ins, 5, *ret_expires);
	return tg_db_exec_stmt(db, ins, d);
}

enum tg_err tg_nonce_check(struct tg_db *db, const char *hex, const char *host, bool take, const char **ret_why,
			   struct tg_diag *d)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL, *up = NULL;
	bool row = false;
	int64_t now = tg_now_epoch();
	enum tg_err r = tg_db_prepare(db, "SELECT host, expires_at, used_at FROM service_nonce WHERE nonce = ?;", &st, d);

	*ret_why = NULL;
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, hex);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row) {
		*ret_why = "the nonce was not issued by this service";
		return TG_OK;
	}
	_cleanup_free_ char *owner = tg_db_col_text(st, 0);
	if (!owner || strcmp(owner, host) != 0)
		*ret_why = "the nonce was issued to another host";
	else if (!tg_db_col_is_null(st, 2))
		*ret_why = "the nonce was used already";
	else if (tg_db_col_int(st, 1) < now)
		*ret_why = "the nonce expired";
	if (*ret_why || !take)
		return TG_OK;
	/* Inside the verdict's transaction; `used_at IS NULL` makes the take
	 * single even between two workers racing on one nonce. */
	r = tg_db_prepare(db, "UPDATE service_nonce SET used_at = ? WHERE nonce = ? AND used_at IS NULL;", &up, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_int(up, 1, now);
	tg_db_bind_text(up, 2, hex);
	r = tg_db_exec_stmt(db, up, d);
	if (r == TG_OK && sqlite3_changes(db->h) != 1)
		*ret_why = "the nonce was used already";
	return r;
}
