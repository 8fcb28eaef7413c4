/*
 * The PostgreSQL driver: the records of several appliances in one database
 * (--db postgresql://...).  libpq is opened on first use, not linked:
 * linking it (and the TLS, Kerberos and LDAP libraries it brings) cost every
 * `trustgate` start about 5 ms, also when the records are a SQLite file.
 * The one place libpq results and SQLSTATEs become enum tg_err.
 *
 * SQL is written once for both engines (the db/ schema files and the queries across the
 * program): `?N` and `?` become `$N` here, and the schema's SQLite type
 * names become PostgreSQL's in pg_ddl().  Parameters are sent as text with
 * their type (text, bigint, bytea) and results read as text.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dlfcn.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

#include <libpq-fe.h>

#include "driver.h"

#define PG_BOOL 16
#define PG_BYTEA 17
#define PG_INT8 20
#define PG_INT2 21
#define PG_INT4 23
#define PG_TEXT 25

#define PQ_FUNCS(X)                                                                                     \
	X(PQconnectdb) X(PQstatus) X(PQerrorMessage) X(PQfinish) X(PQexec) X(PQexecParams)           \
	X(PQresultStatus) X(PQresultErrorField) X(PQresultErrorMessage) X(PQclear) X(PQntuples)       \
	X(PQnfields) X(PQgetvalue) X(PQgetlength) X(PQgetisnull) X(PQftype) X(PQcmdTuples)             \
	X(PQunescapeBytea) X(PQfreemem) X(PQparameterStatus) X(PQsetNoticeProcessor)                   \
	X(PQtransactionStatus) X(PQreset) X(PQsetClientEncoding) X(PQlibVersion) X(PQfname) X(PQprepare) X(PQexecPrepared)

static struct {
#define PQ_FIELD(fn) __typeof__(fn) *fn;
	PQ_FUNCS(PQ_FIELD)
#undef PQ_FIELD
} pq;
static char pq_error[200];
static pthread_once_t pq_once = PTHREAD_ONCE_INIT;

static void pq_load(void)
{
	void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(pq_error, sizeof(pq_error), "%s", dlerror());
		return;
	}
#define PQ_SYM(fn)                                                                        \
	if (!pq_error[0] && !(*(void **)&pq.fn = dlsym(h, #fn)))                          \
		snprintf(pq_error, sizeof(pq_error), "libpq.so.5 has no %s", #fn);
	PQ_FUNCS(PQ_SYM)
#undef PQ_SYM
	if (pq_error[0])
		memset(&pq, 0, sizeof(pq));
}

static enum tg_err pq_ready(const char *path, struct tg_diag *d)
{
	pthread_once(&pq_once, pq_load);
	if (pq_error[0])
		return tg_fail(d, TG_E_DB, "%s: cannot load the PostgreSQL client library: %s (Debian package libpq5)",
			       path, pq_error);
	return TG_OK;
}

/* Server notices ("... does not exist, skipping") are not the user's
 * business: the one line a command prints stays one line. */
static void pg_notice(void *ud, const char *message)
{
	(void)ud;
	(void)message;
}

/* Text in, text out, exactly: no locale-dependent formatting of the values
 * trustgate reads back. */
#define PG_SESSION_SQL \
	"SET standard_conforming_strings = on; SET bytea_output = 'hex'; SET DateStyle = 'ISO'; " \
	"SET extra_float_digits = 3;"

struct pg_conn {
	PGconn *c;
	int64_t changes;
	unsigned cursors;             /* names of scan cursors, tgscanN */
	unsigned prepared;            /* names of prepared statements, tgsN */
	unsigned gen;                 /* +1 per reconnection: what was prepared is gone */
};

#ifndef SCAN_BATCH          /* -DSCAN_BATCH=3 in a test build walks the batch edges */
#define SCAN_BATCH 20000
#endif

static PGconn *conn(struct tg_db *db)
{
	return ((struct pg_conn *)db->conn)->c;
}

