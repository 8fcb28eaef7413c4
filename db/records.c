/* Typed access to suppliers, keys, products, releases and verdicts. */
#include <ctype.h>
#include <string.h>


#include "records.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/version.h"

void tg_supplier_release(struct tg_supplier *s)
{
	free(s->name);
	free(s->country);
	free(s->status);
	free(s->review_ref);
	free(s->review_expires);
	free(s->created_at);
	free(s->updated_at);
	memset(s, 0, sizeof(*s));
}

enum tg_err tg_keyrec_copy(struct tg_keyrec *dst, const struct tg_keyrec *src, bool with_spki)
{
	char **s[] = { &dst->supplier, &dst->fingerprint, &dst->algorithm, &dst->hashes, &dst->purposes,
		       &dst->name, &dst->not_before, &dst->not_after, &dst->added_at, &dst->revoked_at,
		       &dst->revoke_reason, &dst->fit_required, &dst->fit_mode, &dst->fit_group };
	const char *from[] = { src->supplier, src->fingerprint, src->algorithm, src->hashes, src->purposes,
			       src->name, src->not_before, src->not_after, src->added_at, src->revoked_at,
			       src->revoke_reason, src->fit_required, src->fit_mode, src->fit_group };
	enum tg_err r = TG_OK;

	*dst = *src;
	dst->cert = NULL;
	dst->cert_len = 0;
	dst->spki = NULL;
	dst->spki_len = 0;
	for (size_t i = 0; i < TG_ARRAY_SIZE(s); i++)
		if ((*s[i] = tg_strdup(from[i])) == NULL && from[i])
			r = TG_E_NOMEM;
	if (with_spki && src->spki) {
		if ((dst->spki = malloc(src->spki_len ? src->spki_len : 1))) {
			memcpy(dst->spki, src->spki, src->spki_len);
			dst->spki_len = src->spki_len;
		} else {
			r = TG_E_NOMEM;
		}
	}
	return r;
}

void tg_keyrec_release(struct tg_keyrec *k)
{
	free(k->supplier);
	free(k->fingerprint);
	free(k->algorithm);
	free(k->hashes);
	free(k->purposes);
	free(k->name);
	free(k->spki);
	free(k->cert);
	free(k->not_before);
	free(k->not_after);
	free(k->added_at);
	free(k->revoked_at);
	free(k->revoke_reason);
	free(k->fit_required);
	free(k->fit_mode);
	free(k->fit_group);
	memset(k, 0, sizeof(*k));
}

void tg_product_release(struct tg_product *p)
{
	free(p->supplier);
	free(p->name);
	free(p->kind);
	free(p->min_version);
	free(p->guid);
	free(p->created_at);
	free(p->allow);
	memset(p, 0, sizeof(*p));
}

void tg_release_release(struct tg_release *r)
{
	free(r->version);
	free(r->digest_alg);
	free(r->digest);
	free(r->status);
	free(r->created_at);
	free(r->revoked_at);
	free(r->product);
	free(r->supplier);
	memset(r, 0, sizeof(*r));
}

enum tg_err tg_release_copy(struct tg_release *out, const struct tg_release *r)
{
	*out = *r;
	out->version = tg_strdup(r->version);
	out->digest_alg = tg_strdup(r->digest_alg);
	out->digest = tg_strdup(r->digest);
	out->status = tg_strdup(r->status);
	out->created_at = tg_strdup(r->created_at);
	out->revoked_at = tg_strdup(r->revoked_at);
	out->product = tg_strdup(r->product);
	out->supplier = tg_strdup(r->supplier);
	if ((r->version && !out->version) || (r->digest_alg && !out->digest_alg) || (r->digest && !out->digest) ||
	    (r->status && !out->status) || (r->created_at && !out->created_at) || (r->revoked_at && !out->revoked_at) ||
	    (r->product && !out->product) || (r->supplier && !out->supplier)) {
		tg_release_release(out);
		return TG_E_NOMEM;
	}
	return TG_OK;
}

/* ------------------------------------------------------------ supplier */

#define SUPPLIER_COLS "id, name, country, status, max_tier, cii, review_ref, review_expires, " \
		      "created_at, updated_at"

/* Step an INSERT ... RETURNING id and take the new row's id (both engines
 * number rows themselves; neither is asked for "the last rowid" of a
 * connection another statement may have moved on). */
static enum tg_err insert_id(struct tg_db *db, struct tg_stmt *st, int64_t *ret_id, struct tg_diag *d)
{
	bool row = false;
	enum tg_err r = tg_db_step(db, st, &row, d);

	if (r != TG_OK)
		return r;
	if (!row)
		return tg_fail(d, TG_E_DB, "%s: an insert returned no row id", db->path);
	if (ret_id)
		*ret_id = tg_db_col_int(st, 0);
	return TG_OK;
}

