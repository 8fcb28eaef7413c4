/*
 * SQLite access: open/create, hardening, migrations, statements.  This is
 * the one wrapper that converts SQLITE_* codes into enum tg_err.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "db.h"
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

static enum tg_err db_err(struct tg_db *db, int rc, struct tg_diag *d, const char *what)
{
	const char *msg = db && db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc);
	const char *path = db && db->path ? db->path : "database";

	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return tg_fail(d, TG_E_NOMEM, "%s: out of memory (%s)", path, what);
	case SQLITE_NOTADB:
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (%s)", path, msg);
	case SQLITE_CORRUPT:
		return tg_fail(d, TG_E_DB, "%s: database is corrupt (%s)", path, msg);
	case SQLITE_CONSTRAINT:
		return tg_fail(d, TG_E_EXISTS, "%s: %s refused: %s", path, what, msg);
	default:
		return tg_fail(d, TG_E_DB, "%s: %s failed: %s", path, what, msg);
	}
}

static enum tg_err exec(struct tg_db *db, const char *sql, struct tg_diag *d)
{
	char *err = NULL;
	int rc = sqlite3_exec(db->h, sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		enum tg_err r = db_err(db, rc, d, "statement");
		sqlite3_free(err);
		return r;
	}
	return TG_OK;
}

/* Query a single integer; *ret untouched when no row. */
/* A connection is only ever used by the thread that opened it (the hashing
 * threads of `check` never touch the records), so SQLite need not lock it
 * on every call: about a fifth of `audit verify`'s time went to those
 * locks. */
#define TG_DB_OPEN_FLAGS SQLITE_OPEN_NOMUTEX

static enum tg_err query_int(struct tg_db *db, const char *sql, int64_t *ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, sql, &st, d);

	if (r != TG_OK)
		return r;
	r = tg_db_step(db, st, &row, d);
	if (r == TG_OK && row && !tg_db_col_is_null(st, 0))
		*ret = tg_db_col_int(st, 0);
	return r;
}

/* Settings applied on every connection.  DEFENSIVE and trusted_schema=OFF
 * keep a hostile schema (triggers/views calling functions) from running
 * code when the file is opened (THREATS case 62); synchronous=FULL in WAL
 * mode keeps every acknowledged verdict across a power cut (case 60). */
static enum tg_err harden(struct tg_db *db, struct tg_diag *d)
{
	int on = 1;

	sqlite3_db_config(db->h, SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on);
	sqlite3_db_config(db->h, SQLITE_DBCONFIG_ENABLE_VIEW, 0, &on);
	sqlite3_busy_timeout(db->h, 10000);
	return exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", d);
}

/* A damaged b-tree must be an error, never "no such key": every table the
 * decision reads is checked page by page on open.  The tables that grow
 * with use are left out — `verdict` (a report per decision), `audit` (a row
 * per change or decision) and `notification` (one per event, read by the
 * service's notifier only): checking them made every open cost a read of
 * the whole file, 2 ms at 1,500 verdicts and seconds at 100,000.  The first
 * two are covered otherwise: SQLite fails a query that reads a damaged
 * page, the audit chain's numbering is checked on every decision and its
 * hashes by `audit verify`, and a report by the hash in its audit row. */
