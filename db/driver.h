/*
 * The engines under db/: one table of functions per engine (SQLite in
 * sqlite.c, PostgreSQL in pg.c).  Only db/ includes this header; the rest of
 * the program sees struct tg_db and struct tg_stmt and never which engine
 * holds the records.  Each driver is the one place its engine's error codes
 * become enum tg_err.
 */
#ifndef TG_DB_DRIVER_H
#define TG_DB_DRIVER_H

#include "db.h"

/* What an engine can do that the other cannot; the shared code asks. */
enum {
	TG_DB_CAP_FILE = 1 << 0,      /* the records are one local file */
	TG_DB_CAP_BACKUP_API = 1 << 1, /* online backup of a live file */
};

struct tg_db_driver {
	const char *name;             /* "sqlite", "postgresql" */
	unsigned caps;
	/* Make empty records at db->target (refusing existing ones) and
	 * connect; the schema is applied by db.c.  On failure nothing is left
	 * behind that `create` would later refuse. */
	enum tg_err (*create)(struct tg_db *db, struct tg_diag *d);
	/* Connect to existing records and check they are trustgate's and
	 * sound (schema version is db.c's). */
	enum tg_err (*open)(struct tg_db *db, struct tg_diag *d);
	void (*close)(struct tg_db *db);
	/* Remove what create made (a failed `db init`). */
	void (*destroy)(const char *target);
	/* A script of statements without parameters (migrations, BEGIN). */
	enum tg_err (*exec)(struct tg_db *db, const char *sql, struct tg_diag *d);
	/* The statement text that begins a writing transaction, and one that
	 * begins a read of one consistent snapshot that does not stop writers
	 * (copy, backup). */
	const char *begin_sql, *snapshot_sql;
	/* After rows were inserted with their ids given (a copy): the next
	 * row of table gets max(col) + 1.  NULL when the engine does so. */
	enum tg_err (*sync_ids)(struct tg_db *db, const char *table, const char *col, struct tg_diag *d);
	/* Write the records, as they are in the open snapshot, to a new SQLite
	 * file (the engine's own online backup).  NULL: db.c copies rows. */
	enum tg_err (*backup)(struct tg_db *db, const char *file, struct tg_diag *d);
	/* A migration script in this engine's words (NULL: as written);
	 * malloc'd. */
	char *(*ddl)(const char *sql);
	enum tg_err (*tune_resident)(struct tg_db *db, struct tg_diag *d);

	enum tg_err (*prepare)(struct tg_db *db, const char *sql, bool keep, void **ret, struct tg_diag *d);
	/* Mark a prepared statement as a scan (tg_db_prepare_scan); NULL when
	 * every statement streams. */
	void (*scan)(void *st);
	const char *(*sql)(void *st);
	/* NULL text or blob: SQL NULL of that type; bind_null: a NULL whose
	 * type the statement decides. */
	void (*bind_text)(void *st, int i, const char *s);
	void (*bind_int)(void *st, int i, int64_t v);
	void (*bind_blob)(void *st, int i, const void *p, size_t n);
	void (*bind_null)(void *st, int i);
	enum tg_err (*step)(struct tg_db *db, void *st, bool *ret_row, struct tg_diag *d);
	void (*reset)(void *st);
	void (*clear)(void *st);      /* reset and drop the bindings */
	void (*finalize)(void *st);
	const char *(*col_str)(void *st, int i);
	int (*col_count)(void *st);
	const char *(*col_name)(void *st, int i);
	enum tg_db_type (*col_type)(void *st, int i);
	int64_t (*col_int)(void *st, int i);
	bool (*col_is_null)(void *st, int i);
	const void *(*col_blob)(void *st, int i, size_t *ret_len);
	int64_t (*changes)(struct tg_db *db);
	const char *(*version)(struct tg_db *db);
};

extern const struct tg_db_driver tg_db_sqlite;
extern const struct tg_db_driver tg_db_postgresql;

#endif
