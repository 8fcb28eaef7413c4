/*
 * The records: one SQLite file in WAL mode (the default, one appliance) or a
 * PostgreSQL database (--db postgresql://..., several appliances).  Which
 * engine holds them is db/'s business: the drivers (driver.h) convert their
 * codes and never leave db/.
 */
#ifndef TG_DB_H
#define TG_DB_H

#include "../common/tg.h"

/* A prepared statement of the records' engine (db.c's; opaque). */
struct tg_stmt;
struct tg_db_driver;

/* Called with each new audit head, inside the transaction that wrote it
 * (an error rolls the transaction back): the TPM anchor of an appliance. */
typedef enum tg_err (*tg_anchor_fn)(void *ud, int64_t seq, const char *hash_hex, struct tg_diag *d);

struct tg_db {
	const struct tg_db_driver *drv;
	void *conn;                      /* the driver's connection */
	char *target;                    /* file path or connection URL, as given */
	char *path;                      /* the same for messages: a URL without its password */
	bool in_tx;
	tg_anchor_fn anchor;
	void *anchor_ud;
	void (*anchor_free)(void *ud);   /* releases anchor_ud at close */
	/* The row tg_audit_append wrote last (seq 0: none yet).  head_known:
	 * it is also the chain's head, for the rest of this transaction --
	 * no other writer appends while this one holds the write lock (BEGIN
	 * IMMEDIATE; PostgreSQL's advisory lock), so the head is read once per
	 * transaction.  Cleared by every begin, commit and rollback (to a
	 * savepoint too). */
	int64_t last_seq;
	char last_hash[65];
	bool head_known;
	/* A savepoint released but not yet told the engine: the release goes
	 * with the next SAVEPOINT in one round trip, or COMMIT/ROLLBACK end
	 * it with the transaction. */
	bool release_pending;
	/* Rows were appended in this transaction: meta "audit_head" is
	 * written once, just before COMMIT (tg_db_commit), not per row. */
	bool head_dirty;
};

/* application_id stamped into every trustgate database ("TGT1"). */
#define TG_DB_APPLICATION_ID 0x54475431
#define TG_DB_SCHEMA_VERSION 7

/* Where the records are: a file path, or postgresql://... / postgres://...
 * (libpq's URL; its keyword=value form is not taken, so that no file name
 * is ever read as a connection string). */
bool tg_db_target_is_url(const char *target);
/* Create new records (refuses an existing file, or a PostgreSQL database
 * that already holds trustgate tables). */
enum tg_err tg_db_create(const char *target, struct tg_db **ret, struct tg_diag *d);
/* Remove what tg_db_create made, after a failure of the step that
 * follows it (`db init`'s first audit row). */
void tg_db_destroy(const char *target);
/* Open existing records; missing, foreign or corrupt ones are an error
 * naming them, and nothing is created. */
enum tg_err tg_db_open(const char *target, struct tg_db **ret, struct tg_diag *d);
void tg_db_close(struct tg_db *db);
/* A file of this appliance kept beside its records (the appliance key, the
 * decision log): "<file><suffix>" beside a SQLite file; for records on
 * PostgreSQL, shared by several appliances, "<database name><suffix>" in
 * $TRUSTGATE_STATE_DIR (default /var/lib/trustgate) on this machine.
 * malloc'd. */
char *tg_db_local_file(const struct tg_db *db, const char *suffix);
/* "sqlite" or "postgresql". */
const char *tg_db_engine(const struct tg_db *db);
/* A target fit for messages and records: a URL's password replaced by
 * "***" (malloc'd). */
char *tg_db_target_display(const char *target);
/* For a long-lived connection (a service worker): memory-mapped reads and a
 * larger page cache. */
enum tg_err tg_db_tune_resident(struct tg_db *db, struct tg_diag *d);
static inline void tg_db_closep(struct tg_db **db) { tg_db_close(*db); }

/* Transactions: every one may write, and writers take the one write lock
 * at BEGIN (SQLite's BEGIN IMMEDIATE; on PostgreSQL a transaction-scoped
 * advisory lock), so two writers serialise instead of one failing half way
 * (THREATS case 64) and the audit chain stays one line whatever number of
 * appliances append to it. */
