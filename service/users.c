/* The service's records: users (client certificates) and host nonces. */
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

static void user_get(struct tg_stmt *st, struct tg_user *u)
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
	_cleanup_stmt_ struct tg_stmt *st = NULL;
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
	_cleanup_stmt_ struct tg_stmt *st = NULL;
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
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db,
				      "UPDATE service_user SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at "
				      "IS NULL;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, when);
	tg_db_bind_text(st, 2, by);
	tg_db_bind_int(st, 3, id);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_OK && tg_db_changes(db) != 1)
		return tg_fail(d, TG_E_NOTFOUND, "certificate already revoked");
	return r;
}

enum tg_err tg_user_each(struct tg_db *db, tg_user_fn fn, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
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

static void nonce_mac(const uint8_t key[TG_NONCE_KEY_LEN], const char *host, const uint8_t head[16], uint8_t out[32])
{
	static const char label[] = "trustgate attestation nonce v1";
	size_t hl = strlen(host);
	uint8_t *msg = malloc(sizeof(label) + hl + 16);

	memset(out, 0, 32);
	if (!msg)
		return;
	/* label (with its NUL) || expiry and random (16) || host: fixed
	 * lengths before the host, so no two inputs read alike. */
	memcpy(msg, label, sizeof(label));
	memcpy(msg + sizeof(label), head, 16);
	memcpy(msg + sizeof(label) + 16, host, hl);
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, TG_NONCE_KEY_LEN, msg, sizeof(label) + 16 + hl, out) < 0)
		memset(out, 0, 32);
	free(msg);
}

enum tg_err tg_nonce_issue(const uint8_t key[TG_NONCE_KEY_LEN], const char *host, unsigned ttl, char hex[65],
			   int64_t *ret_expires, struct tg_diag *d)
{
	uint8_t n[32], mac[32];
	uint64_t exp = (uint64_t)tg_now_epoch() + ttl;

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)(exp >> (56 - 8 * i));
	if (gnutls_rnd(GNUTLS_RND_NONCE, n + 8, 8) < 0)
		return tg_fail(d, TG_E_CRYPTO, "no random nonce");
	nonce_mac(key, host, n, mac);
	memcpy(n + 16, mac, 16);
	tg_hex_encode(n, sizeof(n), hex);
	*ret_expires = (int64_t)exp;
	return TG_OK;
}

void tg_nonce_verify(const uint8_t key[TG_NONCE_KEY_LEN], const char *host, const char *hex, unsigned ttl,
		     const char **ret_why)
{
	uint8_t n[32], mac[32];
	size_t len = 0;
	uint64_t exp = 0;
	int64_t now = tg_now_epoch();

	*ret_why = NULL;
	if (!tg_hex_decode(hex, n, sizeof(n), &len) || len != sizeof(n)) {
		*ret_why = "the nonce was not issued by this service";
		return;
	}
	nonce_mac(key, host, n, mac);
	/* A nonce of another host fails here: the host is under the MAC. */
	if (!tg_memeq_ct(mac, n + 16, 16)) {
		*ret_why = "the nonce was not issued by this service to this host";
		return;
	}
	for (int i = 0; i < 8; i++)
		exp = exp << 8 | n[i];
	if ((int64_t)exp < now)
		*ret_why = "the nonce expired";
	else if ((int64_t)exp > now + (int64_t)ttl + 60)
		*ret_why = "the nonce claims a lifetime this service does not give";
}

enum tg_err tg_nonce_used(struct tg_db *db, const char *hex, bool *ret_used, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db, "SELECT 1 FROM verdict WHERE nonce = ? LIMIT 1;", &st, d);

	*ret_used = false;
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, hex);
	return tg_db_step(db, st, ret_used, d);
}
