/*
 * The records, whichever engine holds them: the choice of driver, schema
 * and migrations (one text for both engines), transactions and the
 * statement cache.  The drivers (sqlite.c, pg.c) do the engine's part and
 * convert its codes.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "driver.h"
#include "schema_sql.h"

/* Migrations, in order; migration N takes a version N-1 file to N. */
static const struct {
	int version;
	const unsigned char *sql;
	const unsigned int *len;
} migrations[] = {
	{ 1, db_schema_sql, &db_schema_sql_len },
	{ 2, db_migrate_002_sql, &db_migrate_002_sql_len },
	{ 3, db_migrate_003_sql, &db_migrate_003_sql_len },
	{ 4, db_migrate_004_sql, &db_migrate_004_sql_len },
	{ 5, db_migrate_005_sql, &db_migrate_005_sql_len },
	{ 6, db_migrate_006_sql, &db_migrate_006_sql_len },
	{ 7, db_migrate_007_sql, &db_migrate_007_sql_len },
};


bool tg_db_target_is_url(const char *target)
{
	return target && (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0);
}

char *tg_db_target_display(const char *target)
{
	const char *auth, *at, *colon, *end;
	char *out;

	if (!tg_db_target_is_url(target))
		return strdup(target);
	/* scheme://user:password@host... : the password never reaches a
	 * message, a log line or an audit row. */
	auth = strstr(target, "://") + 3;
	end = auth + strcspn(auth, "/?#");
	at = memchr(auth, '@', (size_t)(end - auth));
	colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon)
		return strdup(target);
	if (asprintf(&out, "%.*s:***%s", (int)(colon - target), target, at) < 0)
		return NULL;
	return out;
}

static enum tg_err exec(struct tg_db *db, const char *sql, struct tg_diag *d)
{
	return db->drv->exec(db, sql, d);
}

static enum tg_err migrate(struct tg_db *db, int64_t from, struct tg_diag *d)
{
	char now[32], sql[160];

	tg_now_iso(now);
	for (size_t i = 0; i < TG_ARRAY_SIZE(migrations); i++) {
		if (migrations[i].version <= from)
			continue;
		_cleanup_free_ char *text = strndup((const char *)migrations[i].sql, *migrations[i].len);
		if (!text)
			return TG_E_NOMEM;
		if (db->drv->ddl) {
			char *t = db->drv->ddl(text);
			if (!t)
				return TG_E_NOMEM;
			free(text);
			text = t;
		}
		enum tg_err r = exec(db, text, d);
		if (r != TG_OK)
			return r;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO schema_version (version, applied_at) VALUES (%d, '%s');",
			 migrations[i].version, now);
		r = exec(db, sql, d);
		if (r != TG_OK)
			return r;
	}
	return TG_OK;
}

static struct tg_db *db_new(const char *target)
{
	struct tg_db *db = tg_calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->drv = tg_db_target_is_url(target) ? &tg_db_postgresql : &tg_db_sqlite;
	db->target = strdup(target);
	db->path = tg_db_target_display(target);
	if (!db->target || !db->path) {
		free(db->target);
		free(db->path);
		free(db);
		return NULL;
	}
	return db;
}

char *tg_db_local_file(const struct tg_db *db, const char *suffix)
{
	const char *dir = getenv("TRUSTGATE_STATE_DIR"), *name, *end;
	char *out = NULL;

	if (db->drv->caps & TG_DB_CAP_FILE)
		return asprintf(&out, "%s%s", db->target, suffix) < 0 ? NULL : out;
	/* postgresql://host/NAME?options: the database's name, or "records"
	 * when the URL names none (libpq's default then). */
	name = strchr(strstr(db->target, "://") + 3, '/');
	name = name ? name + 1 : "";
	end = name + strcspn(name, "?#");
	if (end == name || memchr(name, '/', (size_t)(end - name)) || (end - name == 2 && !strncmp(name, "..", 2)))
		name = "records", end = name + 7;
	if (!dir || !*dir)
		dir = "/var/lib/trustgate";
	return asprintf(&out, "%s/%.*s%s", dir, (int)(end - name), name, suffix) < 0 ? NULL : out;
}

