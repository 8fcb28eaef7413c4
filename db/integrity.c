/*
 * Records bound to their audit history (THREATS case 57).
 *
 * Every mutation writes the new state of its record into an audit row.  A
 * decision re-derives each record it relies on from those rows — supplier,
 * signing key, product, releases — and compares with the row in the table.
 * A status flipped, a key inserted or a floor lowered with the sqlite3 CLI
 * has no matching audit history and is refused.  Each audit row used is
 * re-hashed and must link to the stored hash of the row before it; the whole
 * chain is `audit verify`'s job, and a consistent rewrite of the chain needs
 * the TPM anchor of a later issue.
 */
#include <string.h>

#include <json-c/json.h>

#include "integrity.h"
#include "../common/crypto.h"
#include "../common/encoding.h"

static bool same(const char *a, const char *b)
{
	if (!a || !*a)
		return !b || !*b;
	return b && strcmp(a, b) == 0;
}

static const char *jstr(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v || json_object_is_type(v, json_type_null))
		return NULL;
	return json_object_get_string(v);
}

static bool jhas(struct json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/* A change row (supplier.set, product.set, host.set) carries the fields it
 * wrote; older rows carried fewer (supplier.set: status only), so only the
 * fields present are applied. */
#define SET_STR(o, key, dst) \
	do { if (jhas(o, key)) copy(dst, sizeof(dst), jstr(o, key)); } while (0)
#define SET_INT(o, key, dst) \
	do { if (jhas(o, key)) dst = jint(o, key, -1); } while (0)

static int64_t jint(struct json_object *o, const char *key, int64_t dflt)
{
	if (json_object_is_type(o, json_type_null))
		return dflt;
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return dflt;
	return json_object_get_int64(v);
}

typedef void (*apply_fn)(const char *action, struct json_object *detail, void *state);

/* Replay the audit rows of one object, oldest first, into state.  Returns
 * the number of rows applied (0: the record has no history at all). */
static enum tg_err replay(struct tg_db *db, const char *object, const char *prefix, apply_fn fn,
			  void *state, int *ret_rows, char *why, size_t whylen, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	int rows = 0;
	/* Only this kind's rows, through the (object, action) index: a host's
	 * attestations share its name as object and are not read.  Each row
	 * comes with the stored hash of the row before it (one statement,
	 * not one per row: a round trip each on PostgreSQL). */
	enum tg_err r = tg_db_prepare(db, "SELECT a.seq, a.time, a.actor, a.action, a.object, a.detail, a.prev_hash, "
					  "a.hash, p.hash FROM audit a LEFT JOIN audit p ON p.seq = a.seq - 1 "
					  "WHERE a.object = ?1 AND a.action >= ?2 AND a.action < ?3 ORDER BY a.seq;", &st, d);
	char upto[32];
	size_t pl = strlen(prefix);

	if (r != TG_OK)
		return r;
	if (pl == 0 || pl >= sizeof(upto))
		return tg_fail(d, TG_E_DB, "audit replay: bad prefix");
	memcpy(upto, prefix, pl + 1);
	upto[pl - 1]++;   /* "host." .. "host/": every action beginning "host." */
	tg_db_bind_text(st, 1, object);
	tg_db_bind_text(st, 2, prefix);
	tg_db_bind_text(st, 3, upto);
	*ret_rows = 0;
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK)
			return r;
		if (!row)
			break;
		struct tg_audit_row ar;
		tg_audit_row_get(st, &ar);
		int64_t seq = ar.seq;
		if (strncmp(ar.action, prefix, strlen(prefix)) != 0)
			continue; /* e.g. a check whose object is a digest */
		if (!tg_audit_row_hash_ok(&ar)) {
			snprintf(why, whylen, "audit row %lld of %s was altered", (long long)seq, object);
			return TG_OK;
		}
		/* A row moved or inserted into the history does not link to
		 * the stored row before it. */
		const char *ph = tg_db_col_str(st, 8);
		if (seq > 1 && (!ph || strcmp(ph, ar.prev_hash) != 0)) {
			snprintf(why, whylen, "audit row %lld of %s does not link to row %lld", (long long)seq,
				 object, (long long)seq - 1);
			return TG_OK;
		}
		struct json_object *detail = json_tokener_parse(ar.detail);
		if (!detail) {
			snprintf(why, whylen, "audit row %lld of %s is unreadable", (long long)seq, object);
			return TG_OK;
		}
		fn(ar.action, detail, state);
		json_object_put(detail);
		rows++;
	}
	*ret_rows = rows;
	return TG_OK;
}