/* One line from libpq's message (which may hold several, and a trailing
 * newline): the first line, the rest dropped. */
static void first_line(const char *msg, char *out, size_t n)
{
	snprintf(out, n, "%s", msg && *msg ? msg : "unknown error");
	out[strcspn(out, "\n")] = 0;
}

/* A failed result (or none) as enum tg_err: constraints (SQLSTATE class
 * 23) are TG_E_EXISTS like SQLite's; a lost connection or a server that
 * cannot serve (class 08, 53, 57) says so, for the service's 503. */
static enum tg_err pg_err(struct tg_db *db, PGresult *res, struct tg_diag *d, const char *what)
{
	const char *state = res ? pq.PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char line[300];

	first_line(msg ? msg : pq.PQerrorMessage(conn(db)), line, sizeof(line));
	if (state && strncmp(state, "23", 2) == 0)
		return tg_fail(d, TG_E_EXISTS, "%s: %s refused: %s", db->path, what, line);
	if (!state || strncmp(state, "08", 2) == 0 || strncmp(state, "57", 2) == 0 || strncmp(state, "53", 2) == 0 ||
	    pq.PQstatus(conn(db)) != CONNECTION_OK)
		return tg_fail(d, TG_E_DB, "%s: database unavailable (%s failed: %s)", db->path, what, line);
	return tg_fail(d, TG_E_DB, "%s: %s failed: %s", db->path, what, line);
}

/* A server restarted (or a connection cut) under a long-lived connection,
 * the service's: outside a transaction nothing of ours is in flight, so the
 * connection is made again before the statement runs, and once more when
 * it fails that way.  Inside a transaction the failure stands: the
 * transaction is lost and its caller says so (503), nothing half-written. */
static bool reconnect(struct tg_db *db)
{
	if (db->in_tx || pq.PQstatus(conn(db)) == CONNECTION_OK)
		return false;
	pq.PQreset(conn(db));
	if (pq.PQstatus(conn(db)) != CONNECTION_OK)
		return false;
	((struct pg_conn *)db->conn)->gen++;
	pq.PQsetNoticeProcessor(conn(db), pg_notice, NULL);
	pq.PQsetClientEncoding(conn(db), "UTF8");
	PGresult *res = pq.PQexec(conn(db), PG_SESSION_SQL);
	pq.PQclear(res);
	return true;
}

static enum tg_err pg_exec(struct tg_db *db, const char *sql, struct tg_diag *d)
{
	PGresult *res;
	ExecStatusType s;
	enum tg_err r = TG_OK;

	reconnect(db);
	res = pq.PQexec(conn(db), sql);
	s = res ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && reconnect(db)) {
		pq.PQclear(res);
		res = pq.PQexec(conn(db), sql);
		s = res ? pq.PQresultStatus(res) : PGRES_FATAL_ERROR;
	}

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK)
		r = pg_err(db, res, d, "statement");
	pq.PQclear(res);
	return r;
}


static enum tg_err pg_connect(struct tg_db *db, struct tg_diag *d)
{
	struct pg_conn *pc;
	char line[300];
	enum tg_err r = pq_ready(db->path, d);

	if (r != TG_OK)
		return r;
	pc = tg_calloc(1, sizeof(*pc));
	if (!pc)
		return TG_E_NOMEM;
	db->conn = pc;
	pc->c = pq.PQconnectdb(db->target);
	if (!pc->c)
		return TG_E_NOMEM;
	if (pq.PQstatus(pc->c) != CONNECTION_OK) {
		first_line(pq.PQerrorMessage(pc->c), line, sizeof(line));
		return tg_fail(d, TG_E_DB, "%s: cannot connect: %s", db->path, line);
	}
	pq.PQsetNoticeProcessor(pc->c, pg_notice, NULL);
	if (pq.PQsetClientEncoding(pc->c, "UTF8") != 0)
		return tg_fail(d, TG_E_DB, "%s: the server does not speak UTF-8", db->path);
	return pg_exec(db, PG_SESSION_SQL, d);
}