static enum tg_err quick_check_records(struct tg_db *db, const char *path, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *tables = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db,
				      "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('audit', "
				      "'verdict', 'notification') ORDER BY name;",
				      &tables, d);

	if (r != TG_OK)
		return tg_fail(d, TG_E_DB, "%s: database is corrupt (its schema cannot be read)", path);
	for (;;) {
		sqlite3_stmt *st = NULL;
		bool ok_row = false;

		r = tg_db_step(db, tables, &row, d);
		if (r != TG_OK || !row)
			break;
		/* %w: a table name is data from the file, quoted as an identifier. */
		char *sql = sqlite3_mprintf("PRAGMA quick_check(\"%w\");", tg_db_col_str(tables, 0));
		if (!sql)
			return TG_E_NOMEM;
		/* Not the statement cache: the text differs per table. */
		int prc = sqlite3_prepare_v2(db->h, sql, -1, &st, NULL);
		sqlite3_free(sql);
		if (prc != SQLITE_OK)
			return tg_fail(d, TG_E_DB, "%s: database is corrupt (quick_check cannot run)", path);
		int rc = sqlite3_step(st);
		ok_row = rc == SQLITE_ROW && sqlite3_column_text(st, 0) &&
			 strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
		sqlite3_finalize(st);
		if (!ok_row)
			return tg_fail(d, TG_E_DB, "%s: database is corrupt (quick_check failed on table %s)", path,
				       tg_db_col_str(tables, 0));
	}
	if (r != TG_OK)
		return tg_fail(d, TG_E_DB, "%s: database is corrupt (its schema cannot be read)", path);
	return TG_OK;
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

static struct tg_db *db_new(const char *path)
{
	struct tg_db *db = tg_calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->path = strdup(path);
	if (!db->path) {
		free(db);
		return NULL;
	}
	return db;
}

enum tg_err tg_db_create(const char *path, struct tg_db **ret, struct tg_diag *d)
{
	struct tg_db *db;
	enum tg_err r;
	char sql[128];
	int fd, rc;

	/* O_EXCL: `db init` never reuses or overwrites an existing file. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return tg_fail(d, TG_E_EXISTS, "%s: already exists; not overwriting it", path);
		return tg_fail(d, TG_E_IO, "%s: cannot create: %s", path, strerror(errno));
	}
	close(fd);
	db = db_new(path);
	if (!db) {
		unlink(path);
		return TG_E_NOMEM;
	}
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | TG_DB_OPEN_FLAGS, NULL);
	if (rc != SQLITE_OK) {
		r = db_err(db, rc, d, "open");
		goto fail;
	}
	r = harden(db, d);
	if (r != TG_OK)
		goto fail;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA journal_mode = WAL;",
		 TG_DB_APPLICATION_ID);
	r = exec(db, sql, d);
	if (r != TG_OK)
		goto fail;
	r = tg_db_begin(db, d);
	if (r != TG_OK)
		goto fail;
	r = migrate(db, 0, d);
	if (r != TG_OK)
		goto fail;
	r = tg_db_commit(db, d);
	if (r != TG_OK)
		goto fail;
	*ret = db;
	return TG_OK;
fail:
	tg_db_close(db);
	unlink(path);
	return r;
}

enum tg_err tg_db_open(const char *path, struct tg_db **ret, struct tg_diag *d)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	struct stat st;
	int64_t appid = 0, version = 0;
	enum tg_err r;
	int rc;

	/* Never let SQLite create a file: a typo in --db must not produce an
	 * empty record set that approves nothing silently or, worse, accepts
	 * records later. */
	if (stat(path, &st) < 0)
		return tg_fail(d, TG_E_DB, "%s: no such database (run 'trustgate db init')", path);
	if (!S_ISREG(st.st_mode))
		return tg_fail(d, TG_E_DB, "%s: not a regular file", path);
	db = db_new(path);
	if (!db)
		return TG_E_NOMEM;
	rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | TG_DB_OPEN_FLAGS, NULL);
	if (rc != SQLITE_OK)
		return db_err(db, rc, d, "open");
	r = harden(db, d);
	if (r != TG_OK)
		return r;
	r = query_int(db, "PRAGMA application_id;", &appid, d);
	if (r != TG_OK)
		return r;
	if (appid != TG_DB_APPLICATION_ID)
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (foreign SQLite file)", path);
	r = quick_check_records(db, path, d);
	if (r != TG_OK)
		return r;
	r = query_int(db, "SELECT max(version) FROM schema_version;", &version, d);
	if (r != TG_OK)
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (no schema version)", path);
	if (version > TG_DB_SCHEMA_VERSION)
		return tg_fail(d, TG_E_DB, "%s: schema version %lld is newer than this trustgate (%d)",
			       path, (long long)version, TG_DB_SCHEMA_VERSION);
	if (version < 1)
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (no schema version)", path);
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
 * string literal, so its address identifies it; the text is compared too): a statement handed out is busy
 * until tg_db_finalize() resets it for the next caller.  Parsing the same
 * SQL again per host dominated `attest --batch`.
 */