/* ------------------------------------------------------------ supplier */

struct supplier_state {
	char status[16], country[8], review[TG_MAX_NAME + 1], review_expires[32];
	int64_t max_tier;
	bool cii;
};

static void copy(char *dst, size_t n, const char *src)
{
	snprintf(dst, n, "%s", src ? src : "");
}

static void apply_supplier(const char *action, struct json_object *o, void *state)
{
	struct supplier_state *s = state;

	if (strcmp(action, "supplier.add") == 0) {
		copy(s->status, sizeof(s->status), jstr(o, "status"));
		copy(s->country, sizeof(s->country), jstr(o, "country"));
		copy(s->review, sizeof(s->review), jstr(o, "review"));
		copy(s->review_expires, sizeof(s->review_expires), jstr(o, "review_expires"));
		s->max_tier = jint(o, "max_tier", -1);
		s->cii = jint(o, "cii", 0) != 0;
	} else if (strcmp(action, "supplier.set") == 0) {
		SET_STR(o, "status", s->status);
		SET_STR(o, "country", s->country);
		SET_STR(o, "review", s->review);
		SET_STR(o, "review_expires", s->review_expires);
		SET_INT(o, "max_tier", s->max_tier);
		if (jhas(o, "cii"))
			s->cii = jint(o, "cii", 0) != 0;
	}
}