const char *tg_db_engine(const struct tg_db *db)
{
	return db->drv->name;
}

enum tg_err tg_db_create(const char *target, struct tg_db **ret, struct tg_diag *d)
{
	struct tg_db *db = db_new(target);
	enum tg_err r;

	if (!db)
		return TG_E_NOMEM;
	r = db->drv->create(db, d);
	if (r != TG_OK) {
		/* create refused or failed before making anything of its own
		 * (an existing file or schema is never removed). */
		bool made = r != TG_E_EXISTS && db->conn;
		tg_db_close(db);
		if (made)
			tg_db_destroy(target);
		return r;
	}
	r = tg_db_begin(db, d);
	if (r == TG_OK)
		r = migrate(db, 0, d);
	if (r == TG_OK)
		r = tg_db_commit(db, d);
	if (r != TG_OK) {
		tg_db_close(db);
		tg_db_destroy(target);
		return r;
	}
	*ret = db;
	return TG_OK;
}

void tg_db_destroy(const char *target)
{
	(tg_db_target_is_url(target) ? &tg_db_postgresql : &tg_db_sqlite)->destroy(target);
}

enum tg_err tg_db_open(const char *target, struct tg_db **ret, struct tg_diag *d)
{
	_cleanup_(tg_db_closep) struct tg_db *db = db_new(target);
	int64_t version = 0;
	enum tg_err r;

	if (!db)
		return TG_E_NOMEM;
	r = db->drv->open(db, d);
	if (r != TG_OK)
		return r;
	{
		_cleanup_stmt_ struct tg_stmt *st = NULL;
		bool row = false;

		r = tg_db_prepare(db, "SELECT max(version) FROM schema_version;", &st, d);
		if (r == TG_OK)
			r = tg_db_step(db, st, &row, d);
		if (r == TG_OK && row && !tg_db_col_is_null(st, 0))
			version = tg_db_col_int(st, 0);
		if (r != TG_OK)
			return tg_fail(d, TG_E_DB, "%s: not a trustgate database (no schema version)", db->path);
	}
	if (version > TG_DB_SCHEMA_VERSION)
		return tg_fail(d, TG_E_DB, "%s: schema version %lld is newer than this trustgate (%d)",
			       db->path, (long long)version, TG_DB_SCHEMA_VERSION);
	if (version < 1)
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (no schema version)", db->path);
	if (version < TG_DB_SCHEMA_VERSION) {
		r = tg_db_begin(db, d);
		if (r == TG_OK)
			r = migrate(db, version, d);
		if (r == TG_OK)
			r = tg_db_commit(db, d);
		if (r != TG_OK)
			return r;
	}
	*ret = TAKE_PTR(db);
	return TG_OK;
}

/*
 * Prepared statements are cached per call site (the SQL text is usually a
 * string literal, so its address identifies it; the text is compared too): a
 * statement handed out is busy until tg_db_finalize() resets it for the next
 * caller.  Parsing the same SQL again per host dominated `attest --batch`.
 */
struct tg_stmt {
	const struct tg_db_driver *drv;
	void *impl;
	bool cached;
};

#define STMT_CACHE 48
static struct {
	const char *sql;
	struct tg_db *db;
	struct tg_stmt *st;
	bool busy;
} stmt_cache[STMT_CACHE];

static void stmt_cache_drop(struct tg_db *db)
{
	for (size_t i = 0; i < STMT_CACHE; i++)
		if (stmt_cache[i].st && stmt_cache[i].db == db) {
			db->drv->finalize(stmt_cache[i].st->impl);
			free(stmt_cache[i].st);
			memset(&stmt_cache[i], 0, sizeof(stmt_cache[i]));
		}
}

void tg_db_close(struct tg_db *db)
{
	if (!db)
		return;
	stmt_cache_drop(db);
	if (db->in_tx)
		tg_db_rollback(db);
	if (db->conn)
		db->drv->close(db);
	if (db->anchor_free)
		db->anchor_free(db->anchor_ud);
	free(db->target);
	free(db->path);
	free(db);
}