/* 1 when the table exists in the connection's search path. */
static enum tg_err table_exists(struct tg_db *db, const char *name, bool *ret, struct tg_diag *d)
{
	const char *vals[1] = { name };
	PGresult *res = pq.PQexecParams(conn(db), "SELECT to_regclass($1) IS NOT NULL;", 1, NULL, vals, NULL, NULL, 0);
	enum tg_err r = TG_OK;

	if (!res || pq.PQresultStatus(res) != PGRES_TUPLES_OK || pq.PQntuples(res) != 1)
		r = pg_err(db, res, d, "schema query");
	else
		*ret = pq.PQgetvalue(res, 0, 0)[0] == 't';
	pq.PQclear(res);
	return r;
}

static enum tg_err pg_create(struct tg_db *db, struct tg_diag *d)
{
	enum tg_err r = pg_connect(db, d);

	if (r != TG_OK)
		return r;
	/* Never trustgate's records twice in one database, and never over a
	 * table of another application that happens to share a name. */
	bool there = false;
	r = table_exists(db, "schema_version", &there, d);
	if (r == TG_OK && there)
		return tg_fail(d, TG_E_EXISTS, "%s: already holds trustgate records; not overwriting them", db->path);
	for (size_t i = 0; r == TG_OK && i < tg_db_ntables; i++) {
		r = table_exists(db, tg_db_tables[i].name, &there, d);
		if (r == TG_OK && there)
			return tg_fail(d, TG_E_EXISTS, "%s: already has a table named %s; trustgate's records need "
				       "a database (or schema) of their own", db->path, tg_db_tables[i].name);
	}
	return r;
}

static enum tg_err pg_open(struct tg_db *db, struct tg_diag *d)
{
	bool version = false, audit = false;
	enum tg_err r = pg_connect(db, d);

	if (r == TG_OK)
		r = table_exists(db, "schema_version", &version, d);
	if (r == TG_OK)
		r = table_exists(db, "audit", &audit, d);
	if (r != TG_OK)
		return r;
	if (!version || !audit)
		return tg_fail(d, TG_E_NOTFOUND, "%s: no trustgate records here (run 'trustgate db init')", db->path);
	return TG_OK;
}

static void pg_close(struct tg_db *db)
{
	struct pg_conn *pc = db->conn;

	if (pc && pc->c)
		pq.PQfinish(pc->c);
	free(pc);
	db->conn = NULL;
}

/* Only after tg_db_create made the tables (its own transaction committed)
 * and the step after it failed (`db init`'s first audit row, a copy's
 * verification): pg_create refused any database that held one of these
 * names, so all of them are trustgate's. */
static void pg_destroy(const char *target)
{
	struct tg_db db = { .target = (char *)target, .path = (char *)"database" };
	struct tg_diag d = { { 0 } };
	bool mine = false;
	char sql[512] = "DROP TABLE IF EXISTS schema_version";

	if (pg_connect(&db, &d) == TG_OK && table_exists(&db, "schema_version", &mine, &d) == TG_OK && mine) {
		for (size_t i = tg_db_ntables; i-- > 0;) {
			strcat(sql, ", ");
			strcat(sql, tg_db_tables[i].name);
		}
		strcat(sql, ";");
		pg_exec(&db, sql, &d);
	}
	if (db.conn)
		pg_close(&db);
}

static enum tg_err pg_tune_resident(struct tg_db *db, struct tg_diag *d)
{
	(void)db;
	(void)d;
	return TG_OK;
}

/* A literal or quoted name starting at sql[i], copied as it is to out + *o;
 * returns the index after it.  Both rewriters below leave them alone. */