enum tg_err tg_db_begin(struct tg_db *db, struct tg_diag *d);
/* A transaction opened with the driver's sql (its begin or its snapshot). */
enum tg_err tg_db_begin_with(struct tg_db *db, const char *sql, struct tg_diag *d);
enum tg_err tg_db_commit(struct tg_db *db, struct tg_diag *d);
void tg_db_rollback(struct tg_db *db);
/* One decision inside a transaction holding several (the service commits a
 * group of attestations with one sync): kept by release, undone alone by
 * rollback, the others untouched. */
enum tg_err tg_db_savepoint(struct tg_db *db, struct tg_diag *d);
enum tg_err tg_db_savepoint_release(struct tg_db *db, struct tg_diag *d);
void tg_db_savepoint_rollback(struct tg_db *db);

/* Prepared statements: the one place SQL errors are converted. */
enum tg_err tg_db_prepare(struct tg_db *db, const char *sql, struct tg_stmt **ret,
			  struct tg_diag *d);
/* A query whose rows may be millions (the whole audit chain, every verdict):
 * the same as tg_db_prepare on SQLite, which steps through the file; on
 * PostgreSQL its rows come through a cursor a batch at a time instead of
 * all at once into memory.  Outside a transaction the scan reads one
 * snapshot (its own read-only transaction); nothing may be written while
 * it runs there. */
enum tg_err tg_db_prepare_scan(struct tg_db *db, const char *sql, struct tg_stmt **ret, struct tg_diag *d);
/* Bind helpers: NULL text binds SQL NULL. */
void tg_db_bind_text(struct tg_stmt *st, int i, const char *s);
void tg_db_bind_int(struct tg_stmt *st, int i, int64_t v);
void tg_db_bind_blob(struct tg_stmt *st, int i, const void *p, size_t n);
void tg_db_bind_null(struct tg_stmt *st, int i);
/* Step once: TG_OK with *ret_row true for a row, false when done. */
enum tg_err tg_db_step(struct tg_db *db, struct tg_stmt *st, bool *ret_row,
		       struct tg_diag *d);
/* Step a statement that returns no rows. */
enum tg_err tg_db_exec_stmt(struct tg_db *db, struct tg_stmt *st, struct tg_diag *d);
void tg_db_finalize(struct tg_stmt *st);
static inline void tg_db_finalizep(struct tg_stmt **st) { tg_db_finalize(*st); }
#define _cleanup_stmt_ _cleanup_(tg_db_finalizep)
/* Column text copied (malloc'd; NULL for SQL NULL). */
char *tg_db_col_text(struct tg_stmt *st, int i);
/* Column text in place (valid until the next step, reset or finalize;
 * NULL for SQL NULL). */
const char *tg_db_col_str(struct tg_stmt *st, int i);
int tg_db_col_count(struct tg_stmt *st);
/* Make a statement ready to run again, its bindings kept. */
void tg_db_reset(struct tg_stmt *st);
/* Rows changed by the last statement of this connection. */
int64_t tg_db_changes(struct tg_db *db);
/* The engine's name and version, for --version. */
const char *tg_db_engine_version(void);
int64_t tg_db_col_int(struct tg_stmt *st, int i);
bool tg_db_col_is_null(struct tg_stmt *st, int i);
/* A column's name, and the kind of value it holds in the current row. */
enum tg_db_type { TG_DB_NULL, TG_DB_INT, TG_DB_TEXT, TG_DB_BLOB };
const char *tg_db_col_name(struct tg_stmt *st, int i);
enum tg_db_type tg_db_col_type(struct tg_stmt *st, int i);
const void *tg_db_col_blob(struct tg_stmt *st, int i, size_t *ret_len);

/* ---- moving the records (copy.c) ---- */
/* The tables of the schema but schema_version, parents first, with the
 * key their rows are read in. */
struct tg_db_table {
	const char *name, *key;
};
extern const struct tg_db_table tg_db_tables[];
extern const size_t tg_db_ntables;
/* A read transaction on one consistent snapshot that writers need not wait
 * for (SQLite WAL read; PostgreSQL REPEATABLE READ); end it with
 * tg_db_rollback. */
enum tg_err tg_db_begin_snapshot(struct tg_db *db, struct tg_diag *d);
/* Copy every row of every table (rows[i]: how many of tg_db_tables[i]) from
 * one set of records to new ones of the same schema version; `to` must be
 * inside a transaction. */