enum tg_err tg_db_tune_resident(struct tg_db *db, struct tg_diag *d)
{
	return db->drv->tune_resident(db, d);
}

/* What a transaction learns as it goes (the chain's head, a deferred
 * savepoint release, appended rows) ends with it, whichever way. */
static void tx_forget(struct tg_db *db)
{
	db->head_known = false;
	db->release_pending = false;
	db->head_dirty = false;
}

enum tg_err tg_db_begin_with(struct tg_db *db, const char *sql, struct tg_diag *d)
{
	enum tg_err r = exec(db, sql, d);

	tx_forget(db);
	if (r == TG_OK)
		db->in_tx = true;
	else
		tg_db_rollback(db);
	return r;
}

enum tg_err tg_db_begin(struct tg_db *db, struct tg_diag *d)
{
	return tg_db_begin_with(db, db->drv->begin_sql, d);
}

enum tg_err tg_db_commit(struct tg_db *db, struct tg_diag *d)
{
	/* The head pointer `audit verify` compares the chain with (a chain
	 * cut short after its last row is found by it), once per
	 * transaction, with everything else or not at all. */
	enum tg_err r = db->head_dirty ? tg_audit_head_store(db, d) : TG_OK;

	if (r == TG_OK)
		r = exec(db, "COMMIT;", d);
	tx_forget(db);
	if (r != TG_OK) {
		tg_db_rollback(db);
		return r;
	}
	db->in_tx = false;
	return TG_OK;
}

/* Each decision of a group is a savepoint (one refused leaves the others).
 * Its release is sent with the next savepoint -- "RELEASE ...; SAVEPOINT
 * ..." in one exec -- or ends with the transaction: a round trip fewer per
 * decision on PostgreSQL.  A rollback to the savepoint follows only its
 * own SAVEPOINT (tg_attest_commit), never a deferred release, so no
 * decision already released can be undone by the next one's failure. */
enum tg_err tg_db_savepoint(struct tg_db *db, struct tg_diag *d)
{
	if (!db->in_tx)
		return tg_fail(d, TG_E_DB, "%s: savepoint outside a transaction", db->path);
	bool pending = db->release_pending;
	db->release_pending = false;
	return exec(db, pending ? "RELEASE SAVEPOINT tg_one; SAVEPOINT tg_one;" : "SAVEPOINT tg_one;", d);
}

enum tg_err tg_db_savepoint_release(struct tg_db *db, struct tg_diag *d)
{
	if (!db->in_tx)
		return tg_fail(d, TG_E_DB, "%s: savepoint released outside a transaction", db->path);
	db->release_pending = true;
	return TG_OK;
}

void tg_db_savepoint_rollback(struct tg_db *db)
{
	struct tg_diag d = { { 0 } };

	/* Rows appended before this savepoint stay: head_dirty stays; the
	 * head is read again when next needed. */
	db->head_known = false;
	db->release_pending = false;
	if (exec(db, "ROLLBACK TO SAVEPOINT tg_one;", &d) == TG_OK)
		exec(db, "RELEASE SAVEPOINT tg_one;", &d);
}

void tg_db_rollback(struct tg_db *db)
{
	struct tg_diag d = { { 0 } };

	if (db->in_tx)
		exec(db, "ROLLBACK;", &d);
	db->in_tx = false;
	tx_forget(db);
}

enum tg_err tg_db_prepare(struct tg_db *db, const char *sql, struct tg_stmt **ret,
			  struct tg_diag *d)
{
	size_t free_slot = STMT_CACHE;
	struct tg_stmt *st;
	enum tg_err r;