struct tg_stmt {
	sqlite3_stmt *s;
	bool cached;
};

#define STMT_CACHE 48
static struct {
	const char *sql;
	sqlite3 *h;
	struct tg_stmt *st;
	bool busy;
} stmt_cache[STMT_CACHE];

static void stmt_cache_drop(sqlite3 *h)
{
	for (size_t i = 0; i < STMT_CACHE; i++)
		if (stmt_cache[i].st && stmt_cache[i].h == h) {
			sqlite3_finalize(stmt_cache[i].st->s);
			free(stmt_cache[i].st);
			memset(&stmt_cache[i], 0, sizeof(stmt_cache[i]));
		}
}

void tg_db_close(struct tg_db *db)
{
	if (!db)
		return;
	stmt_cache_drop(db->h);
	if (db->in_tx)
		tg_db_rollback(db);
	if (db->h)
		sqlite3_close_v2(db->h);
	if (db->anchor_free)
		db->anchor_free(db->anchor_ud);
	free(db->path);
	free(db);
}

/* Waiting for another worker's write lock: that worker holds it for one
 * group commit (about a millisecond), so poll every 100 us for up to 10 s
 * instead of SQLite's default back-off, whose first sleeps (1, 2, 5, 10 ms)
 * left a waiting worker idle long after the lock was free. */
static int busy_poll(void *ud, int count)
{
	(void)ud;
	if (count >= 100000)
		return 0;
	usleep(100);
	return 1;
}

enum tg_err tg_db_tune_resident(struct tg_db *db, struct tg_diag *d)
{
	sqlite3_busy_handler(db->h, busy_poll, NULL);
	/* Pages read through a mapping, not a pread(2) each (a third of a
	 * served attestation's time was the kernel copying pages), and a
	 * larger page cache.  Not for one-shot commands: mapping and
	 * unmapping cost a short process more than it saves. */
	return exec(db, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768;", d);
}

enum tg_err tg_db_begin(struct tg_db *db, struct tg_diag *d)
{
	enum tg_err r = exec(db, "BEGIN IMMEDIATE;", d);

	if (r == TG_OK)
		db->in_tx = true;
	return r;
}

enum tg_err tg_db_commit(struct tg_db *db, struct tg_diag *d)
{
	enum tg_err r = exec(db, "COMMIT;", d);

	if (r != TG_OK) {
		tg_db_rollback(db);
		return r;
	}
	db->in_tx = false;
	return TG_OK;
}

enum tg_err tg_db_savepoint(struct tg_db *db, struct tg_diag *d)
{
	if (!db->in_tx)
		return tg_fail(d, TG_E_DB, "%s: savepoint outside a transaction", db->path);
	return exec(db, "SAVEPOINT tg_one;", d);
}

enum tg_err tg_db_savepoint_release(struct tg_db *db, struct tg_diag *d)
{
	return exec(db, "RELEASE tg_one;", d);
}

void tg_db_savepoint_rollback(struct tg_db *db)
{
	sqlite3_exec(db->h, "ROLLBACK TO tg_one; RELEASE tg_one;", NULL, NULL, NULL);
}

void tg_db_rollback(struct tg_db *db)
{
	if (db->in_tx)
		sqlite3_exec(db->h, "ROLLBACK;", NULL, NULL, NULL);
	db->in_tx = false;
}

enum tg_err tg_db_prepare(struct tg_db *db, const char *sql, struct tg_stmt **ret,
			  struct tg_diag *d)
{
	size_t free_slot = STMT_CACHE;
	struct tg_stmt *st;
	int rc;