static void supplier_from_row(struct tg_stmt *st, struct tg_supplier *s)
{
	s->id = tg_db_col_int(st, 0);
	s->name = tg_db_col_text(st, 1);
	s->country = tg_db_col_text(st, 2);
	s->status = tg_db_col_text(st, 3);
	s->max_tier = (int)tg_db_col_int(st, 4);
	s->cii = tg_db_col_int(st, 5) != 0;
	s->review_ref = tg_db_col_text(st, 6);
	s->review_expires = tg_db_col_text(st, 7);
	s->created_at = tg_db_col_text(st, 8);
	s->updated_at = tg_db_col_text(st, 9);
}

static enum tg_err supplier_query(struct tg_db *db, const char *sql, const char *text, int64_t id,
				  struct tg_supplier *ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, sql, &st, d);

	if (r != TG_OK)
		return r;
	if (text)
		tg_db_bind_text(st, 1, text);
	else
		tg_db_bind_int(st, 1, id);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return text ? tg_fail(d, TG_E_NOTFOUND, "supplier '%s' is not in the records", text)
			    : tg_fail(d, TG_E_NOTFOUND, "supplier #%lld is not in the records",
				      (long long)id);
	supplier_from_row(st, ret);
	return TG_OK;
}

enum tg_err tg_rec_supplier_get(struct tg_db *db, const char *name, struct tg_supplier *ret,
				struct tg_diag *d)
{
	return supplier_query(db, "SELECT " SUPPLIER_COLS " FROM supplier WHERE name = ?1;", name, 0,
			      ret, d);
}

enum tg_err tg_rec_supplier_get_id(struct tg_db *db, int64_t id, struct tg_supplier *ret,
				   struct tg_diag *d)
{
	return supplier_query(db, "SELECT " SUPPLIER_COLS " FROM supplier WHERE id = ?1;", NULL, id,
			      ret, d);
}

enum tg_err tg_rec_supplier_insert(struct tg_db *db, const struct tg_supplier *s,
				   int64_t *ret_id, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO supplier (name, country, status, max_tier, cii, review_ref, "
		    "review_expires, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) RETURNING id;",
		&st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, s->name);
	tg_db_bind_text(st, 2, s->country);
	tg_db_bind_text(st, 3, s->status);
	tg_db_bind_int(st, 4, s->max_tier);
	tg_db_bind_int(st, 5, s->cii);
	tg_db_bind_text(st, 6, s->review_ref);
	tg_db_bind_text(st, 7, s->review_expires);
	tg_db_bind_text(st, 8, s->created_at);
	r = insert_id(db, st, ret_id, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "supplier '%s' is already in the records", s->name);
	return r;
}

