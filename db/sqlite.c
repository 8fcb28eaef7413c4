/*
 * The SQLite driver: one local file in WAL mode, the records of one
 * appliance.  The one place SQLITE_* codes become enum tg_err.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "driver.h"

/* A connection is only ever used by the thread that opened it (the hashing
 * threads of `check` never touch the records), so SQLite need not lock it
 * on every call: about a fifth of `audit verify`'s time went to those
 * locks. */
#define SQ_OPEN_FLAGS (SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX)

static sqlite3 *conn(struct tg_db *db)
{
	return db->conn;
}

static enum tg_err sq_err(struct tg_db *db, int rc, struct tg_diag *d, const char *what)
{
	const char *msg = db && db->conn ? sqlite3_errmsg(conn(db)) : sqlite3_errstr(rc);
	const char *path = db && db->path ? db->path : "database";

	/* A full disk shows as SQLITE_FULL or as an I/O error whose cause is
	 * ENOSPC (a WAL write): either way the transaction is not committed. */
	if ((rc & 0xff) == SQLITE_FULL || (db && db->conn && sqlite3_system_errno(conn(db)) == ENOSPC))
		return tg_fail(d, TG_E_IO, "%s: disk full (%s refused; nothing of it was written)", path, what);
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

static enum tg_err sq_exec(struct tg_db *db, const char *sql, struct tg_diag *d)
{
	char *err = NULL;
	int rc = sqlite3_exec(conn(db), sql, NULL, NULL, &err);

	if (rc != SQLITE_OK) {
		enum tg_err r = sq_err(db, rc, d, "statement");
		sqlite3_free(err);
		return r;
	}
	return TG_OK;
}

/* Settings applied on every connection.  DEFENSIVE and trusted_schema=OFF
 * keep a hostile schema (triggers/views calling functions) from running
 * code when the file is opened (THREATS case 62); synchronous=FULL in WAL
 * mode keeps every acknowledged verdict across a power cut (case 60). */
static enum tg_err harden(struct tg_db *db, struct tg_diag *d)
{
	int on = 1;

	sqlite3_db_config(conn(db), SQLITE_DBCONFIG_DEFENSIVE, 1, &on);
	sqlite3_db_config(conn(db), SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on);
	sqlite3_db_config(conn(db), SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, &on);
	sqlite3_db_config(conn(db), SQLITE_DBCONFIG_ENABLE_VIEW, 0, &on);
	sqlite3_busy_timeout(conn(db), 10000);
	return sq_exec(db, "PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;", d);
}

static enum tg_err connect_file(struct tg_db *db, struct tg_diag *d)
{
	sqlite3 *h = NULL;
	int rc = sqlite3_open_v2(db->target, &h, SQ_OPEN_FLAGS, NULL);