static size_t copy_quoted(const char *sql, size_t i, size_t n, char *out, size_t *o)
{
	const char *q = strchr(sql + i + 1, sql[i]);
	size_t e = q ? (size_t)(q - sql) + 1 : n;

	memcpy(out + *o, sql + i, e - i);
	*o += e - i;
	return e;
}

/*
 * The schema in PostgreSQL's words.  Written for SQLite, where INTEGER is
 * 64 bits and INTEGER PRIMARY KEY numbers rows; here BIGINT, with an
 * identity for the key.  Text compares byte by byte in both: the audit
 * chain's action ranges and every ORDER BY must not follow a locale
 * (en_US would put "host.x" after "host/").  Comments and literals are
 * copied as they are.
 */
static char *pg_ddl(const char *sql)
{
	static const struct {
		const char *from, *to;
	} words[] = {
		{ "INTEGER PRIMARY KEY", "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" },
		{ "INTEGER", "BIGINT" },
		{ "BLOB", "BYTEA" },
		{ "TEXT", "TEXT COLLATE \"C\"" },
	};
	size_t n = strlen(sql), cap = n * 4 + 64, o = 0;
	char *out = malloc(cap);

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (sql[i] == '-' && sql[i + 1] == '-') {
			size_t e = i + strcspn(sql + i, "\n");
			memcpy(out + o, sql + i, e - i);
			o += e - i;
			i = e;
			continue;
		}
		if (sql[i] == '\'' || sql[i] == '"') {
			i = copy_quoted(sql, i, n, out, &o);
			continue;
		}
		if (isalpha((unsigned char)sql[i]) && (i == 0 || !(isalnum((unsigned char)sql[i - 1]) || sql[i - 1] == '_'))) {
			bool done = false;
			for (size_t w = 0; w < TG_ARRAY_SIZE(words) && !done; w++) {
				size_t wl = strlen(words[w].from);
				char after = sql[i + wl < n ? i + wl : n];
				if (strncmp(sql + i, words[w].from, wl) == 0 && !isalnum((unsigned char)after) && after != '_') {
					size_t tl = strlen(words[w].to);
					if (o + tl + 1 >= cap) {
						free(out);
						return NULL;
					}
					memcpy(out + o, words[w].to, tl);
					o += tl;
					i += wl;
					done = true;
				}
			}
			if (done)
				continue;
			while (i < n && (isalnum((unsigned char)sql[i]) || sql[i] == '_'))
				out[o++] = sql[i++];
			continue;
		}
		if (o + 1 >= cap) {
			free(out);
			return NULL;
		}
		out[o++] = sql[i++];
	}
	out[o] = 0;
	return out;
}

struct pg_stmt {
	struct tg_db *db;
	/* A scan: rows FETCHed from a cursor, SCAN_BATCH at a time; own_tx
	 * when the scan began the read-only transaction it runs in. */
	bool scan, open, own_tx, done;
	unsigned cursor;
	/* A statement of the cache runs prepared on the server (parsed and
	 * planned once per connection), as long as its parameters keep the
	 * types it was prepared with. */
	bool keep, prepared;
	unsigned prep_gen;
	char name[24];
	Oid *prep_types;
	char *sql;                    /* as the program wrote it */
	char *text;                   /* with $N */
	int nparams;
	char **vals;
	int *lens, *fmts;
	Oid *types;
	PGresult *res;
	int row, nrows;
	unsigned char **blobs;        /* bytea columns of the current row, decoded */
	size_t *bloblens;
};

/* ?N -> $N, ? -> $(k) for the k-th, outside literals and quoted names; the
 * number of parameters is the largest. */
static char *pg_params(const char *sql, int *ret_n)
{
	size_t n = strlen(sql), o = 0;
	char *out = malloc(n * 4 + 1);
	int next = 0, max = 0;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		if (sql[i] == '\'' || sql[i] == '"') {
			i = copy_quoted(sql, i, n, out, &o);
		} else if (sql[i] == '?') {
			int num = 0;
			i++;
			if (isdigit((unsigned char)sql[i])) {
				while (isdigit((unsigned char)sql[i]) && num < 1000)
					num = num * 10 + (sql[i++] - '0');
			} else {
				num = ++next;
			}
			if (num > max)
				max = num;
			o += (size_t)sprintf(out + o, "$%d", num);
		} else {
			out[o++] = sql[i++];
		}
	}
	out[o] = 0;
	*ret_n = max;
	return out;
}