enum tg_err tg_rec_supplier_set_status(struct tg_db *db, int64_t id, const char *status,
				       struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(
		db, "UPDATE supplier SET status = ?1, updated_at = ?2 WHERE id = ?3;", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, status);
	tg_db_bind_text(st, 2, now);
	tg_db_bind_int(st, 3, id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_supplier_update(struct tg_db *db, const struct tg_supplier *s, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(db, "UPDATE supplier SET country = ?1, status = ?2, max_tier = ?3, cii = ?4, "
					  "review_ref = ?5, review_expires = ?6, updated_at = ?7 WHERE id = ?8;", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, s->country);
	tg_db_bind_text(st, 2, s->status);
	tg_db_bind_int(st, 3, s->max_tier);
	tg_db_bind_int(st, 4, s->cii);
	tg_db_bind_text(st, 5, s->review_ref);
	tg_db_bind_text(st, 6, s->review_expires);
	tg_db_bind_text(st, 7, now);
	tg_db_bind_int(st, 8, s->id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_supplier_each(struct tg_db *db, tg_supplier_cb cb, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " SUPPLIER_COLS " FROM supplier ORDER BY name;",
				      &st, d);

	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_supplier s = { 0 };
		supplier_from_row(st, &s);
		r = cb(&s, ud);
		tg_supplier_release(&s);
	}
	return r;
}

/* ----------------------------------------------------------------- key */

#define KEY_COLS "k.id, k.supplier_id, s.name, k.fingerprint, k.algorithm, k.bits, k.hashes, " \
		 "k.purposes, k.name, k.spki, k.cert, k.not_before, k.not_after, k.added_at, "  \
		 "k.revoked_at, k.revoke_reason, k.fit_required, k.fit_mode, k.fit_group"

static bool copy_blob(struct tg_stmt *st, int i, uint8_t **ret, size_t *ret_len)
{
	size_t n = 0;
	const void *p = tg_db_col_blob(st, i, &n);

	*ret = NULL;
	*ret_len = 0;
	if (!p)
		return true;
	*ret = malloc(n ? n : 1);
	if (!*ret)
		return false;
	memcpy(*ret, p, n);
	*ret_len = n;
	return true;
}

static bool key_from_row(struct tg_stmt *st, struct tg_keyrec *k)
{
	k->id = tg_db_col_int(st, 0);
	k->supplier_id = tg_db_col_int(st, 1);
	k->supplier = tg_db_col_text(st, 2);
	k->fingerprint = tg_db_col_text(st, 3);
	k->algorithm = tg_db_col_text(st, 4);
	k->bits = (int)tg_db_col_int(st, 5);
	k->hashes = tg_db_col_text(st, 6);
	k->purposes = tg_db_col_text(st, 7);
	k->name = tg_db_col_text(st, 8);
	k->not_before = tg_db_col_text(st, 11);
	k->not_after = tg_db_col_text(st, 12);
	k->added_at = tg_db_col_text(st, 13);
	k->revoked_at = tg_db_col_text(st, 14);
	k->revoke_reason = tg_db_col_text(st, 15);
	k->fit_required = tg_db_col_text(st, 16);
	k->fit_mode = tg_db_col_text(st, 17);
	k->fit_group = tg_db_col_text(st, 18);
	return copy_blob(st, 9, &k->spki, &k->spki_len) && copy_blob(st, 10, &k->cert, &k->cert_len);
}

enum tg_err tg_rec_key_insert(struct tg_db *db, const struct tg_keyrec *k, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO key (supplier_id, fingerprint, algorithm, bits, hashes, purposes, "
		    "name, spki, cert, not_before, not_after, added_at, fit_required, fit_mode, fit_group) "
		    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15);", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, k->supplier_id);
	tg_db_bind_text(st, 2, k->fingerprint);
	tg_db_bind_text(st, 3, k->algorithm);
	tg_db_bind_int(st, 4, k->bits);
	tg_db_bind_text(st, 5, k->hashes);
	tg_db_bind_text(st, 6, k->purposes);
	tg_db_bind_text(st, 7, k->name);
	tg_db_bind_blob(st, 8, k->spki, k->spki_len);
	tg_db_bind_blob(st, 9, k->cert, k->cert_len);
	tg_db_bind_text(st, 10, k->not_before);
	tg_db_bind_text(st, 11, k->not_after);
	tg_db_bind_text(st, 12, k->added_at);
	tg_db_bind_text(st, 13, k->fit_required);
	tg_db_bind_text(st, 14, k->fit_mode);
	tg_db_bind_text(st, 15, k->fit_group);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "key %s is already in the records", k->fingerprint);
	return r;
}

enum tg_err tg_rec_key_get(struct tg_db *db, const char *fingerprint, struct tg_keyrec *ret,
			   struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " KEY_COLS " FROM key k JOIN supplier s ON "
					  "s.id = k.supplier_id WHERE k.fingerprint = ?1;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, fingerprint);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return tg_fail(d, TG_E_NOTFOUND, "key %s is not in the records", fingerprint);
	if (!key_from_row(st, ret))
		return TG_E_NOMEM;
	return TG_OK;
}

enum tg_err tg_rec_key_resolve(struct tg_db *db, const char *prefix, char out[65], struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char low[65], end[66];
	size_t n = prefix ? strlen(prefix) : 0;
	bool row = false;
	enum tg_err r;

	if (n < 8 || n > 64 || strspn(prefix, "0123456789abcdefABCDEF") != n)
		return tg_fail(d, TG_E_USAGE, "'%.70s' is not a key fingerprint (at least 8 of its hex digits)",
			       strspn(prefix ? prefix : "", "0123456789abcdefABCDEF") == n ? prefix : "(not hex)");
	for (size_t i = 0; i <= n; i++)
		low[i] = (char)tolower((unsigned char)prefix[i]);
	/* [prefix, prefix + 'g'): every lowercase hex string starting with it,
	 * through the unique index on fingerprint. */
	snprintf(end, sizeof(end), "%sg", low);
	r = tg_db_prepare(db, "SELECT fingerprint FROM key WHERE fingerprint >= ?1 AND fingerprint < ?2 "
			      "ORDER BY fingerprint LIMIT 2;", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, low);
	tg_db_bind_text(st, 2, end);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return tg_fail(d, TG_E_NOTFOUND, "no key in the records has a fingerprint starting with %s", low);
	snprintf(out, 65, "%s", tg_db_col_str(st, 0));
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (row)
		return tg_fail(d, TG_E_USAGE, "fingerprint prefix %s is ambiguous: %s... and %.16s... both start with it "
			       "(give more digits)", low, out, tg_db_col_str(st, 0));
	return TG_OK;
}

enum tg_err tg_rec_key_revoke(struct tg_db *db, int64_t id, const char *when, const char *reason,
			      struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "UPDATE key SET revoked_at = ?1, revoke_reason = ?2 WHERE id = ?3;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, when);
	tg_db_bind_text(st, 2, reason);
	tg_db_bind_int(st, 3, id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_key_each(struct tg_db *db, int64_t supplier_id, tg_key_cb cb, void *ud,
			    struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " KEY_COLS " FROM key k JOIN supplier s ON "
					  "s.id = k.supplier_id WHERE ?1 = 0 OR k.supplier_id = ?1 "
					  "ORDER BY k.id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, supplier_id);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_keyrec k = { 0 };
		if (!key_from_row(st, &k)) {
			tg_keyrec_release(&k);
			return TG_E_NOMEM;
		}
		r = cb(&k, ud);
		tg_keyrec_release(&k);
	}
	return r;
}

/* ------------------------------------------------------------- product */

#define PRODUCT_COLS "p.id, p.supplier_id, s.name, p.name, p.kind, p.max_tier, p.min_version, " \
		     "p.guid, p.created_at, p.allow"

static void product_from_row(struct tg_stmt *st, struct tg_product *p)
{
	p->id = tg_db_col_int(st, 0);
	p->supplier_id = tg_db_col_int(st, 1);
	p->supplier = tg_db_col_text(st, 2);
	p->name = tg_db_col_text(st, 3);
	p->kind = tg_db_col_text(st, 4);
	p->max_tier = (int)tg_db_col_int(st, 5);
	p->min_version = tg_db_col_text(st, 6);
	p->guid = tg_db_col_text(st, 7);
	p->created_at = tg_db_col_text(st, 8);
	p->allow = tg_db_col_text(st, 9);
}

enum tg_err tg_rec_product_insert(struct tg_db *db, const struct tg_product *p,
				  int64_t *ret_id, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO product (supplier_id, name, kind, max_tier, min_version, guid, "
		    "created_at, allow) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, p->supplier_id);
	tg_db_bind_text(st, 2, p->name);
	tg_db_bind_text(st, 3, p->kind);
	tg_db_bind_int(st, 4, p->max_tier);
	tg_db_bind_text(st, 5, p->min_version);
	tg_db_bind_text(st, 6, p->guid);
	tg_db_bind_text(st, 7, p->created_at);
	tg_db_bind_text(st, 8, p->allow);
	r = insert_id(db, st, ret_id, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "product '%s' of '%s' is already in the records",
			       p->name, p->supplier ? p->supplier : "?");
	return r;
}

enum tg_err tg_rec_product_update(struct tg_db *db, const struct tg_product *p, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db, "UPDATE product SET max_tier = ?1, min_version = ?2, guid = ?3, allow = ?4 "
					  "WHERE id = ?5;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, p->max_tier);
	tg_db_bind_text(st, 2, p->min_version);
	tg_db_bind_text(st, 3, p->guid);
	tg_db_bind_text(st, 4, p->allow);
	tg_db_bind_int(st, 5, p->id);
	return tg_db_exec_stmt(db, st, d);
}

static enum tg_err product_one(struct tg_db *db, const char *sql, int64_t a, const char *b,
			       struct tg_product *ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, sql, &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, a);
	if (b)
		tg_db_bind_text(st, 2, b);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return tg_fail(d, TG_E_NOTFOUND, "product '%s' is not in the records", b ? b : "?");
	product_from_row(st, ret);
	return TG_OK;
}

enum tg_err tg_rec_product_each(struct tg_db *db, int64_t supplier_id, tg_product_cb cb, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " PRODUCT_COLS " FROM product p JOIN supplier s ON s.id = p.supplier_id "
					  "WHERE ?1 = 0 OR p.supplier_id = ?1 ORDER BY s.name, p.name;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, supplier_id);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_product p = { 0 };
		product_from_row(st, &p);
		r = cb(&p, ud);
		tg_product_release(&p);
	}
	return r;
}

enum tg_err tg_rec_product_get(struct tg_db *db, int64_t supplier_id, const char *name,
			       struct tg_product *ret, struct tg_diag *d)
{
	return product_one(db, "SELECT " PRODUCT_COLS " FROM product p JOIN supplier s ON "
			       "s.id = p.supplier_id WHERE p.supplier_id = ?1 AND p.name = ?2;",
			   supplier_id, name, ret, d);
}

enum tg_err tg_rec_product_by_guid(struct tg_db *db, int64_t supplier_id, const char *guid,
				   struct tg_product *ret, struct tg_diag *d)
{
	return product_one(db, "SELECT " PRODUCT_COLS " FROM product p JOIN supplier s ON "
			       "s.id = p.supplier_id WHERE p.supplier_id = ?1 AND p.guid = ?2;",
			   supplier_id, guid, ret, d);
}

enum tg_err tg_rec_product_get_id(struct tg_db *db, int64_t id, struct tg_product *ret,
				  struct tg_diag *d)
{
	return product_one(db, "SELECT " PRODUCT_COLS " FROM product p JOIN supplier s ON "
			       "s.id = p.supplier_id WHERE p.id = ?1;", id, NULL, ret, d);
}

enum tg_err tg_rec_product_find(struct tg_db *db, const char *name, int *ret_count,
				struct tg_product *ret_first, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	int count = 0;
	enum tg_err r = tg_db_prepare(db, "SELECT " PRODUCT_COLS " FROM product p JOIN supplier s "
					  "ON s.id = p.supplier_id WHERE p.name = ?1 ORDER BY p.id;",
				      &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, name);
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK) {
			if (count)
				tg_product_release(ret_first);
			return r;
		}
		if (!row)
			break;
		if (count++ == 0)
			product_from_row(st, ret_first);
	}
	*ret_count = count;
	return TG_OK;
}