enum tg_err tg_db_copy_rows(struct tg_db *from, struct tg_db *to, int64_t rows[], struct tg_diag *d);
/* SHA-256 over a table's rows in key order. */
enum tg_err tg_db_table_digest(struct tg_db *db, const struct tg_db_table *t, uint8_t out[32], int64_t *ret_rows,
			       struct tg_diag *d);
/* The records of the open snapshot as a new SQLite file (SQLite's online
 * backup; a row copy from PostgreSQL); the file is removed on failure. */
enum tg_err tg_db_snapshot_file(struct tg_db *db, const char *file, struct tg_diag *d);

/* ---- audit chain (audit.c) ---- */
/* Named values beside the records (audit head, TPM anchor setting). */
enum tg_err tg_db_meta_get(struct tg_db *db, const char *name, char **ret, struct tg_diag *d);
enum tg_err tg_db_meta_set(struct tg_db *db, const char *name, const char *value, struct tg_diag *d);

/* Settings of this appliance about its records (the TPM it anchors them
 * in, its decision log).  In meta beside a SQLite file, whose only writer
 * the appliance is; for records shared on PostgreSQL each appliance keeps
 * its own, in tg_db_local_file(db, ".local.json") on its own disk (another
 * appliance's TPM is not this one's). */
enum tg_err tg_db_local_get(struct tg_db *db, const char *name, char **ret, struct tg_diag *d);
enum tg_err tg_db_local_set(struct tg_db *db, const char *name, const char *value, struct tg_diag *d);
/* Whether other appliances may write these records too (rows after the
 * one this appliance anchored are then not missing anchors). */
bool tg_db_shared(const struct tg_db *db);

/* Decisions (check, attest, reevaluate) grow with use; every other action
 * changes the records.  The rows of the latter are tallied in meta
 * "audit_record_rows" by every append, and counted through the action
 * index with this condition (db/integrity.c): the same split in both. */
bool tg_audit_is_decision(const char *action);
#define TG_AUDIT_RECORD_ROWS_WHERE \
	"(action < 'attest' OR (action > 'attest' AND action < 'check') OR " \
	"(action > 'check' AND action < 'reevaluate') OR action > 'reevaluate')"

/* The last audit row's seq and hash (seq 0, hash "" when there is none). */
enum tg_err tg_audit_head(struct tg_db *db, int64_t *seq, char hash[65], struct tg_diag *d);
/* meta "audit_head" set to the chain's head (tg_db_commit, after appends). */
enum tg_err tg_audit_head_store(struct tg_db *db, struct tg_diag *d);
/* The stored hash of row seq ("" when there is no such row). */
enum tg_err tg_audit_hash_at(struct tg_db *db, int64_t seq, char hash[65], struct tg_diag *d);
/* The seq the next audit row of this transaction will get. */
enum tg_err tg_audit_next_seq(struct tg_db *db, int64_t *ret, struct tg_diag *d);
/* Append one audit row; must run inside a transaction. */
enum tg_err tg_audit_append(struct tg_db *db, const char *actor, const char *action,
			    const char *object, const char *detail, struct tg_diag *d);

struct tg_audit_problem {
	int64_t seq;          /* first bad row, or the row after a gap */
	char what[256];
};
/* Walk the whole chain.  *ret_intact false with problem filled when any
 * row was modified, deleted, inserted or reordered. */
enum tg_err tg_audit_verify(struct tg_db *db, bool *ret_intact, struct tg_audit_problem *problem,
			    struct tg_diag *d);
/* One audit row as selected with TG_AUDIT_COLS (NULL columns read as ""),
 * and whether its stored hash is the hash of its fields. */
#define TG_AUDIT_COLS "seq, time, actor, action, object, detail, prev_hash, hash"
struct tg_audit_row {
	int64_t seq;
	const char *time, *actor, *action, *object, *detail, *prev_hash, *hash;
};
void tg_audit_row_get(struct tg_stmt *st, struct tg_audit_row *row);
bool tg_audit_row_hash_ok(const struct tg_audit_row *row);
/* The chain hash of one row (exposed for tests). */
void tg_audit_row_hash(int64_t seq, const char *time, const char *actor, const char *action,
		       const char *object, const char *detail, const char *prev_hash, char out[65]);

#endif