static void drop_blobs(struct pg_stmt *s)
{
	if (!s->blobs || !s->res)
		return;
	for (int i = 0; i < pq.PQnfields(s->res); i++) {
		if (s->blobs[i])
			pq.PQfreemem(s->blobs[i]);
		s->blobs[i] = NULL;
	}
}

static void scan_close(struct pg_stmt *s);

static void pg_reset(void *st)
{
	struct pg_stmt *s = st;

	scan_close(s);
	drop_blobs(s);
	free(s->blobs);
	free(s->bloblens);
	s->blobs = NULL;
	s->bloblens = NULL;
	if (s->res)
		pq.PQclear(s->res);
	s->res = NULL;
	s->row = -1;
	s->nrows = 0;
	s->done = false;
}

static void pg_clear(void *st)
{
	struct pg_stmt *s = st;

	pg_reset(s);
	for (int i = 0; i < s->nparams; i++) {
		free(s->vals[i]);
		s->vals[i] = NULL;
		s->lens[i] = 0;
		s->fmts[i] = 0;
		s->types[i] = 0;
	}
}

static void pg_finalize(void *st)
{
	struct pg_stmt *s = st;

	if (!s)
		return;
	pg_clear(s);
	free(s->vals);
	free(s->lens);
	free(s->fmts);
	free(s->types);
	free(s->prep_types);
	free(s->sql);
	free(s->text);
	free(s);
}

static enum tg_err pg_prepare(struct tg_db *db, const char *sql, bool keep, void **ret, struct tg_diag *d)
{
	struct pg_stmt *s = tg_calloc(1, sizeof(*s));

	if (!s)
		return TG_E_NOMEM;
	s->keep = keep;
	s->db = db;
	s->row = -1;
	s->sql = strdup(sql);
	s->text = pg_params(sql, &s->nparams);
	if (s->sql && s->text) {
		size_t k = s->nparams ? (size_t)s->nparams : 1;
		s->vals = calloc(k, sizeof(*s->vals));
		s->lens = calloc(k, sizeof(*s->lens));
		s->fmts = calloc(k, sizeof(*s->fmts));
		s->types = calloc(k, sizeof(*s->types));
	}
	if (!s->sql || !s->text || !s->vals || !s->lens || !s->fmts || !s->types) {
		pg_finalize(s);
		return tg_fail(d, TG_E_NOMEM, "out of memory");
	}
	*ret = s;
	return TG_OK;
}

static void pg_scan(void *st)
{
	((struct pg_stmt *)st)->scan = true;
}

/* End a scan: its cursor closed, its own transaction ended. */
static void scan_close(struct pg_stmt *s)
{
	char sql[64];

	if (!s->open)
		return;
	s->open = false;
	snprintf(sql, sizeof(sql), "CLOSE tgscan%u;%s", s->cursor, s->own_tx ? " COMMIT;" : "");
	PGresult *res = pq.PQexec(conn(s->db), sql);
	pq.PQclear(res);
	s->own_tx = false;
}

/* The next batch of a scan into s->res (DECLARE first). */
static enum tg_err scan_fetch(struct tg_db *db, struct pg_stmt *s, struct tg_diag *d)
{
	struct pg_conn *pc = db->conn;
	char sql[64];
	PGresult *res;
	enum tg_err r = TG_OK;