/* ------------------------------------------------------------- release */

#define RELEASE_COLS "r.id, r.product_id, r.version, r.digest_alg, r.digest, r.status, " \
		     "r.created_at, r.revoked_at, p.name, s.name"
#define RELEASE_FROM " FROM release r JOIN product p ON p.id = r.product_id " \
		     "JOIN supplier s ON s.id = p.supplier_id "

static void release_from_row(struct tg_stmt *st, struct tg_release *r)
{
	r->id = tg_db_col_int(st, 0);
	r->product_id = tg_db_col_int(st, 1);
	r->version = tg_db_col_text(st, 2);
	r->digest_alg = tg_db_col_text(st, 3);
	r->digest = tg_db_col_text(st, 4);
	r->status = tg_db_col_text(st, 5);
	r->created_at = tg_db_col_text(st, 6);
	r->revoked_at = tg_db_col_text(st, 7);
	r->product = tg_db_col_text(st, 8);
	r->supplier = tg_db_col_text(st, 9);
}

enum tg_err tg_rec_release_insert(struct tg_db *db, const struct tg_release *rel,
				  struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct tg_release same = { 0 };
	char canon[TG_MAX_VERSION + 1];
	enum tg_err r;

	/* Stored in the one canonical spelling of its version, and never a
	 * second release of a version equal to a recorded one. */
	if (!tg_version_canonical(rel->version, canon, sizeof(canon)) || strcmp(canon, rel->version) != 0)
		return tg_fail(d, TG_E_USAGE, "release version %s is not in canonical form", rel->version);
	r = tg_rec_release_get(db, rel->product_id, rel->version, &same, d);
	if (r == TG_OK) {
		r = tg_fail(d, TG_E_EXISTS, "release %s is already in the records (as %s)", rel->version, same.version);
		tg_release_release(&same);
		return r;
	}
	if (r != TG_E_NOTFOUND)
		return r;
	r = tg_db_prepare(db, "INSERT INTO release (product_id, version, digest_alg, digest, status, created_at) "
			      "VALUES (?1, ?2, ?3, ?4, 'approved', ?5);", &st, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, rel->product_id);
	tg_db_bind_text(st, 2, rel->version);
	tg_db_bind_text(st, 3, rel->digest_alg);
	tg_db_bind_text(st, 4, rel->digest);
	tg_db_bind_text(st, 5, rel->created_at);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "release %s is already in the records", rel->version);
	return r;
}

