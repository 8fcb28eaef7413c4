/*
 * The records: one SQLite file in WAL mode.  SQLITE_* codes are converted
 * in db.c and never leave db/.
 */
#ifndef TG_DB_H
#define TG_DB_H

#include "../common/tg.h"

struct sqlite3;
/* A prepared statement of the records' engine (db.c's; opaque). */
struct tg_stmt;

/* Called with each new audit head, inside the transaction that wrote it
 * (an error rolls the transaction back): the TPM anchor of an appliance. */
typedef enum tg_err (*tg_anchor_fn)(void *ud, int64_t seq, const char *hash_hex, struct tg_diag *d);

struct tg_db {
	struct sqlite3 *h;
	char *path;
	bool in_tx;
	tg_anchor_fn anchor;
	void *anchor_ud;
	void (*anchor_free)(void *ud);   /* releases anchor_ud at close */
	/* The row tg_audit_append wrote last (seq 0: none yet). */
	int64_t last_seq;
	char last_hash[65];
};

/* application_id stamped into every trustgate database ("TGT1"). */
#define TG_DB_APPLICATION_ID 0x54475431
#define TG_DB_SCHEMA_VERSION 7

/* Create a new database at path (refuses an existing file). */
enum tg_err tg_db_create(const char *path, struct tg_db **ret, struct tg_diag *d);
/* Open an existing trustgate database; a missing, foreign or corrupt file
 * is an error naming the path, and nothing is created. */
enum tg_err tg_db_open(const char *path, struct tg_db **ret, struct tg_diag *d);
void tg_db_close(struct tg_db *db);
/* For a long-lived connection (a service worker): memory-mapped reads and a
 * larger page cache. */
enum tg_err tg_db_tune_resident(struct tg_db *db, struct tg_diag *d);
static inline void tg_db_closep(struct tg_db **db) { tg_db_close(*db); }

/* Transactions: BEGIN IMMEDIATE, so two writers serialise instead of one
 * failing half way (THREATS case 64). */
enum tg_err tg_db_begin(struct tg_db *db, struct tg_diag *d);
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
const void *tg_db_col_blob(struct tg_stmt *st, int i, size_t *ret_len);
int64_t tg_db_last_rowid(struct tg_db *db);

/* ---- audit chain (audit.c) ---- */
/* Named values beside the records (audit head, TPM anchor setting). */
enum tg_err tg_db_meta_get(struct tg_db *db, const char *name, char **ret, struct tg_diag *d);
enum tg_err tg_db_meta_set(struct tg_db *db, const char *name, const char *value, struct tg_diag *d);

/* Decisions (check, attest, reevaluate) grow with use; every other action
 * changes the records.  The rows of the latter are tallied in meta
 * "audit_record_rows" by every append, and counted through the action
 * index with this condition (db/integrity.c): the same split in both. */
bool tg_audit_is_decision(const char *action);
#define TG_AUDIT_RECORD_ROWS_WHERE \
	"(action < 'attest' OR (action > 'attest' AND action < 'check') OR " \
	"(action > 'check' AND action < 'reevaluate') OR action > 'reevaluate')"

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