	if (!s->open) {
		_cleanup_free_ char *decl = NULL;
		reconnect(db);
		if (!db->in_tx) {
			res = pq.PQexec(pc->c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;");
			if (pq.PQresultStatus(res) != PGRES_COMMAND_OK)
				r = pg_err(db, res, d, "query");
			pq.PQclear(res);
			if (r != TG_OK)
				return r;
			s->own_tx = true;
		}
		s->cursor = ++pc->cursors;
		if (asprintf(&decl, "DECLARE tgscan%u NO SCROLL CURSOR FOR %s", s->cursor, s->text) < 0)
			return TG_E_NOMEM;
		/* The statement's own ';' ends the DECLARE, not the query. */
		for (size_t e = strlen(decl); e > 0 && (decl[e - 1] == ';' || isspace((unsigned char)decl[e - 1]));)
			decl[--e] = 0;
		res = pq.PQexecParams(pc->c, decl, s->nparams, s->types, (const char *const *)s->vals, s->lens, s->fmts, 0);
		if (pq.PQresultStatus(res) != PGRES_COMMAND_OK)
			r = pg_err(db, res, d, "query");
		pq.PQclear(res);
		s->open = true;
		if (r != TG_OK) {
			scan_close(s);
			return r;
		}
	}
	snprintf(sql, sizeof(sql), "FETCH %d FROM tgscan%u;", SCAN_BATCH, s->cursor);
	s->res = pq.PQexec(pc->c, sql);
	if (!s->res || pq.PQresultStatus(s->res) != PGRES_TUPLES_OK) {
		r = pg_err(db, s->res, d, "query");
		pq.PQclear(s->res);
		s->res = NULL;
		scan_close(s);
		return r;
	}
	s->nrows = pq.PQntuples(s->res);
	s->row = -1;
	return TG_OK;
}

static enum tg_err scan_step(struct tg_db *db, struct pg_stmt *s, bool *ret_row, struct tg_diag *d)
{
	enum tg_err r;

	*ret_row = false;
	if (s->done)
		return TG_OK;
	if (s->res && s->row + 1 < s->nrows) {
		drop_blobs(s);
		s->row++;
		*ret_row = true;
		return TG_OK;
	}
	/* The batch is read: a short one was the last. */
	bool last = s->res && s->nrows < SCAN_BATCH;
	drop_blobs(s);
	if (s->res)
		pq.PQclear(s->res);
	s->res = NULL;
	if (last) {
		scan_close(s);
		s->done = true;
		return TG_OK;
	}
	r = scan_fetch(db, s, d);
	if (r != TG_OK)
		return r;
	if (!s->blobs && pq.PQnfields(s->res) > 0) {
		s->blobs = calloc((size_t)pq.PQnfields(s->res), sizeof(*s->blobs));
		s->bloblens = calloc((size_t)pq.PQnfields(s->res), sizeof(*s->bloblens));
		if (!s->blobs || !s->bloblens)
			return tg_fail(d, TG_E_NOMEM, "out of memory");
	}
	if (s->nrows == 0) {
		scan_close(s);
		s->done = true;
		return TG_OK;
	}
	s->row = 0;
	*ret_row = true;
	return TG_OK;
}

static const char *pg_sql(void *st)
{
	return ((struct pg_stmt *)st)->sql;
}

/* Binding changes the next run: a statement already run is reset first,
 * as SQLite requires of its callers. */
static void bind(struct pg_stmt *s, int i, char *val, int len, int fmt, Oid type)
{
	if (i < 1 || i > s->nparams) {
		free(val);
		return;
	}
	free(s->vals[i - 1]);
	s->vals[i - 1] = val;
	s->lens[i - 1] = len;
	s->fmts[i - 1] = fmt;
	s->types[i - 1] = type;
}

static void pg_bind_text(void *st, int i, const char *v)
{
	bind(st, i, v ? strdup(v) : NULL, 0, 0, PG_TEXT);
}

static void pg_bind_int(void *st, int i, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	bind(st, i, strdup(buf), 0, 0, PG_INT8);
}

static void pg_bind_blob(void *st, int i, const void *p, size_t n)
{
	char *copy = p ? malloc(n ? n : 1) : NULL;

	if (copy)
		memcpy(copy, p, n);
	bind(st, i, copy, (int)n, 1, PG_BYTEA);
}

static void pg_bind_null(void *st, int i)
{
	bind(st, i, NULL, 0, 0, 0);
}

/* One run of s: prepared (once per connection and parameter types) when it
 * is a statement of the cache, as one PQexecParams otherwise. */
static PGresult *run(struct tg_db *db, struct pg_stmt *s)
{
	struct pg_conn *pc = db->conn;
	size_t tl = (size_t)s->nparams * sizeof(Oid);

	if (s->keep && (!s->prepared || s->prep_gen != pc->gen || (tl && memcmp(s->prep_types, s->types, tl) != 0))) {
		PGresult *res;

		if (!s->prep_types && !(s->prep_types = calloc((size_t)s->nparams + 1, sizeof(Oid))))
			return NULL;
		snprintf(s->name, sizeof(s->name), "tgs%u", ++pc->prepared);
		res = pq.PQprepare(pc->c, s->name, s->text, s->nparams, s->types);
		if (!res || pq.PQresultStatus(res) != PGRES_COMMAND_OK)
			return res;
		pq.PQclear(res);
		if (tl)
			memcpy(s->prep_types, s->types, tl);
		s->prepared = true;
		s->prep_gen = pc->gen;
	}
	if (s->keep)
		return pq.PQexecPrepared(pc->c, s->name, s->nparams, (const char *const *)s->vals, s->lens, s->fmts, 0);
	return pq.PQexecParams(pc->c, s->text, s->nparams, s->types, (const char *const *)s->vals, s->lens, s->fmts, 0);
}

static enum tg_err pg_step(struct tg_db *db, void *st, bool *ret_row, struct tg_diag *d)
{
	struct pg_stmt *s = st;
	struct pg_conn *pc = db->conn;