enum tg_err tg_integrity_supplier(struct tg_db *db, const struct tg_supplier *s, char *why,
				  size_t whylen, struct tg_diag *d)
{
	struct supplier_state st = { .max_tier = -1 };
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	r = replay(db, s->name, "supplier.", apply_supplier, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	if (rows == 0)
		snprintf(why, whylen, "supplier %s has no audit history (inserted outside trustgate)", s->name);
	else if (!same(st.status, s->status) || st.max_tier != s->max_tier || st.cii != s->cii ||
		 !same(st.country, s->country) || !same(st.review, s->review_ref) ||
		 !same(st.review_expires, s->review_expires))
		snprintf(why, whylen, "supplier %s differs from its audit history (status %s, recorded %s)",
			 s->name, s->status, st.status);
	return TG_OK;
}

/* ----------------------------------------------------------------- key */

struct key_state {
	char supplier[TG_MAX_NAME + 1], hashes[64], purposes[64], not_before[32], not_after[32];
	char algorithm[40], fit_required[8], fit_mode[8], fit_group[65];
	bool added, revoked;
};

static void apply_key(const char *action, struct json_object *o, void *state)
{
	struct key_state *k = state;

	if (strcmp(action, "key.add") == 0) {
		k->added = true;
		copy(k->supplier, sizeof(k->supplier), jstr(o, "supplier"));
		copy(k->hashes, sizeof(k->hashes), jstr(o, "hashes"));
		copy(k->purposes, sizeof(k->purposes), jstr(o, "purposes"));
		copy(k->not_before, sizeof(k->not_before), jstr(o, "not_before"));
		copy(k->not_after, sizeof(k->not_after), jstr(o, "not_after"));
		copy(k->algorithm, sizeof(k->algorithm), jstr(o, "algorithm"));
		copy(k->fit_required, sizeof(k->fit_required), jstr(o, "fit_required"));
		copy(k->fit_mode, sizeof(k->fit_mode), jstr(o, "fit_mode"));
		copy(k->fit_group, sizeof(k->fit_group), jstr(o, "fit_group"));
	} else if (strcmp(action, "key.revoke") == 0) {
		k->revoked = true;
	}
}

enum tg_err tg_integrity_key(struct tg_db *db, const struct tg_keyrec *k, char *why, size_t whylen,
			     struct tg_diag *d)
{
	struct key_state st = { .added = false };
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	r = replay(db, k->fingerprint, "key.", apply_key, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	if (!st.added)
		snprintf(why, whylen, "key %s has no audit history (inserted outside trustgate)",
			 k->fingerprint);
	else if (!same(st.supplier, k->supplier) || !same(st.hashes, k->hashes) ||
		 !same(st.purposes, k->purposes) || !same(st.not_before, k->not_before) ||
		 !same(st.not_after, k->not_after) || !same(st.algorithm, k->algorithm) ||
		 !same(st.fit_required, k->fit_required) || !same(st.fit_mode, k->fit_mode) ||
		 !same(st.fit_group, k->fit_group) || st.revoked != (k->revoked_at != NULL))
		snprintf(why, whylen, "key %s differs from its audit history%s", k->fingerprint,
			 st.revoked && !k->revoked_at ? " (its revocation was removed)" : "");
	return TG_OK;
}

/* ------------------------------------------------------------- product */

struct product_state {
	char kind[16], min_version[TG_MAX_VERSION + 1], guid[40], allow[64];
	int64_t max_tier;
	bool added;
};

static void apply_product(const char *action, struct json_object *o, void *state)
{
	struct product_state *p = state;

	if (strcmp(action, "product.add") == 0) {
		p->added = true;
		copy(p->kind, sizeof(p->kind), jstr(o, "kind"));
		copy(p->min_version, sizeof(p->min_version), jstr(o, "min_version"));
		copy(p->guid, sizeof(p->guid), jstr(o, "guid"));
		p->max_tier = jint(o, "max_tier", -1);
		copy(p->allow, sizeof(p->allow), jstr(o, "allow"));
	} else if (strcmp(action, "product.set") == 0) {
		SET_STR(o, "allow", p->allow);
		SET_STR(o, "min_version", p->min_version);
		SET_STR(o, "guid", p->guid);
		SET_INT(o, "max_tier", p->max_tier);
	}
}

enum tg_err tg_integrity_product(struct tg_db *db, const struct tg_product *p, char *why,
				 size_t whylen, struct tg_diag *d)
{
	struct product_state st = { .max_tier = -1 };
	char object[2 * TG_MAX_NAME + 2];
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	snprintf(object, sizeof(object), "%s/%s", p->supplier, p->name);
	r = replay(db, object, "product.", apply_product, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	if (!st.added)
		snprintf(why, whylen, "product %s has no audit history (inserted outside trustgate)", object);
	else if (!same(st.kind, p->kind) || !same(st.min_version, p->min_version) ||
		 !same(st.guid, p->guid) || st.max_tier != p->max_tier || !same(st.allow, p->allow))
		snprintf(why, whylen, "product %s differs from its audit history (floor %s, recorded %s; allows %s, "
			 "recorded %s)", object, p->min_version ? p->min_version : "none",
			 st.min_version[0] ? st.min_version : "none", p->allow ? p->allow : "nothing",
			 st.allow[0] ? st.allow : "nothing");
	return TG_OK;
}

/* ------------------------------------------------------------- release */

struct release_state {
	char digest_alg[16], digest[129];
	bool added, revoked;
};

static void apply_release(const char *action, struct json_object *o, void *state)
{
	struct release_state *rs = state;

	if (strcmp(action, "release.add") == 0) {
		rs->added = true;
		copy(rs->digest_alg, sizeof(rs->digest_alg), jstr(o, "digest_alg"));
		copy(rs->digest, sizeof(rs->digest), jstr(o, "digest"));
	} else if (strcmp(action, "release.revoke") == 0) {
		rs->revoked = true;
	}
}

enum tg_err tg_integrity_release(struct tg_db *db, const struct tg_release *rel, char *why,
				 size_t whylen, struct tg_diag *d)
{
	struct release_state st = { .added = false };
	char object[3 * TG_MAX_NAME + 8];
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	snprintf(object, sizeof(object), "%s/%s/%s", rel->supplier, rel->product, rel->version);
	r = replay(db, object, "release.", apply_release, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	if (!st.added)
		snprintf(why, whylen, "release %s has no audit history (inserted outside trustgate)", object);
	else if (!same(st.digest_alg, rel->digest_alg) || !same(st.digest, rel->digest) ||
		 st.revoked != (strcmp(rel->status, "revoked") == 0))
		snprintf(why, whylen, "release %s differs from its audit history", object);
	return TG_OK;
}

/* ---------------------------------------------------------------- host */

struct host_state {
	char model[TG_MAX_NAME + 1], ak_name[140], ak_fingerprint[65], status[16];
	int64_t tier;
	bool enrolled;
};

static void apply_host(const char *action, struct json_object *o, void *state)
{
	struct host_state *h = state;

	if (strcmp(action, "host.enroll") == 0) {
		h->enrolled = true;
		copy(h->model, sizeof(h->model), jstr(o, "model"));
		copy(h->ak_name, sizeof(h->ak_name), jstr(o, "ak_name"));
		copy(h->ak_fingerprint, sizeof(h->ak_fingerprint), jstr(o, "ak_fingerprint"));
		h->tier = jint(o, "tier", -1);
		copy(h->status, sizeof(h->status), "enrolled");
	} else if (strcmp(action, "host.set") == 0) {
		SET_STR(o, "model", h->model);
		SET_INT(o, "tier", h->tier);
	} else if (strcmp(action, "host.retire") == 0) {
		copy(h->status, sizeof(h->status), "retired");
	}
}

enum tg_err tg_integrity_host(struct tg_db *db, const struct tg_host *host, char *why, size_t whylen,
			      struct tg_diag *d)
{
	struct host_state st = { .tier = -1 };
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	r = replay(db, host->name, "host.", apply_host, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	if (!st.enrolled)
		snprintf(why, whylen, "host %s has no audit history (inserted outside trustgate)", host->name);
	else if (!same(st.model, host->model) || !same(st.ak_name, host->ak_name) ||
		 !same(st.ak_fingerprint, host->ak_fingerprint) || st.tier != host->tier ||
		 !same(st.status, host->status))
		snprintf(why, whylen, "host %s differs from its audit history (status %s, recorded %s; or AK, model "
			 "or tier replaced)", host->name, host->status, st.status);
	return TG_OK;
}

/* ----------------------------------------------------------- references */

struct refset_state {
	char digest[65];
};

static void apply_refset(const char *action, struct json_object *o, void *state)
{
	struct refset_state *s = state;

	if (strcmp(action, "reference.import") == 0 || strcmp(action, "reference.revoke") == 0)
		copy(s->digest, sizeof(s->digest), jstr(o, "set_digest"));
	else if (strncmp(action, "release.", 8) == 0 && jstr(o, "reference_set"))
		copy(s->digest, sizeof(s->digest), jstr(o, "reference_set"));
}

enum tg_err tg_integrity_references(struct tg_db *db, const char *model, char *why, size_t whylen,
				    struct tg_diag *d)
{
	struct refset_state st = { "" };
	char now[65];
	int rows = 0;
	enum tg_err r;

	why[0] = '\0';
	r = replay(db, model, "reference.", apply_refset, &st, &rows, why, whylen, d);
	if (r != TG_OK || why[0])
		return r;
	r = tg_rec_reference_set_digest(db, model, now, d);
	if (r != TG_OK)
		return r;
	if (!st.digest[0] && rows == 0) {
		/* no imports: the set must be empty too */
		char empty[65];
		struct tg_md *md = NULL;
		uint8_t h[32];
		if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK)
			return TG_E_CRYPTO;
		tg_md_final(md, h);
		tg_md_free(md);
		tg_hex_encode(h, 32, empty);
		if (strcmp(empty, now) != 0)
			snprintf(why, whylen, "reference values of model %s were inserted outside trustgate", model);
		return TG_OK;
	}
	if (strcmp(st.digest, now) != 0)
		snprintf(why, whylen, "reference values of model %s differ from their audit history", model);
	return TG_OK;
}

/* ---------------------------------------------------- release references */

/* Reference rows of approved releases must be the set their release's
 * audit rows name (field "reference_set" of release.add/release.references;
 * none named means none may exist): a row inserted with sqlite3 would
 * otherwise make any measurement "known". */
enum tg_err tg_integrity_release_references(struct tg_db *db, char *why, size_t whylen, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r;

	why[0] = '\0';
	r = tg_db_prepare(db, "SELECT DISTINCT f.release_id, s.name || '/' || p.name || '/' || rl.version "
			      "FROM reference f JOIN release rl ON rl.id = f.release_id "
			      "JOIN product p ON p.id = rl.product_id JOIN supplier s ON s.id = p.supplier_id "
			      "WHERE f.release_id IS NOT NULL;", &st, d);
	if (r != TG_OK)
		return r;
	for (;;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			return r;
		int64_t rid = tg_db_col_int(st, 0);
		const char *object = tg_db_col_str(st, 1);
		struct refset_state want = { "" };
		int n = 0;
		char set[65];

		r = replay(db, object, "release.", apply_refset, &want, &n, why, whylen, d);
		if (r != TG_OK || why[0])
			return r;
		r = tg_rec_release_reference_set_digest(db, rid, set, d);
		if (r != TG_OK)
			return r;
		if (!want.digest[0] || strcmp(want.digest, set) != 0) {
			snprintf(why, whylen, "reference values of release %s differ from its audit history", object);
			return TG_OK;
		}
	}
}

/* ------------------------------------------------------------ complete */

/* Each kind of record: the audit action that creates one, and the same
 * object names built from the table.  Nothing deletes a record (a revoked
 * key or release stays, with its status), so the two sets must be equal.
 * X(n, kind, action, objects); n (1..9) numbers the kind in the statement. */
#define RECORD_KINDS(X)                                                                                              \
	X(1, "supplier", "supplier.add", "SELECT name FROM supplier")                                               \
	X(2, "key", "key.add", "SELECT fingerprint FROM key")                                                       \
	X(3, "product", "product.add", "SELECT s.name || '/' || p.name FROM product p JOIN supplier s ON s.id = p.supplier_id") \
	X(4, "release", "release.add",                                                                              \
	  "SELECT s.name || '/' || p.name || '/' || r.version FROM release r JOIN product p ON p.id = r.product_id "  \
	  "JOIN supplier s ON s.id = p.supplier_id")                                                                \
	X(5, "host", "host.enroll", "SELECT name FROM host")                                                        \
	X(6, "reference set", "reference.import", "SELECT DISTINCT model FROM reference WHERE model IS NOT NULL")   \
	/* A known-bad digest deleted from the deny list would be trusted again. */                                  \
	X(7, "revoked measurement", "reference.deny", "SELECT alg || ':' || digest FROM measurement_revoked")

/* Code n0: an object in the history, not in the table (deleted); n1: in
 * the table, not in the history (inserted). */
#define KIND_BRANCHES(n, kind, action, objects)                                                           \
	" UNION ALL SELECT " #n "0, * FROM (SELECT object FROM audit WHERE action = '" action "' EXCEPT " \
	objects " LIMIT 1) AS m" #n                                                                       \
	" UNION ALL SELECT " #n "1, * FROM (" objects " EXCEPT SELECT object FROM audit WHERE action = '"  \
	action "' LIMIT 1) AS x" #n
#define KIND_NAME(n, kind, action, objects) [n] = kind,

static const char *const kind_names[] = { RECORD_KINDS(KIND_NAME) };

/* All of it in one statement -- one round trip on PostgreSQL, where each
 * decision runs it.  Code 0: the tally of record-change rows every append
 * keeps differs from the rows there are (a row taken out of the history
 * with the record it describes, so that no kind below sees anything).
 * Decisions' rows are not counted: there are as many as decisions, and
 * `audit verify` walks them.  The first finding by code is the answer. */
static const char complete_sql[] =
	"SELECT code, o FROM ("
	"SELECT 0 AS code, CAST(a AS TEXT) || ' ' || CAST(b AS TEXT) AS o FROM (SELECT "
	"(SELECT count(*) FROM audit WHERE " TG_AUDIT_RECORD_ROWS_WHERE ") AS a, "
	"coalesce((SELECT CAST(value AS BIGINT) FROM meta WHERE name = 'audit_record_rows'), 0) AS b) AS t WHERE a <> b"
	RECORD_KINDS(KIND_BRANCHES)
	") AS found ORDER BY code LIMIT 1;";

enum tg_err tg_integrity_complete(struct tg_db *db, char *why, size_t whylen, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, complete_sql, &st, d);

	why[0] = '\0';
	if (r == TG_OK)
		r = tg_db_step(db, st, &row, d);
	if (r != TG_OK || !row)
		return r;
	int64_t code = tg_db_col_int(st, 0);
	const char *o = tg_db_col_str(st, 1) ? tg_db_col_str(st, 1) : "";
	size_t k = (size_t)(code / 10);
	if (code == 0) {
		long long have = 0, written = 0;
		sscanf(o, "%lld %lld", &have, &written);
		snprintf(why, whylen, "the audit history holds %lld rows of record changes, %lld were written: rows were "
			 "deleted or inserted", have, written);
	} else if (k >= TG_ARRAY_SIZE(kind_names) || !kind_names[k]) {
		return tg_fail(d, TG_E_DB, "integrity: unexpected finding %lld", (long long)code);
	} else if (code % 10 == 0) {
		/* A revoked release or the newest one, deleted, would let
		 * known-bad bytes or a rollback through. */
		snprintf(why, whylen, "%s %s is in the audit history but missing from the records (deleted outside "
			 "trustgate)", kind_names[k], o);
	} else {
		snprintf(why, whylen, "%s %s is in the records but has no audit history (inserted outside trustgate)",
			 kind_names[k], o);
	}
	return TG_OK;
}

/* ----------------------------------------------------------------- all */

struct all_ctx {
	struct tg_db *db;
	tg_integrity_report report;
	void *ud;
	size_t count;
	struct tg_diag *d;
};

static enum tg_err found(struct all_ctx *a, enum tg_err r, const char *why)
{
	if (r == TG_OK && why[0]) {
		a->report(why, a->ud);
		a->count++;
	}
	return r;
}

static enum tg_err all_supplier(const struct tg_supplier *s, void *ud)
{
	struct all_ctx *a = ud;
	char why[512];

	return found(a, tg_integrity_supplier(a->db, s, why, sizeof(why), a->d), why);
}

static enum tg_err all_key(const struct tg_keyrec *k, void *ud)
{
	struct all_ctx *a = ud;
	char why[512];

	return found(a, tg_integrity_key(a->db, k, why, sizeof(why), a->d), why);
}

static enum tg_err all_product(const struct tg_product *p, void *ud)
{
	struct all_ctx *a = ud;
	char why[512];

	return found(a, tg_integrity_product(a->db, p, why, sizeof(why), a->d), why);
}

static enum tg_err all_release(const struct tg_release *rel, void *ud)
{
	struct all_ctx *a = ud;
	char why[512];

	return found(a, tg_integrity_release(a->db, rel, why, sizeof(why), a->d), why);
}

static enum tg_err all_host(const struct tg_host *h, void *ud)
{
	struct all_ctx *a = ud;
	char why[512];

	return found(a, tg_integrity_host(a->db, h, why, sizeof(why), a->d), why);
}

/* Each model with reference values, and each model the history imported
 * (one whose rows were all deleted must still be compared). */
static enum tg_err all_models(struct all_ctx *a)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(a->db, "SELECT model FROM reference WHERE model IS NOT NULL UNION "
					     "SELECT object FROM audit WHERE action = 'reference.import' ORDER BY 1;",
				      &st, a->d);

	while (r == TG_OK) {
		r = tg_db_step(a->db, st, &row, a->d);
		if (r != TG_OK || !row)
			break;
		_cleanup_free_ char *model = tg_db_col_text(st, 0);
		char why[512];
		if (!model)
			return TG_E_NOMEM;
		r = found(a, tg_integrity_references(a->db, model, why, sizeof(why), a->d), why);
	}
	return r;
}

enum tg_err tg_integrity_all(struct tg_db *db, tg_integrity_report report, void *ud, size_t *ret_count,
			     struct tg_diag *d)
{
	struct all_ctx a = { db, report, ud, 0, d };
	char why[512];
	enum tg_err r = tg_integrity_complete(db, why, sizeof(why), d);

	r = found(&a, r, why);
	if (r == TG_OK)
		r = tg_rec_supplier_each(db, all_supplier, &a, d);
	if (r == TG_OK)
		r = tg_rec_key_each(db, 0, all_key, &a, d);
	if (r == TG_OK)
		r = tg_rec_product_each(db, 0, all_product, &a, d);
	if (r == TG_OK)
		r = tg_rec_release_each(db, 0, NULL, NULL, all_release, &a, d);
	if (r == TG_OK)
		r = tg_rec_host_each(db, all_host, &a, d);
	if (r == TG_OK)
		r = all_models(&a);
	if (r == TG_OK)
		r = found(&a, tg_integrity_release_references(db, why, sizeof(why), d), why);
	*ret_count = a.count;
	return r;
}