enum tg_err tg_rec_release_get(struct tg_db *db, int64_t product_id, const char *version,
			       struct tg_release *ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false, found = false;
	/* Versions are equal as dpkg orders them ("2.00", "0:2.0" and "2.0-0"
	 * are one version), never as strings: a spelling must not escape a
	 * revocation.  Records written before versions were stored in their
	 * canonical form may hold two spellings of one version: a revoked one
	 * wins. */
	enum tg_err r = tg_db_prepare(db, "SELECT " RELEASE_COLS RELEASE_FROM
					  "WHERE r.product_id = ?1 ORDER BY r.id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, product_id);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		_cleanup_free_ char *v = tg_db_col_text(st, 2);
		if (!v || tg_version_cmp(v, version) != 0)
			continue;
		if (found) {
			struct tg_release other = { 0 };
			release_from_row(st, &other);
			if (strcmp(ret->status, "revoked") != 0 && strcmp(other.status, "revoked") == 0) {
				tg_release_release(ret);
				*ret = other;
			} else {
				tg_release_release(&other);
			}
			continue;
		}
		release_from_row(st, ret);
		found = true;
	}
	if (r != TG_OK) {
		if (found)
			tg_release_release(ret);
		return r;
	}
	if (!found)
		return tg_fail(d, TG_E_NOTFOUND, "release %s is not in the records", version);
	return TG_OK;
}

enum tg_err tg_rec_release_revoke(struct tg_db *db, int64_t id, const char *when,
				  struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "UPDATE release SET status = 'revoked', revoked_at = ?1 WHERE id = ?2;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, when);
	tg_db_bind_int(st, 2, id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_release_each(struct tg_db *db, int64_t product_id, const char *digest_alg, const char *digest,
				tg_release_cb cb, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " RELEASE_COLS RELEASE_FROM
					  "WHERE (?1 = 0 OR r.product_id = ?1) AND "
					  "(?2 IS NULL OR (r.digest = ?2 AND r.digest_alg = ?3)) ORDER BY r.id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, product_id);
	tg_db_bind_text(st, 2, digest);
	tg_db_bind_text(st, 3, digest_alg);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_release rel = { 0 };
		release_from_row(st, &rel);
		r = cb(&rel, ud);
		tg_release_release(&rel);
	}
	return r;
}

enum tg_err tg_rec_release_algs(struct tg_db *db, unsigned *ret_mask, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	unsigned mask = 0;
	enum tg_err r = tg_db_prepare(db, "SELECT DISTINCT digest_alg FROM release;", &st, d);

	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		_cleanup_free_ char *alg = tg_db_col_text(st, 0);
		enum tg_hash h = alg ? tg_hash_from_name(alg) : TG_HASH_NONE;
		/* A release in an algorithm this build cannot compute could never
		 * be matched, so its revocation could not be seen: refuse. */
		if (h == TG_HASH_NONE)
			return tg_fail(d, TG_E_DB, "records: a release uses digest algorithm '%s', which is not known",
				       alg ? alg : "");
		mask |= 1u << h;
	}
	if (r == TG_OK)
		*ret_mask = mask;
	return r;
}