	if (s->scan)
		return scan_step(db, s, ret_row, d);
	*ret_row = false;
	if (!s->res) {
		ExecStatusType es;

		reconnect(db);
		s->res = run(db, s);
		es = s->res ? pq.PQresultStatus(s->res) : PGRES_FATAL_ERROR;
		if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK && reconnect(db)) {
			pq.PQclear(s->res);
			s->res = run(db, s);
			es = s->res ? pq.PQresultStatus(s->res) : PGRES_FATAL_ERROR;
		}
		if (es != PGRES_TUPLES_OK && es != PGRES_COMMAND_OK) {
			enum tg_err r = pg_err(db, s->res, d, "query");
			pq.PQclear(s->res);
			s->res = NULL;
			return r;
		}
		s->nrows = pq.PQntuples(s->res);
		pc->changes = strtoll(pq.PQcmdTuples(s->res), NULL, 10);
		if (pq.PQnfields(s->res) > 0) {
			s->blobs = calloc((size_t)pq.PQnfields(s->res), sizeof(*s->blobs));
			s->bloblens = calloc((size_t)pq.PQnfields(s->res), sizeof(*s->bloblens));
			if (!s->blobs || !s->bloblens)
				return tg_fail(d, TG_E_NOMEM, "out of memory");
		}
	} else {
		drop_blobs(s);
	}
	if (s->row < s->nrows)
		s->row++;
	*ret_row = s->row < s->nrows;
	return TG_OK;
}

static bool has_value(struct pg_stmt *s, int i)
{
	return s->res && s->row >= 0 && s->row < s->nrows && i >= 0 && i < pq.PQnfields(s->res) &&
	       !pq.PQgetisnull(s->res, s->row, i);
}

static const char *pg_col_str(void *st, int i)
{
	struct pg_stmt *s = st;

	return has_value(s, i) ? pq.PQgetvalue(s->res, s->row, i) : NULL;
}

static int pg_col_count(void *st)
{
	struct pg_stmt *s = st;

	return s->res ? pq.PQnfields(s->res) : 0;
}