	*ret = NULL;
	for (size_t i = 0; i < STMT_CACHE; i++) {
		/* Same address and same text: SQL built in a buffer that is
		 * reused must never be answered by another statement. */
		if (stmt_cache[i].st && stmt_cache[i].sql == sql && stmt_cache[i].h == db->h &&
		    !stmt_cache[i].busy && strcmp(sqlite3_sql(stmt_cache[i].st->s), sql) == 0) {
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
	rc = sqlite3_prepare_v3(db->h, sql, -1, free_slot < STMT_CACHE ? SQLITE_PREPARE_PERSISTENT : 0,
				&st->s, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return db_err(db, rc, d, "query");
	}
	if (free_slot < STMT_CACHE) {
		st->cached = true;
		stmt_cache[free_slot].sql = sql;
		stmt_cache[free_slot].h = db->h;
		stmt_cache[free_slot].st = st;
		stmt_cache[free_slot].busy = true;
	}
	*ret = st;
	return TG_OK;
}

void tg_db_bind_text(struct tg_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st->s, i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st->s, i);
}

void tg_db_bind_int(struct tg_stmt *st, int i, int64_t v)
{
	sqlite3_bind_int64(st->s, i, v);
}

void tg_db_bind_blob(struct tg_stmt *st, int i, const void *p, size_t n)
{
	if (p)
		sqlite3_bind_blob64(st->s, i, p, n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(st->s, i);
}

void tg_db_bind_null(struct tg_stmt *st, int i)
{
	sqlite3_bind_null(st->s, i);
}

enum tg_err tg_db_step(struct tg_db *db, struct tg_stmt *st, bool *ret_row, struct tg_diag *d)
{
	int rc = sqlite3_step(st->s);

	if (rc == SQLITE_ROW) {
		*ret_row = true;
		return TG_OK;
	}
	*ret_row = false;
	if (rc == SQLITE_DONE)
		return TG_OK;
	/* I/O error, disk full, corruption, OOM: an error, never "not found"
	 * (THREATS case 61). */
	return db_err(db, rc, d, "query");
}

enum tg_err tg_db_exec_stmt(struct tg_db *db, struct tg_stmt *st, struct tg_diag *d)
{
	bool row;
	return tg_db_step(db, st, &row, d);
}

void tg_db_reset(struct tg_stmt *st)
{
	sqlite3_reset(st->s);
}

void tg_db_finalize(struct tg_stmt *st)
{
	if (!st)
		return;
	if (st->cached)
		for (size_t i = 0; i < STMT_CACHE; i++)
			if (stmt_cache[i].st == st) {
				sqlite3_reset(st->s);
				sqlite3_clear_bindings(st->s);
				stmt_cache[i].busy = false;
				return;
			}
	sqlite3_finalize(st->s);
	free(st);
}

char *tg_db_col_text(struct tg_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st->s, i);
	return t ? strdup((const char *)t) : NULL;
}

const char *tg_db_col_str(struct tg_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st->s, i);
}

int tg_db_col_count(struct tg_stmt *st)
{
	return sqlite3_column_count(st->s);
}

int64_t tg_db_col_int(struct tg_stmt *st, int i)
{
	return sqlite3_column_int64(st->s, i);
}

bool tg_db_col_is_null(struct tg_stmt *st, int i)
{
	return sqlite3_column_type(st->s, i) == SQLITE_NULL;
}

const void *tg_db_col_blob(struct tg_stmt *st, int i, size_t *ret_len)
{
	const void *p = sqlite3_column_blob(st->s, i);
	*ret_len = (size_t)sqlite3_column_bytes(st->s, i);
	return p;
}

int64_t tg_db_changes(struct tg_db *db)
{
	return sqlite3_changes(db->h);
}

const char *tg_db_engine_version(void)
{
	return sqlite3_libversion();
}

int64_t tg_db_last_rowid(struct tg_db *db)
{
	return sqlite3_last_insert_rowid(db->h);
}