/* ------------------------------------------------------------- verdict */

enum tg_err tg_rec_verdict_insert(struct tg_db *db, const struct tg_verdict_row *v,
				  int64_t *ret_id, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO verdict (time, actor, command, kind, subject_path, subject_sha256, "
		    "subject_size, result, tier, cii, gm, supplier, product, version, "
		    "key_fingerprint, report, nonce, supersedes, audit_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
		    "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19) RETURNING id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, now);
	tg_db_bind_text(st, 2, v->actor);
	tg_db_bind_text(st, 3, v->command);
	tg_db_bind_text(st, 4, v->kind);
	tg_db_bind_text(st, 5, v->subject_path);
	tg_db_bind_text(st, 6, v->subject_sha256);
	tg_db_bind_int(st, 7, (int64_t)v->subject_size);
	tg_db_bind_text(st, 8, v->result);
	tg_db_bind_int(st, 9, v->tier);
	tg_db_bind_int(st, 10, v->cii);
	tg_db_bind_int(st, 11, v->gm);
	tg_db_bind_text(st, 12, v->supplier);
	tg_db_bind_text(st, 13, v->product);
	tg_db_bind_text(st, 14, v->version);
	tg_db_bind_text(st, 15, v->key_fingerprint);
	tg_db_bind_text(st, 16, v->report);
	tg_db_bind_text(st, 17, v->nonce);
	if (v->supersedes)
		tg_db_bind_int(st, 18, v->supersedes);
	else
		tg_db_bind_null(st, 18);
	if (v->audit_seq)
		tg_db_bind_int(st, 19, v->audit_seq);
	else
		tg_db_bind_null(st, 19);
	return insert_id(db, st, ret_id, d);
}

/* ---------------------------------------------------------------- host */

void tg_host_release(struct tg_host *h)
{
	free(h->name);
	free(h->model);
	free(h->ak_name);
	free(h->ak_fingerprint);
	free(h->status);
	free(h->enrolled_at);
	free(h->ak_public);
	free(h->ek_public);
	free(h->ek_cert);
	memset(h, 0, sizeof(*h));
}

#define HOST_COLS "id, name, tier, model, ak_public, ak_name, ak_fingerprint, ek_public, ek_cert, " \
		  "status, enrolled_at, last_clock, last_reset, last_restart"

static bool host_from_row(struct tg_stmt *st, struct tg_host *h)
{
	h->id = tg_db_col_int(st, 0);
	h->name = tg_db_col_text(st, 1);
	h->tier = (int)tg_db_col_int(st, 2);
	h->model = tg_db_col_text(st, 3);
	h->ak_name = tg_db_col_text(st, 5);
	h->ak_fingerprint = tg_db_col_text(st, 6);
	h->status = tg_db_col_text(st, 9);
	h->enrolled_at = tg_db_col_text(st, 10);
	h->has_clock = !tg_db_col_is_null(st, 11);
	h->last_clock = tg_db_col_int(st, 11);
	h->last_reset = tg_db_col_int(st, 12);
	h->last_restart = tg_db_col_int(st, 13);
	return copy_blob(st, 4, &h->ak_public, &h->ak_public_len) &&
	       copy_blob(st, 7, &h->ek_public, &h->ek_public_len) &&
	       copy_blob(st, 8, &h->ek_cert, &h->ek_cert_len);
}

enum tg_err tg_rec_host_update(struct tg_db *db, const struct tg_host *h, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db, "UPDATE host SET model = ?1, tier = ?2, status = ?3 WHERE id = ?4;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, h->model);
	tg_db_bind_int(st, 2, h->tier);
	tg_db_bind_text(st, 3, h->status);
	tg_db_bind_int(st, 4, h->id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_host_insert(struct tg_db *db, const struct tg_host *h, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO host (name, tier, model, ak_public, ak_name, ak_fingerprint, ek_public, "
		    "ek_cert, status, enrolled_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'enrolled', ?9);",
		&st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, h->name);
	tg_db_bind_int(st, 2, h->tier);
	tg_db_bind_text(st, 3, h->model);
	tg_db_bind_blob(st, 4, h->ak_public, h->ak_public_len);
	tg_db_bind_text(st, 5, h->ak_name);
	tg_db_bind_text(st, 6, h->ak_fingerprint);
	tg_db_bind_blob(st, 7, h->ek_public, h->ek_public_len);
	tg_db_bind_blob(st, 8, h->ek_cert, h->ek_cert_len);
	tg_db_bind_text(st, 9, h->enrolled_at);
	r = tg_db_exec_stmt(db, st, d);
	if (r == TG_E_EXISTS)
		return tg_fail(d, TG_E_EXISTS, "host '%s' is already enrolled; its TPM identity does not "
					       "change by enrolling again", h->name);
	return r;
}

enum tg_err tg_rec_host_get(struct tg_db *db, const char *name, struct tg_host *ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " HOST_COLS " FROM host WHERE name = ?1;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, name);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	if (!row)
		return tg_fail(d, TG_E_NOTFOUND, "host '%s' is not enrolled", name);
	if (!host_from_row(st, ret))
		return TG_E_NOMEM;
	return TG_OK;
}

enum tg_err tg_rec_host_set_clock(struct tg_db *db, int64_t id, uint64_t clock, uint32_t reset,
				  uint32_t restart, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(db, "UPDATE host SET last_clock = ?1, last_reset = ?2, "
					  "last_restart = ?3 WHERE id = ?4;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_int(st, 1, (int64_t)clock);
	tg_db_bind_int(st, 2, reset);
	tg_db_bind_int(st, 3, restart);
	tg_db_bind_int(st, 4, id);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_host_each(struct tg_db *db, tg_host_cb cb, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT " HOST_COLS " FROM host ORDER BY name;", &st, d);

	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_host h = { 0 };
		if (!host_from_row(st, &h)) {
			tg_host_release(&h);
			return TG_E_NOMEM;
		}
		r = cb(&h, ud);
		tg_host_release(&h);
	}
	return r;
}

/* ----------------------------------------------------------- reference */

void tg_reference_release(struct tg_reference *r)
{
	free(r->model);
	free(r->release);
	free(r->alg);
	free(r->digest);
	free(r->description);
	memset(r, 0, sizeof(*r));
}

enum tg_err tg_rec_reference_add(struct tg_db *db, const struct tg_reference *ref, bool *ret_added,
				 struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *q = NULL, *st = NULL;
	bool row = false;
	char now[32];
	enum tg_err r = tg_db_prepare(db, "SELECT id, revoked_at IS NOT NULL FROM reference WHERE model = ?1 AND "
					  "pcr = ?2 AND alg = ?3 AND digest = ?4 AND event_type = ?5;", &q, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(q, 1, ref->model);
	tg_db_bind_int(q, 2, ref->pcr);
	tg_db_bind_text(q, 3, ref->alg);
	tg_db_bind_text(q, 4, ref->digest);
	tg_db_bind_int(q, 5, ref->event_type);
	r = tg_db_step(db, q, &row, d);
	if (r != TG_OK)
		return r;
	*ret_added = !row;
	/* A value withdrawn with its model's golden state and found again
	 * in a new golden log is known again (a digest revoked as known-bad
	 * stays refused through measurement_revoked). */
	if (row && tg_db_col_int(q, 1)) {
		int64_t id = tg_db_col_int(q, 0);
		*ret_added = true;
		r = tg_db_prepare(db, "UPDATE reference SET revoked_at = NULL WHERE id = ?1;", &st, d);
		if (r != TG_OK)
			return r;
		tg_db_bind_int(st, 1, id);
		return tg_db_exec_stmt(db, st, d);
	}
	if (row)
		return TG_OK;
	r = tg_db_prepare(db, "INSERT INTO reference (model, pcr, alg, digest, event_type, description, "
			      "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7);", &st, d);
	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, ref->model);
	tg_db_bind_int(st, 2, ref->pcr);
	tg_db_bind_text(st, 3, ref->alg);
	tg_db_bind_text(st, 4, ref->digest);
	tg_db_bind_int(st, 5, ref->event_type);
	tg_db_bind_text(st, 6, ref->description);
	tg_db_bind_text(st, 7, now);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_reference_each(struct tg_db *db, const char *model, bool releases, int pcr,
				  tg_reference_cb cb, void *ud, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	/* Release references count only while their release is approved. */
	enum tg_err r = tg_db_prepare(
		db, "SELECT f.id, f.model, s.name || '/' || p.name || '/' || rl.version, f.pcr, f.alg, "
		    "f.digest, f.event_type, f.description, f.revoked_at IS NOT NULL FROM reference f "
		    "LEFT JOIN release rl ON rl.id = f.release_id LEFT JOIN product p ON p.id = rl.product_id "
		    "LEFT JOIN supplier s ON s.id = p.supplier_id "
		    "WHERE ((?1 IS NOT NULL AND f.model = ?1) OR (?2 <> 0 AND f.release_id IS NOT NULL AND "
		    "rl.status = 'approved')) AND (?3 < 0 OR f.pcr = ?3) ORDER BY f.pcr, f.id;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, model);
	tg_db_bind_int(st, 2, releases);
	tg_db_bind_int(st, 3, pcr);
	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_reference ref = { 0 };
		ref.id = tg_db_col_int(st, 0);
		ref.model = tg_db_col_text(st, 1);
		ref.release = tg_db_col_text(st, 2);
		ref.pcr = (int)tg_db_col_int(st, 3);
		ref.alg = tg_db_col_text(st, 4);
		ref.digest = tg_db_col_text(st, 5);
		ref.event_type = (uint32_t)tg_db_col_int(st, 6);
		ref.description = tg_db_col_text(st, 7);
		ref.revoked = tg_db_col_int(st, 8) != 0;
		r = cb(&ref, ud);
		tg_reference_release(&ref);
	}
	return r;
}

/* SHA-256 over "pcr|alg|digest|event_type\n" lines in a canonical order:
 * the rows of one model, or of one release; a revoked row's line ends
 * "|revoked", so a revocation undone with sqlite3 changes the digest its
 * audit row recorded. */
static enum tg_err set_digest(struct tg_db *db, const char *model, int64_t release_id, char out[65],
			      struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	struct tg_md *md = NULL;
	uint8_t h[32];
	bool row = false;
	enum tg_err r = tg_db_prepare(db, model ? "SELECT pcr, alg, digest, event_type, revoked_at IS NOT NULL FROM "
						  "reference WHERE model = ?1 ORDER BY pcr, alg, digest, event_type;" :
						  "SELECT pcr, alg, digest, event_type, revoked_at IS NOT NULL FROM "
						  "reference WHERE release_id = ?1 ORDER BY pcr, alg, digest, event_type;", &st, d);

	if (r != TG_OK)
		return r;
	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK)
		return TG_E_CRYPTO;
	if (model)
		tg_db_bind_text(st, 1, model);
	else
		tg_db_bind_int(st, 1, release_id);
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		char line[256];
		int n = snprintf(line, sizeof(line), "%lld|%s|%s|%lld%s\n", (long long)tg_db_col_int(st, 0),
				 tg_db_col_str(st, 1), tg_db_col_str(st, 2),
				 (long long)tg_db_col_int(st, 3), tg_db_col_int(st, 4) ? "|revoked" : "");
		tg_md_write(md, line, n > 0 && (size_t)n < sizeof(line) ? (size_t)n : 0);
	}
	tg_md_final(md, h);
	tg_md_free(md);
	tg_hex_encode(h, 32, out);
	return r;
}

enum tg_err tg_rec_reference_set_digest(struct tg_db *db, const char *model, char out[65],
					struct tg_diag *d)
{
	return set_digest(db, model, 0, out, d);
}

enum tg_err tg_rec_release_reference_set_digest(struct tg_db *db, int64_t release_id, char out[65],
						struct tg_diag *d)
{
	return set_digest(db, NULL, release_id, out, d);
}

enum tg_err tg_rec_reference_revoke(struct tg_db *db, const char *model, int64_t release_id, const char *alg,
				    const char *digest, size_t *ret_count, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(db, "UPDATE reference SET revoked_at = ?1 WHERE revoked_at IS NULL AND "
					  "((?2 IS NOT NULL AND model = ?2) OR (?3 > 0 AND release_id = ?3) OR "
					  "(?4 IS NOT NULL AND alg = ?4 AND digest = ?5));", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, now);
	tg_db_bind_text(st, 2, model);
	tg_db_bind_int(st, 3, release_id);
	tg_db_bind_text(st, 4, alg);
	tg_db_bind_text(st, 5, digest);
	r = tg_db_exec_stmt(db, st, d);
	*ret_count = r == TG_OK ? (size_t)tg_db_changes(db) : 0;
	return r;
}

enum tg_err tg_rec_measurement_deny(struct tg_db *db, const char *alg, const char *digest, const char *reason,
				    struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(db, "INSERT INTO measurement_revoked (alg, digest, reason, created_at) "
					  "VALUES (?1, ?2, ?3, ?4);", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_text(st, 1, alg);
	tg_db_bind_text(st, 2, digest);
	tg_db_bind_text(st, 3, reason);
	tg_db_bind_text(st, 4, now);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_rec_measurement_denied(struct tg_db *db, char ***ret, size_t *ret_n, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char **v = NULL;
	size_t n = 0, cap = 0;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT alg || ':' || digest FROM measurement_revoked ORDER BY 1;", &st, d);

	while (r == TG_OK) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		if ((r = tg_grow(v, cap, n + 1, 8)) != TG_OK)
			break;
		if (!(v[n] = tg_db_col_text(st, 0))) {
			r = TG_E_NOMEM;
			break;
		}
		n++;
	}
	if (r != TG_OK) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return r;
	}
	*ret = v;
	*ret_n = n;
	return TG_OK;
}

enum tg_err tg_rec_reference_add_release(struct tg_db *db, int64_t release_id, const struct tg_reference *ref,
					 struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	char now[32];
	enum tg_err r = tg_db_prepare(db, "INSERT INTO reference (release_id, pcr, alg, digest, event_type, "
					  "description, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7);", &st, d);

	if (r != TG_OK)
		return r;
	tg_now_iso(now);
	tg_db_bind_int(st, 1, release_id);
	tg_db_bind_int(st, 2, ref->pcr);
	tg_db_bind_text(st, 3, ref->alg);
	tg_db_bind_text(st, 4, ref->digest);
	tg_db_bind_int(st, 5, ref->event_type);
	tg_db_bind_text(st, 6, ref->description);
	tg_db_bind_text(st, 7, now);
	return tg_db_exec_stmt(db, st, d);
}
