/* Unit tests: the audit hash chain and database open/create errors. */
#include <string.h>

#include "harness.h"
#include "../../common/crypto.h"
#include "../../db/db.h"

/* The attacker's raw edit: any statement, no audit row. */
static void exec(struct tg_db *db, const char *sql)
{
	struct tg_diag d = { { 0 } };
	struct tg_stmt *st = NULL;

	if (tg_db_prepare(db, sql, &st, &d) == TG_OK)
		tg_db_exec_stmt(db, st, &d);
	tg_db_finalize(st);
}

int main(void)
{
	char path[] = "/tmp/tg-unit-audit-XXXXXX", dbpath[64], a[65], b[65];
	struct tg_diag d = { { 0 } };
	struct tg_db *db = NULL;
	struct tg_audit_problem pb;
	bool intact = false;

	tg_crypto_init(&d);
	if (!mkdtemp(path))
		return 2;
	snprintf(dbpath, sizeof(dbpath), "%s/t.db", path);

	tg_audit_row_hash(1, "t", "ab", "c", "o", "d", "00", a);
	tg_audit_row_hash(1, "t", "a", "bc", "o", "d", "00", b);
	CHECK(strcmp(a, b) != 0, "field boundaries are part of the hash");
	tg_audit_row_hash(2, "t", "ab", "c", "o", "d", "00", b);
	CHECK(strcmp(a, b) != 0, "the sequence number is part of the hash");

	CHECK(tg_db_open(dbpath, &db, &d) == TG_E_NOTFOUND && strstr(d.msg, "no such database"),
	      "opening a missing database fails and names it");
	CHECK(tg_db_create(dbpath, &db, &d) == TG_OK, "database created");
	for (int i = 0; i < 5; i++) {
		char obj[16];
		snprintf(obj, sizeof(obj), "obj-%d", i);
		tg_db_begin(db, &d);
		tg_audit_append(db, "tester", "test.action", obj, "{\"n\":1}", &d);
		tg_db_commit(db, &d);
	}
	CHECK(tg_audit_append(db, "tester", "x", "y", "{}", &d) == TG_E_DB,
	      "audit rows outside a transaction are refused");
	CHECK(tg_audit_verify(db, &intact, &pb, &d) == TG_OK && intact, "five rows verify");

	/* The attacker edits row 3 and recomputes its hash with the
	 * published scheme: row 4 no longer links. */
	struct tg_stmt *st = NULL;
	bool row = false;
	tg_db_prepare(db, "SELECT time, prev_hash FROM audit WHERE seq = 3", &st, &d);
	tg_db_step(db, st, &row, &d);
	char h[65];
	tg_audit_row_hash(3, tg_db_col_str(st, 0), "mallory", "test.action", "obj-2", "{\"n\":1}",
			  tg_db_col_str(st, 1), h);
	tg_db_finalize(st);
	char sql[256];
	snprintf(sql, sizeof(sql), "UPDATE audit SET actor = 'mallory', hash = '%s' WHERE seq = 3", h);
	exec(db, sql);
	CHECK(tg_audit_verify(db, &intact, &pb, &d) == TG_OK && !intact && pb.seq == 4,
	      "an edit with a recomputed hash is caught at the next row (%lld)", (long long)pb.seq);
	tg_db_close(db);

	CHECK(tg_db_create(dbpath, &db, &d) == TG_E_EXISTS, "create refuses an existing file");
	unlink(dbpath);
	char wal[80];
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", dbpath);
	unlink(wal);
	rmdir(path);
	TEST_DONE();
}
