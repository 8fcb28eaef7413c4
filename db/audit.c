/*
 * The hash-chained audit log.
 *
 * Row hash = SHA-256("tg-audit-v1" || be64(seq) || lp(time) || lp(actor) ||
 * lp(action) || lp(object) || lp(detail) || prev_hash), lp(x) being a
 * 32-bit big-endian length followed by x, and prev_hash the 32 raw bytes of
 * the previous row's hash (zeros for row 1).  Length prefixes make field
 * boundaries unambiguous, so no two different rows hash alike.
 *
 * The head (last seq and hash) is also kept in meta, written in the same
 * transaction, so deleting rows at the tail is seen too.  A consistent
 * rewrite of the whole file by someone who knows this scheme is only caught
 * against a head anchored outside the file (TPM NV, see DESIGN.md).
 */
#include <string.h>


#include "db.h"
#include "../common/crypto.h"
#include "../common/encoding.h"

static const char genesis[65] =
	"0000000000000000000000000000000000000000000000000000000000000000";

static void put_lp(struct tg_md *md, const char *s)
{
	size_t n = strlen(s);
	uint8_t len[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n };

	tg_md_write(md, len, 4);
	tg_md_write(md, s, n);
}

/* The fields of a row up to prev_hash, into md (reset first). */
static void row_fields(struct tg_md *md, int64_t seq, const char *time, const char *actor, const char *action,
		       const char *object, const char *detail)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)((uint64_t)seq >> (56 - 8 * i));
	tg_md_reset(md);
	tg_md_write(md, "tg-audit-v1", 11);
	tg_md_write(md, be, 8);
	put_lp(md, time);
	put_lp(md, actor);
	put_lp(md, action);
	put_lp(md, object);
	put_lp(md, detail);
}

void tg_audit_row_hash(int64_t seq, const char *time, const char *actor, const char *action,
		       const char *object, const char *detail, const char *prev_hash, char out[65])
{
	struct tg_md *md = NULL;
	uint8_t prev[32] = { 0 }, h[32];
	size_t plen = 0;

	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK) {
		out[0] = '\0';
		return;
	}
	row_fields(md, seq, time, actor, action, object, detail);
	/* A malformed prev_hash hashes as its text, so it can never match. */
	if (!tg_hex_decode(prev_hash, prev, sizeof(prev), &plen) || plen != 32)
		put_lp(md, prev_hash);
	else
		tg_md_write(md, prev, 32);
	tg_md_final(md, h);
	tg_md_free(md);
	tg_hex_encode(h, 32, out);
}

enum tg_err tg_db_meta_get(struct tg_db *db, const char *name, char **ret, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT value FROM meta WHERE name = ?1;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, name);
	r = tg_db_step(db, st, &row, d);
	if (r != TG_OK)
		return r;
	*ret = row ? tg_db_col_text(st, 0) : NULL;
	return TG_OK;
}

enum tg_err tg_db_meta_set(struct tg_db *db, const char *name, const char *value, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	enum tg_err r = tg_db_prepare(
		db, "INSERT INTO meta (name, value) VALUES (?1, ?2) "
		    "ON CONFLICT (name) DO UPDATE SET value = excluded.value;", &st, d);

	if (r != TG_OK)
		return r;
	tg_db_bind_text(st, 1, name);
	tg_db_bind_text(st, 2, value);
	return tg_db_exec_stmt(db, st, d);
}

enum tg_err tg_audit_head(struct tg_db *db, int64_t *seq, char hash[65], struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1;", &st, d);

	*seq = 0;
	hash[0] = '\0';
	if (r == TG_OK)
		r = tg_db_step(db, st, &row, d);
	if (r == TG_OK && row) {
		*seq = tg_db_col_int(st, 0);
		snprintf(hash, 65, "%s", tg_db_col_str(st, 1) ? tg_db_col_str(st, 1) : "");
	}
	return r;
}

enum tg_err tg_audit_hash_at(struct tg_db *db, int64_t seq, char hash[65], struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	bool row = false;
	enum tg_err r = tg_db_prepare(db, "SELECT hash FROM audit WHERE seq = ?1;", &st, d);

	hash[0] = '\0';
	if (r == TG_OK) {
		tg_db_bind_int(st, 1, seq);
		r = tg_db_step(db, st, &row, d);
	}
	if (r == TG_OK && row)
		snprintf(hash, 65, "%s", tg_db_col_str(st, 0) ? tg_db_col_str(st, 0) : "");
	return r;
}