	db->conn = h;
	if (rc != SQLITE_OK)
		return sq_err(db, rc, d, "open");
	return harden(db, d);
}

static enum tg_err sq_create(struct tg_db *db, struct tg_diag *d)
{
	char sql[128];
	enum tg_err r;
	/* O_EXCL: `db init` never reuses or overwrites an existing file. */
	int fd = open(db->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0) {
		if (errno == EEXIST)
			return tg_fail(d, TG_E_EXISTS, "%s: already exists; not overwriting it", db->path);
		return tg_fail(d, TG_E_IO, "%s: cannot create: %s", db->path, strerror(errno));
	}
	close(fd);
	r = connect_file(db, d);
	if (r != TG_OK)
		return r;
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA journal_mode = WAL;", TG_DB_APPLICATION_ID);
	return sq_exec(db, sql, d);
}

static void sq_destroy(const char *target)
{
	char side[4096];

	unlink(target);
	snprintf(side, sizeof(side), "%s-wal", target);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", target);
	unlink(side);
}

static enum tg_err query_int(struct tg_db *db, const char *sql, int64_t *ret, struct tg_diag *d)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(conn(db), sql, -1, &st, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*ret = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_OK || rc == SQLITE_DONE ? TG_OK : sq_err(db, rc, d, "query");
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
static enum tg_err quick_check_records(struct tg_db *db, struct tg_diag *d)
{
	sqlite3_stmt *tables = NULL;
	int rc = sqlite3_prepare_v2(conn(db),
				    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT IN ('audit', "
				    "'verdict', 'notification') ORDER BY name;",
				    -1, &tables, NULL);

	if (rc != SQLITE_OK)
		return tg_fail(d, TG_E_DB, "%s: database is corrupt (its schema cannot be read)", db->path);
	while ((rc = sqlite3_step(tables)) == SQLITE_ROW) {
		sqlite3_stmt *st = NULL;
		const char *name = (const char *)sqlite3_column_text(tables, 0);
		/* %w: a table name is data from the file, quoted as an identifier. */
		char *sql = sqlite3_mprintf("PRAGMA quick_check(\"%w\");", name ? name : "");
		bool ok = false;

		if (!sql) {
			sqlite3_finalize(tables);
			return TG_E_NOMEM;
		}
		if (sqlite3_prepare_v2(conn(db), sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
			ok = sqlite3_column_text(st, 0) && strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0;
		sqlite3_free(sql);
		sqlite3_finalize(st);
		if (!ok) {
			enum tg_err r = tg_fail(d, TG_E_DB, "%s: database is corrupt (quick_check failed on table %s)",
						db->path, name ? name : "?");
			sqlite3_finalize(tables);
			return r;
		}
	}
	sqlite3_finalize(tables);
	if (rc != SQLITE_DONE)
		return tg_fail(d, TG_E_DB, "%s: database is corrupt (its schema cannot be read)", db->path);
	return TG_OK;
}

static enum tg_err sq_open(struct tg_db *db, struct tg_diag *d)
{
	struct stat st;
	int64_t appid = 0;
	enum tg_err r;

	/* Never let SQLite create a file: a typo in --db must not produce an
	 * empty record set that approves nothing silently or, worse, accepts
	 * records later. */
	if (stat(db->target, &st) < 0)
		return tg_fail(d, TG_E_NOTFOUND, "%s: no such database (run 'trustgate db init')", db->path);
	if (!S_ISREG(st.st_mode))
		return tg_fail(d, TG_E_DB, "%s: not a regular file", db->path);
	r = connect_file(db, d);
	if (r != TG_OK)
		return r;
	r = query_int(db, "PRAGMA application_id;", &appid, d);
	if (r != TG_OK)
		return r;
	if (appid != TG_DB_APPLICATION_ID)
		return tg_fail(d, TG_E_DB, "%s: not a trustgate database (foreign SQLite file)", db->path);
	return quick_check_records(db, d);
}

static void sq_close(struct tg_db *db)
{
	if (db->conn)
		sqlite3_close_v2(conn(db));
	db->conn = NULL;
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

static enum tg_err sq_tune_resident(struct tg_db *db, struct tg_diag *d)
{
	sqlite3_busy_handler(conn(db), busy_poll, NULL);
	/* Pages read through a mapping, not a pread(2) each (a third of a
	 * served attestation's time was the kernel copying pages), and a
	 * larger page cache.  Not for one-shot commands: mapping and
	 * unmapping cost a short process more than it saves. */
	return sq_exec(db, "PRAGMA mmap_size = 268435456; PRAGMA cache_size = -32768;", d);
}

struct sq_stmt {
	sqlite3_stmt *s;
	struct tg_db *db;
};

static enum tg_err sq_prepare(struct tg_db *db, const char *sql, bool keep, void **ret, struct tg_diag *d)
{
	struct sq_stmt *st = calloc(1, sizeof(*st));
	int rc;

	if (!st)
		return tg_fail(d, TG_E_NOMEM, "out of memory");
	rc = sqlite3_prepare_v3(conn(db), sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st->s, NULL);
	if (rc != SQLITE_OK) {
		free(st);
		return sq_err(db, rc, d, "query");
	}
	st->db = db;
	*ret = st;
	return TG_OK;
}

#define S(p) (((struct sq_stmt *)(p))->s)

static const char *sq_sql(void *st)
{
	return sqlite3_sql(S(st));
}

static void sq_bind_text(void *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(S(st), i, s, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(S(st), i);
}

static void sq_bind_int(void *st, int i, int64_t v)
{
	sqlite3_bind_int64(S(st), i, v);
}

static void sq_bind_blob(void *st, int i, const void *p, size_t n)
{
	if (p)
		sqlite3_bind_blob64(S(st), i, p, n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(S(st), i);
}

static void sq_bind_null(void *st, int i)
{
	sqlite3_bind_null(S(st), i);
}

static enum tg_err sq_step(struct tg_db *db, void *st, bool *ret_row, struct tg_diag *d)
{
	int rc = sqlite3_step(S(st));

	*ret_row = rc == SQLITE_ROW;
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		return TG_OK;
	/* I/O error, disk full, corruption, OOM: an error, never "not found"
	 * (THREATS case 61). */
	return sq_err(db, rc, d, "query");
}

static void sq_reset(void *st)
{
	sqlite3_reset(S(st));
}

static void sq_clear(void *st)
{
	sqlite3_reset(S(st));
	sqlite3_clear_bindings(S(st));
}

static void sq_finalize(void *st)
{
	sqlite3_finalize(S(st));
	free(st);
}

static const char *sq_col_str(void *st, int i)
{
	return (const char *)sqlite3_column_text(S(st), i);
}

static int sq_col_count(void *st)
{
	return sqlite3_column_count(S(st));
}

static const char *sq_col_name(void *st, int i)
{
	return sqlite3_column_name(S(st), i);
}

static enum tg_db_type sq_col_type(void *st, int i)
{
	switch (sqlite3_column_type(S(st), i)) {
	case SQLITE_NULL:
		return TG_DB_NULL;
	case SQLITE_INTEGER:
		return TG_DB_INT;
	case SQLITE_BLOB:
		return TG_DB_BLOB;
	default:
		return TG_DB_TEXT;     /* text, and floats (the schema has none) */
	}
}

static int64_t sq_col_int(void *st, int i)
{
	return sqlite3_column_int64(S(st), i);
}

static bool sq_col_is_null(void *st, int i)
{
	return sqlite3_column_type(S(st), i) == SQLITE_NULL;
}

static const void *sq_col_blob(void *st, int i, size_t *ret_len)
{
	const void *p = sqlite3_column_blob(S(st), i);
	*ret_len = (size_t)sqlite3_column_bytes(S(st), i);
	return p;
}

/* The online backup API, inside the caller's read transaction: the copy is
 * the snapshot that transaction sees, written page by page to a new file
 * (never over an existing one). */
static enum tg_err sq_backup(struct tg_db *db, const char *file, struct tg_diag *d)
{
	struct tg_db out = { .target = (char *)file, .path = (char *)file };
	sqlite3_backup *b;
	enum tg_err r;
	int rc, fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

	if (fd < 0)
		return tg_fail(d, errno == EEXIST ? TG_E_EXISTS : TG_E_IO, "%s: cannot create: %s", file,
			       strerror(errno));
	close(fd);
	r = connect_file(&out, d);
	if (r == TG_OK) {
		b = sqlite3_backup_init(out.conn, "main", conn(db), "main");
		if (!b)
			r = sq_err(&out, sqlite3_errcode(out.conn), d, "backup");
		else {
			rc = sqlite3_backup_step(b, -1);
			sqlite3_backup_finish(b);
			if (rc != SQLITE_DONE)
				r = sq_err(&out, rc, d, "backup");
		}
	}
	if (out.conn)
		sqlite3_close_v2(out.conn);
	if (r != TG_OK)
		sq_destroy(file);
	return r;
}

static int64_t sq_changes(struct tg_db *db)
{
	return sqlite3_changes(conn(db));
}

static const char *sq_version(struct tg_db *db)
{
	(void)db;
	return sqlite3_libversion();
}

const struct tg_db_driver tg_db_sqlite = {
	.name = "sqlite",
	.caps = TG_DB_CAP_FILE | TG_DB_CAP_BACKUP_API,
	.create = sq_create,
	.open = sq_open,
	.close = sq_close,
	.destroy = sq_destroy,
	.exec = sq_exec,
	.begin_sql = "BEGIN IMMEDIATE;",
	/* In WAL mode a read transaction sees one snapshot and lets writers
	 * on. */
	.snapshot_sql = "BEGIN DEFERRED; SELECT count(*) FROM schema_version;",
	.sync_ids = NULL,
	.backup = sq_backup,
	.ddl = NULL,
	.tune_resident = sq_tune_resident,
	.prepare = sq_prepare,
	.scan = NULL,
	.sql = sq_sql,
	.bind_text = sq_bind_text,
	.bind_int = sq_bind_int,
	.bind_blob = sq_bind_blob,
	.bind_null = sq_bind_null,
	.step = sq_step,
	.reset = sq_reset,
	.clear = sq_clear,
	.finalize = sq_finalize,
	.col_str = sq_col_str,
	.col_count = sq_col_count,
	.col_name = sq_col_name,
	.col_type = sq_col_type,
	.col_int = sq_col_int,
	.col_is_null = sq_col_is_null,
	.col_blob = sq_col_blob,
	.changes = sq_changes,
	.version = sq_version,
};