static const char *pg_col_name(void *st, int i)
{
	struct pg_stmt *s = st;

	return s->res ? pq.PQfname(s->res, i) : NULL;
}

static enum tg_db_type pg_col_type(void *st, int i)
{
	struct pg_stmt *s = st;

	if (!has_value(s, i))
		return TG_DB_NULL;
	switch (pq.PQftype(s->res, i)) {
	case PG_INT8:
	case PG_INT4:
	case PG_INT2:
	case PG_BOOL:
		return TG_DB_INT;
	case PG_BYTEA:
		return TG_DB_BLOB;
	default:
		return TG_DB_TEXT;
	}
}

static int64_t pg_col_int(void *st, int i)
{
	struct pg_stmt *s = st;
	const char *v = pg_col_str(s, i);

	if (!v)
		return 0;
	if (pq.PQftype(s->res, i) == PG_BOOL)
		return v[0] == 't';
	return strtoll(v, NULL, 10);
}

static bool pg_col_is_null(void *st, int i)
{
	return !has_value(st, i);
}

static const void *pg_col_blob(void *st, int i, size_t *ret_len)
{
	struct pg_stmt *s = st;
	const char *v = pg_col_str(s, i);

	*ret_len = 0;
	if (!v)
		return NULL;
	if (pq.PQftype(s->res, i) != PG_BYTEA) {
		*ret_len = (size_t)pq.PQgetlength(s->res, s->row, i);
		return v;
	}
	if (!s->blobs[i])
		s->blobs[i] = pq.PQunescapeBytea((const unsigned char *)v, &s->bloblens[i]);
	*ret_len = s->blobs[i] ? s->bloblens[i] : 0;
	return s->blobs[i];
}

/* Identity columns: rows copied with their ids leave the sequence behind;
 * the next insert would collide with a copied row. */
static enum tg_err pg_sync_ids(struct tg_db *db, const char *table, const char *col, struct tg_diag *d)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s;",
		 table, col, col, table);
	return pg_exec(db, sql, d);
}

static int64_t pg_changes(struct tg_db *db)
{
	return ((struct pg_conn *)db->conn)->changes;
}

static const char *pg_version(struct tg_db *db)
{
	const char *v = db && db->conn ? pq.PQparameterStatus(conn(db), "server_version") : NULL;
	return v ? v : "?";
}

const struct tg_db_driver tg_db_postgresql = {
	.name = "postgresql",
	.caps = 0,
	.create = pg_create,
	.open = pg_open,
	.close = pg_close,
	.destroy = pg_destroy,
	.exec = pg_exec,
	/* The one write lock of SQLite's BEGIN IMMEDIATE, held to the end of
	 * the transaction by every appliance sharing the records: audit rows
	 * are appended one after another, each on the head the last one
	 * left, and a nonce is looked up and spent under it (0x54475431 is
	 * "TGT1", the application id). */
	.begin_sql = "BEGIN ISOLATION LEVEL READ COMMITTED; SELECT pg_advisory_xact_lock(1414943793);",
	/* A read of one snapshot that writers do not wait for. */
	.snapshot_sql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;",
	.sync_ids = pg_sync_ids,
	.backup = NULL,
	.ddl = pg_ddl,
	.tune_resident = pg_tune_resident,
	.prepare = pg_prepare,
	.scan = pg_scan,
	.sql = pg_sql,
	.bind_text = pg_bind_text,
	.bind_int = pg_bind_int,
	.bind_blob = pg_bind_blob,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.clear = pg_clear,
	.finalize = pg_finalize,
	.col_str = pg_col_str,
	.col_count = pg_col_count,
	.col_name = pg_col_name,
	.col_type = pg_col_type,
	.col_int = pg_col_int,
	.col_is_null = pg_col_is_null,
	.col_blob = pg_col_blob,
	.changes = pg_changes,
	.version = pg_version,
};