/* The chain's head inside a write transaction: read once, then followed
 * by each append (db->head_known, db/db.h) -- a round trip fewer per row on
 * PostgreSQL.  Outside a transaction it is read each time. */
static enum tg_err head_in_tx(struct tg_db *db, int64_t *seq, char hash[65], struct tg_diag *d)
{
	if (db->in_tx && db->head_known) {
		*seq = db->last_seq;
		memcpy(hash, db->last_hash, 65);
		return TG_OK;
	}
	enum tg_err r = tg_audit_head(db, seq, hash, d);
	if (r == TG_OK && db->in_tx) {
		db->last_seq = *seq;
		memcpy(db->last_hash, hash, sizeof(db->last_hash));
		db->head_known = true;
	}
	return r;
}

enum tg_err tg_audit_next_seq(struct tg_db *db, int64_t *ret, struct tg_diag *d)
{
	char hash[65];
	enum tg_err r = head_in_tx(db, ret, hash, d);

	*ret = r == TG_OK ? *ret + 1 : 0;
	return r;
}

enum tg_err tg_audit_head_store(struct tg_db *db, struct tg_diag *d)
{
	char hash[65], headval[96];
	int64_t seq = 0;
	enum tg_err r = head_in_tx(db, &seq, hash, d);

	if (r != TG_OK)
		return r;
	snprintf(headval, sizeof(headval), "%lld:%s", (long long)seq, hash);
	return tg_db_meta_set(db, "audit_head", headval, d);
}

bool tg_audit_is_decision(const char *action)
{
	return strcmp(action, "check") == 0 || strcmp(action, "attest") == 0 || strcmp(action, "reevaluate") == 0;
}

enum tg_err tg_audit_append(struct tg_db *db, const char *actor, const char *action,
			    const char *object, const char *detail, struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *ins = NULL;
	char now[32], hash[65], prev[65];
	int64_t seq = 0;
	enum tg_err r;

	if (!db->in_tx)
		return tg_fail(d, TG_E_DB, "%s: audit row written outside a transaction", db->path);
	r = head_in_tx(db, &seq, prev, d);
	/* Known again only when this row is wholly written (a failure below
	 * ends in a rollback, but the head must not be trusted before). */
	db->head_known = false;
	if (r != TG_OK)
		return r;
	if (seq == 0)
		snprintf(prev, sizeof(prev), "%s", genesis);
	seq++;
	tg_now_iso(now);
	tg_audit_row_hash(seq, now, actor, action, object, detail, prev, hash);
	r = tg_db_prepare(db, "INSERT INTO audit (seq, time, actor, action, object, detail, "
			      "prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8);", &ins, d);
	if (r != TG_OK)
		return r;
	tg_db_bind_int(ins, 1, seq);
	tg_db_bind_text(ins, 2, now);
	tg_db_bind_text(ins, 3, actor);
	tg_db_bind_text(ins, 4, action);
	tg_db_bind_text(ins, 5, object);
	tg_db_bind_text(ins, 6, detail);
	tg_db_bind_text(ins, 7, prev);
	tg_db_bind_text(ins, 8, hash);
	r = tg_db_exec_stmt(db, ins, d);
	if (r != TG_OK)
		return r;
	db->last_seq = seq;
	memcpy(db->last_hash, hash, sizeof(db->last_hash));
	db->head_dirty = true;
	if (!tg_audit_is_decision(action)) {
		_cleanup_stmt_ struct tg_stmt *tally = NULL;
		r = tg_db_prepare(db, "INSERT INTO meta (name, value) VALUES ('audit_record_rows', '1') ON CONFLICT (name) "
				      "DO UPDATE SET value = CAST(CAST(meta.value AS BIGINT) + 1 AS TEXT);", &tally, d);
		if (r == TG_OK)
			r = tg_db_exec_stmt(db, tally, d);
	}
	/* On an anchored appliance the TPM learns the new head before the
	 * transaction commits: a row it does not know is never kept. */
	if (r == TG_OK && db->anchor)
		r = db->anchor(db->anchor_ud, seq, hash, d);
	db->head_known = r == TG_OK;
	return r;
}