	*ret = NULL;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		/* Same address and same text: SQL built in a buffer that is
		 * reused must never be answered by another statement. */
		if (stmt_cache[i].st && stmt_cache[i].sql == sql && stmt_cache[i].db == db && !stmt_cache[i].busy &&
		    strcmp(db->drv->sql(stmt_cache[i].st->impl), sql) == 0) {
			stmt_cache[i].busy = true;
			*ret = stmt_cache[i].st;
			return TG_OK;
		}
		if (!stmt_cache[i].st && free_slot == STMT_CACHE)
			free_slot = i;
	}
	st = calloc(1, sizeof(*st));
	if (!st)
		return tg_fail(d, TG_E_NOMEM, "out of memory");
	st->drv = db->drv;
	r = db->drv->prepare(db, sql, free_slot < STMT_CACHE, &st->impl, d);
	if (r != TG_OK) {
		free(st);
		return r;
	}
	if (free_slot < STMT_CACHE) {
		st->cached = true;
		stmt_cache[free_slot].sql = sql;
		stmt_cache[free_slot].db = db;
		stmt_cache[free_slot].st = st;
		stmt_cache[free_slot].busy = true;
	}
	*ret = st;
	return TG_OK;
}

enum tg_err tg_db_prepare_scan(struct tg_db *db, const char *sql, struct tg_stmt **ret, struct tg_diag *d)
{
	/* Not cached: a cursor's statement is made for one scan. */
	struct tg_stmt *st = calloc(1, sizeof(*st));
	enum tg_err r;

	*ret = NULL;
	if (!st)
		return tg_fail(d, TG_E_NOMEM, "out of memory");
	st->drv = db->drv;
	r = db->drv->prepare(db, sql, false, &st->impl, d);
	if (r != TG_OK) {
		free(st);
		return r;
	}
	if (db->drv->scan)
		db->drv->scan(st->impl);
	*ret = st;
	return TG_OK;
}

void tg_db_bind_text(struct tg_stmt *st, int i, const char *s)
{
	st->drv->bind_text(st->impl, i, s);
}

void tg_db_bind_int(struct tg_stmt *st, int i, int64_t v)
{
	st->drv->bind_int(st->impl, i, v);
}

void tg_db_bind_blob(struct tg_stmt *st, int i, const void *p, size_t n)
{
	st->drv->bind_blob(st->impl, i, p, p ? n : 0);
}

void tg_db_bind_null(struct tg_stmt *st, int i)
{
	st->drv->bind_null(st->impl, i);
}

enum tg_err tg_db_step(struct tg_db *db, struct tg_stmt *st, bool *ret_row, struct tg_diag *d)
{
	return st->drv->step(db, st->impl, ret_row, d);
}

enum tg_err tg_db_exec_stmt(struct tg_db *db, struct tg_stmt *st, struct tg_diag *d)
{
	bool row;
	return tg_db_step(db, st, &row, d);
}

void tg_db_reset(struct tg_stmt *st)
{
	st->drv->reset(st->impl);
}

void tg_db_finalize(struct tg_stmt *st)
{
	if (!st)
		return;
	if (st->cached)
		for (size_t i = 0; i < STMT_CACHE; i++)
			if (stmt_cache[i].st == st) {
				st->drv->clear(st->impl);
				stmt_cache[i].busy = false;
				return;
			}
	st->drv->finalize(st->impl);
	free(st);
}

char *tg_db_col_text(struct tg_stmt *st, int i)
{
	const char *t = tg_db_col_str(st, i);
	return t ? strdup(t) : NULL;
}

const char *tg_db_col_str(struct tg_stmt *st, int i)
{
	return st->drv->col_str(st->impl, i);
}

int tg_db_col_count(struct tg_stmt *st)
{
	return st->drv->col_count(st->impl);
}

const char *tg_db_col_name(struct tg_stmt *st, int i)
{
	return st->drv->col_name(st->impl, i);
}

enum tg_db_type tg_db_col_type(struct tg_stmt *st, int i)
{
	return st->drv->col_type(st->impl, i);
}

int64_t tg_db_col_int(struct tg_stmt *st, int i)
{
	return st->drv->col_int(st->impl, i);
}

bool tg_db_col_is_null(struct tg_stmt *st, int i)
{
	return st->drv->col_is_null(st->impl, i);
}

const void *tg_db_col_blob(struct tg_stmt *st, int i, size_t *ret_len)
{
	return st->drv->col_blob(st->impl, i, ret_len);
}

int64_t tg_db_changes(struct tg_db *db)
{
	return db->drv->changes(db);
}

const char *tg_db_engine_version(void)
{
	return tg_db_sqlite.version(NULL);
}