void tg_audit_row_get(struct tg_stmt *st, struct tg_audit_row *row)
{
	const char **f[] = { &row->time, &row->actor, &row->action, &row->object, &row->detail,
			     &row->prev_hash, &row->hash };

	row->seq = tg_db_col_int(st, 0);
	for (size_t i = 0; i < TG_ARRAY_SIZE(f); i++) {
		*f[i] = tg_db_col_str(st, (int)i + 1);
		if (!*f[i])
			*f[i] = "";
	}
}

bool tg_audit_row_hash_ok(const struct tg_audit_row *row)
{
	char h[65];

	tg_audit_row_hash(row->seq, row->time, row->actor, row->action, row->object, row->detail, row->prev_hash,
			  h);
	return strcmp(h, row->hash) == 0;
}

enum tg_err tg_audit_verify(struct tg_db *db, bool *ret_intact, struct tg_audit_problem *pb,
			    struct tg_diag *d)
{
	_cleanup_stmt_ struct tg_stmt *st = NULL;
	_cleanup_free_ char *head = NULL;
	struct tg_md *md = NULL;
	char prev[65], h[65];
	uint8_t prev_bin[32] = { 0 }, hb[32];
	int64_t want_seq = 1;
	bool row = false;
	enum tg_err r;

	*ret_intact = false;
	memcpy(prev, genesis, sizeof(prev));
	/* One digest context for the whole chain, and the previous hash kept
	 * in binary: a million rows verify at close to the hash's speed. */
	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK)
		return TG_E_CRYPTO;
	r = tg_db_prepare_scan(db, "SELECT " TG_AUDIT_COLS " FROM audit ORDER BY seq ASC;", &st, d);
	for (; r == TG_OK;) {
		r = tg_db_step(db, st, &row, d);
		if (r != TG_OK || !row)
			break;
		struct tg_audit_row ar;
		tg_audit_row_get(st, &ar);
		int64_t seq = ar.seq;
		pb->seq = seq;
		if (seq != want_seq) {
			pb->seq = want_seq;
			snprintf(pb->what, sizeof(pb->what),
				 "row %lld is missing (next row present is %lld)", (long long)want_seq,
				 (long long)seq);
			tg_md_free(md);
			return TG_OK;
		}
		if (strcmp(ar.prev_hash, prev) != 0) {
			snprintf(pb->what, sizeof(pb->what),
				 "row %lld does not link to row %lld (prev_hash differs)",
				 (long long)seq, (long long)seq - 1);
			tg_md_free(md);
			return TG_OK;
		}
		/* prev_hash equals the previous row's hash, whose bytes are known */
		row_fields(md, seq, ar.time, ar.actor, ar.action, ar.object, ar.detail);
		tg_md_write(md, prev_bin, 32);
		tg_md_final(md, hb);
		tg_hex_encode(hb, 32, h);
		if (strcmp(h, ar.hash) != 0) {
			snprintf(pb->what, sizeof(pb->what), "row %lld was modified (hash differs)",
				 (long long)seq);
			tg_md_free(md);
			return TG_OK;
		}
		memcpy(prev, h, sizeof(prev));
		memcpy(prev_bin, hb, sizeof(prev_bin));
		want_seq++;
	}
	tg_md_free(md);
	if (r != TG_OK)
		return r;
	/* The head in meta names the last row written by trustgate: fewer
	 * rows means the tail was cut. */
	r = tg_db_meta_get(db, "audit_head", &head, d);
	if (r != TG_OK)
		return r;
	if (want_seq == 1 && !head) {
		*ret_intact = true;
		return TG_OK;
	}
	char expect_head[96];
	snprintf(expect_head, sizeof(expect_head), "%lld:%s", (long long)(want_seq - 1), prev);
	if (!head || strcmp(head, expect_head) != 0) {
		long long hs = head ? atoll(head) : 0;
		pb->seq = want_seq;
		if (hs >= want_seq)
			snprintf(pb->what, sizeof(pb->what),
				 "rows %lld..%lld are missing (log was truncated)", (long long)want_seq,
				 hs);
		else
			snprintf(pb->what, sizeof(pb->what),
				 "audit head does not match the last row %lld", (long long)(want_seq - 1));
		return TG_OK;
	}
	*ret_intact = true;
	return TG_OK;
}
