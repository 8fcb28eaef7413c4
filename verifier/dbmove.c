/* db copy, db backup, db restore (dbmove.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbmove.h"
#include "appliance.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/privkey.h"
#include "../common/file.h"
#include "../measure/tpm.h"

/* The whole chain re-hashed: records whose chain is broken are neither
 * copied, backed up nor restored. */
static enum tg_err chain_intact(struct tg_db *db, const char *what, struct tg_diag *d)
{
	struct tg_audit_problem pb = { 0 };
	bool intact = false;
	enum tg_err r = tg_audit_verify(db, &intact, &pb, d);

	if (r == TG_OK && !intact)
		r = tg_fail(d, TG_E_DB, "%s: the audit chain is broken at row %lld (%s)", what, (long long)pb.seq, pb.what);
	return r;
}

/* Every table of the copy against its source, digest by digest; rows (an
 * object) gets each table's count. */
static enum tg_err tables_equal(struct tg_db *from, struct tg_db *to, struct json_object *rows, struct tg_diag *d)
{
	for (size_t i = 0; i < tg_db_ntables; i++) {
		uint8_t a[32], b[32];
		int64_t na = 0, nb = 0;
		enum tg_err r = tg_db_table_digest(from, &tg_db_tables[i], a, &na, d);

		if (r == TG_OK)
			r = tg_db_table_digest(to, &tg_db_tables[i], b, &nb, d);
		if (r != TG_OK)
			return r;
		if (na != nb || memcmp(a, b, 32) != 0)
			return tg_fail(d, TG_E_DB, "%s: the copy of table %s differs from %s (%lld rows there, %lld here)",
				       to->path, tg_db_tables[i].name, from->path, (long long)na, (long long)nb);
		json_object_object_add(rows, tg_db_tables[i].name, json_object_new_int64(na));
	}
	return TG_OK;
}

/* New records at `to` holding every row of `from` (inside its snapshot),
 * proven equal and their chain intact before they are committed; removed
 * again on any failure. */
static enum tg_err copy_verified(struct tg_db *from, const char *to, struct json_object *rows, struct tg_diag *d)
{
	_cleanup_(tg_db_closep) struct tg_db *dst = NULL;
	int64_t n[64];
	enum tg_err r = tg_db_ntables <= TG_ARRAY_SIZE(n) ? tg_db_create(to, &dst, d) : TG_E_LIMIT;

	if (r != TG_OK)
		return r;
	r = tg_db_begin(dst, d);
	if (r == TG_OK)
		r = tg_db_copy_rows(from, dst, n, d);
	if (r == TG_OK)
		r = tables_equal(from, dst, rows, d);
	if (r == TG_OK)
		r = chain_intact(dst, dst->path, d);
	if (r == TG_OK)
		r = tg_db_commit(dst, d);
	if (r != TG_OK) {
		tg_db_close(TAKE_PTR(dst));
		tg_db_destroy(to);
	}
	return r;
}

/* One audit row in the records at `target`, opened as every command opens
 * them (anchored in the TPM when they say so). */
static enum tg_err record(struct tg_ctx *ctx, const char *target, const char *action, const char *object,
			  struct json_object *detail, struct tg_diag *d)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	enum tg_err r = tg_cli_open_db_path(target, &db, d);

	if (r == TG_OK)
		r = tg_db_begin(db, d);
	if (r == TG_OK)
		r = tg_cli_audit_commit(ctx, db, action, object ? object : db->path, detail, d);
	return r;
}

int tg_db_copy_cmd(struct tg_ctx *ctx, const char *to, const char *reason)
{
	_cleanup_(tg_db_closep) struct tg_db *src = NULL;
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	_cleanup_free_ char *shown = tg_db_target_display(to);
	struct json_object *rows = json_object_new_object(), *head = json_object_new_object();
	struct tg_diag d = { { 0 } };
	char hash[65];
	int64_t seq = 0, total = 0;
	enum tg_err r = tg_cli_open_db(ctx, &src, &d);

	json_object_object_add(detail, "rows", rows);
	json_object_object_add(detail, "audit_head", head);
	if (r == TG_OK && !shown)
		r = TG_E_NOMEM;
	if (r == TG_OK)
		r = tg_db_begin_snapshot(src, &d);
	if (r == TG_OK)
		r = chain_intact(src, src->path, &d);
	if (r == TG_OK)
		r = tg_audit_head(src, &seq, hash, &d);
	if (r == TG_OK)
		r = copy_verified(src, to, rows, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	tg_db_rollback(src);
	tg_json_str(detail, "from", src->path);
	tg_json_str(detail, "from_engine", tg_db_engine(src));
	json_object_object_add(head, "seq", json_object_new_int64(seq));
	tg_json_str(head, "hash", hash);
	tg_json_str(detail, "reason", reason);
	json_object_object_foreach(rows, k, v) {
		(void)k;
		total += json_object_get_int64(v);
	}
	/* The copy says where it came from in its own chain. */
	r = record(ctx, to, "db.copy", NULL, detail, &d);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json) {
		tg_json_str(detail, "to", shown);
		tg_cli_print_json(detail);
	} else {
		printf("copied %s to %s: %lld rows in %zu tables, each table's SHA-256 equal on both, audit chain "
		       "intact up to row %lld; the copy records it as row %lld\n",
		       src->path, shown, (long long)total, tg_db_ntables, (long long)seq, (long long)seq + 1);
	}
	return TG_EXIT_OK;
}

/* SHA-256 and size of a file, read in pieces (a snapshot may be large). */
static enum tg_err file_digest(const char *path, char hex[65], int64_t *size, struct tg_diag *d)
{
	uint8_t buf[1 << 16], dg[32];
	struct tg_md *md = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	*size = 0;
	if (fd < 0)
		return tg_fail(d, TG_E_IO, "%s: %s", path, strerror(errno));
	if (tg_md_new(TG_HASH_SHA256, &md) != TG_OK) {
		close(fd);
		return TG_E_NOMEM;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		tg_md_write(md, buf, (size_t)n);
		*size += n;
	}
	close(fd);
	tg_md_final(md, dg);
	tg_md_free(md);
	if (n < 0)
		return tg_fail(d, TG_E_IO, "%s: read failed", path);
	tg_hex_encode(dg, 32, hex);
	return TG_OK;
}

/* out = magic line, envelope line, then the snapshot's bytes; written
 * whole and synced before it is called done, never over a file. */
static enum tg_err write_backup(const char *out, const char *envelope, const char *snap, struct tg_diag *d)
{
	uint8_t buf[1 << 16];
	int in = open(snap, O_RDONLY | O_CLOEXEC), fd = -1;
	enum tg_err r = TG_OK;
	ssize_t n = 0;

	if (in < 0)
		return tg_fail(d, TG_E_IO, "%s: %s", snap, strerror(errno));
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(in);
		return tg_fail(d, errno == EEXIST ? TG_E_EXISTS : TG_E_IO, "%s: %s", out,
			       errno == EEXIST ? "already exists; not overwriting it" : strerror(errno));
	}
	if (write(fd, TG_DB_BACKUP_MAGIC, strlen(TG_DB_BACKUP_MAGIC)) != (ssize_t)strlen(TG_DB_BACKUP_MAGIC) ||
	    write(fd, envelope, strlen(envelope)) != (ssize_t)strlen(envelope) || write(fd, "\n", 1) != 1)
		r = tg_fail(d, TG_E_IO, "%s: write failed: %s", out, strerror(errno));
	while (r == TG_OK && (n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			r = tg_fail(d, TG_E_IO, "%s: write failed: %s", out, strerror(errno));
	if (r == TG_OK && n < 0)
		r = tg_fail(d, TG_E_IO, "%s: read failed", snap);
	if (r == TG_OK && fsync(fd) != 0)
		r = tg_fail(d, TG_E_IO, "%s: sync failed: %s", out, strerror(errno));
	if (close(fd) != 0 && r == TG_OK)
		r = tg_fail(d, TG_E_IO, "%s: write failed: %s", out, strerror(errno));
	close(in);
	if (r != TG_OK)
		unlink(out);
	return r;
}

/* A snapshot file beside path: "<path>.partPID". */
static char *part_path(const char *path)
{
	char *p = NULL;

	return asprintf(&p, "%s.part%ld", path, (long)getpid()) < 0 ? NULL : p;
}

int tg_db_backup_cmd(struct tg_ctx *ctx, const char *out)
{
	_cleanup_(tg_db_closep) struct tg_db *db = NULL;
	_cleanup_json_ struct json_object *st = json_object_new_object();
	_cleanup_free_ char *snap = part_path(out), *env = NULL;
	struct json_object *head = json_object_new_object(), *file = json_object_new_object();
	struct tg_privkey *k = NULL;
	struct tg_diag d = { { 0 } };
	struct stat sb;
	char hash[65], sha[65], now[32], fpr[65] = "";
	int64_t seq = 0, size = 0;
	enum tg_err r = snap ? TG_OK : TG_E_NOMEM;

	json_object_object_add(st, "audit_head", head);
	json_object_object_add(st, "snapshot", file);
	if (r == TG_OK && lstat(out, &sb) == 0)
		r = tg_fail(&d, TG_E_EXISTS, "%s: already exists; not overwriting it", out);
	if (r == TG_OK)
		r = tg_cli_open_db(ctx, &db, &d);
	/* Signed by the appliance: a backup of another appliance, or one
	 * edited, is refused at restore. */
	if (r == TG_OK)
		r = tg_appliance_key_load(db, &k, &d);
	if (r == TG_OK)
		snprintf(fpr, sizeof(fpr), "%s", k->pub->fingerprint);
	/* Who takes which backup, in the chain, before the snapshot: the
	 * backup then holds its own row, and its head is the one an anchored
	 * appliance's TPM holds (a backup one row behind would restore as a
	 * rollback). */
	if (r == TG_OK) {
		_cleanup_json_ struct json_object *detail = json_object_new_object();
		tg_json_str(detail, "out", out);
		tg_json_str(detail, "appliance_key", fpr);
		r = tg_db_begin(db, &d);
		if (r == TG_OK)
			r = tg_cli_audit_commit(ctx, db, "db.backup", out, detail, &d);
	}
	if (r == TG_OK)
		r = tg_db_begin_snapshot(db, &d);
	if (r == TG_OK)
		r = chain_intact(db, db->path, &d);
	if (r == TG_OK)
		r = tg_audit_head(db, &seq, hash, &d);
	if (r == TG_OK)
		r = tg_db_snapshot_file(db, snap, &d);
	if (db)
		tg_db_rollback(db);
	if (r == TG_OK)
		r = file_digest(snap, sha, &size, &d);
	if (r == TG_OK) {
		tg_now_iso(now);
		tg_json_str(st, "type", "trustgate-backup");
		json_object_object_add(st, "version", json_object_new_int(1));
		tg_json_str(st, "created", now);
		tg_json_str(st, "records", db->path);
		tg_json_str(st, "engine", tg_db_engine(db));
		json_object_object_add(st, "schema_version", json_object_new_int(TG_DB_SCHEMA_VERSION));
		json_object_object_add(head, "seq", json_object_new_int64(seq));
		tg_json_str(head, "hash", hash);
		tg_json_str(file, "format", "sqlite3");
		tg_json_str(file, "sha256", sha);
		json_object_object_add(file, "size", json_object_new_int64(size));
		tg_json_str(st, "appliance_key", fpr);
		r = tg_appliance_dsse(k, TG_DB_BACKUP_TYPE,
				      json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
				      &env, &d);
	}
	/* One line: the statement is the backup's second line. */
	if (r == TG_OK) {
		_cleanup_json_ struct json_object *e = json_tokener_parse(env);
		const char *line = e ? json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
		r = line ? write_backup(out, line, snap, &d) : TG_E_NOMEM;
	}
	if (snap)
		unlink(snap);
	tg_privkey_free(k);
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(st);
	else
		printf("backup %s: the records up to audit row %lld, snapshot %lld bytes (SHA-256 %.16s...), signed by "
		       "appliance key %.16s...\n", out, (long long)seq, (long long)size, sha, fpr);
	return TG_EXIT_OK;
}

/* The backup's first two lines: the magic, and the signed statement (at
 * most 1 MiB); *ret_offset is where the snapshot's bytes begin. */
static enum tg_err read_header(const char *file, char **ret_env, long *ret_offset, struct tg_diag *d)
{
	char magic[sizeof(TG_DB_BACKUP_MAGIC)] = "";
	FILE *f = fopen(file, "re");
	size_t cap = 0;
	ssize_t n;
	enum tg_err r = TG_OK;

	*ret_env = NULL;
	if (!f)
		return tg_fail(d, TG_E_IO, "%s: %s", file, strerror(errno));
	if (fread(magic, 1, strlen(TG_DB_BACKUP_MAGIC), f) != strlen(TG_DB_BACKUP_MAGIC) ||
	    memcmp(magic, TG_DB_BACKUP_MAGIC, strlen(TG_DB_BACKUP_MAGIC)) != 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: not a trustgate backup (no \"trustgate-backup v1\" line)", file);
	if (r == TG_OK && ((n = getline(ret_env, &cap, f)) <= 1 || n > (1 << 20) || (*ret_env)[n - 1] != '\n'))
		r = tg_fail(d, TG_E_FORMAT, "%s: the backup's statement line is missing or over 1 MiB", file);
	if (r == TG_OK) {
		(*ret_env)[n - 1] = 0;
		*ret_offset = ftell(f);
	}
	fclose(f);
	if (r != TG_OK) {
		free(*ret_env);
		*ret_env = NULL;
	}
	return r;
}

/* The statement of a DSSE envelope signed by key, or an error saying the
 * backup was edited or is another appliance's. */
static enum tg_err open_envelope(const char *file, const char *env_text, const struct tg_key *key,
				 struct json_object **ret, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *env = json_tokener_parse(env_text);
	_cleanup_free_ uint8_t *payload = NULL, *sig = NULL;
	_cleanup_free_ char *pae = NULL, *ptext = NULL;
	struct json_object *sigs = NULL;
	size_t pl = 0, sl = 0;
	bool valid = false;
	enum tg_err r;

	*ret = NULL;
	if (!env || !tg_jstr(env, "payloadType") || strcmp(tg_jstr(env, "payloadType"), TG_DB_BACKUP_TYPE) != 0 ||
	    !tg_jstr(env, "payload") || !json_object_object_get_ex(env, "signatures", &sigs) ||
	    !json_object_is_type(sigs, json_type_array) || json_object_array_length(sigs) != 1 ||
	    !tg_jstr(json_object_array_get_idx(sigs, 0), "sig"))
		return tg_fail(d, TG_E_FORMAT, "%s: the backup's statement is not a DSSE envelope of type %s", file,
			       TG_DB_BACKUP_TYPE);
	const char *p64 = tg_jstr(env, "payload"), *s64 = tg_jstr(json_object_array_get_idx(sigs, 0), "sig");
	if (tg_base64_decode(tg_span_make((const uint8_t *)p64, strlen(p64)), false, &payload, &pl) != TG_OK ||
	    tg_base64_decode(tg_span_make((const uint8_t *)s64, strlen(s64)), false, &sig, &sl) != TG_OK)
		return tg_fail(d, TG_E_FORMAT, "%s: the backup's statement is not base64", file);
	int pn = asprintf(&pae, "DSSEv1 %zu %s %zu ", strlen(TG_DB_BACKUP_TYPE), TG_DB_BACKUP_TYPE, pl);
	if (pn < 0 || !(pae = realloc(pae, (size_t)pn + pl + 1)))
		return TG_E_NOMEM;
	memcpy(pae + pn, payload, pl);
	r = tg_appliance_verify(key, tg_span_make((const uint8_t *)pae, (size_t)pn + pl), tg_span_make(sig, sl), &valid, d);
	if (r != TG_OK)
		return r;
	if (!valid)
		return tg_fail(d, TG_E_FORMAT, "%s: the signature does not verify under appliance key %.16s... (the "
			       "backup was edited, or it is another appliance's)", file, key->fingerprint);
	ptext = strndup((const char *)payload, pl);
	*ret = ptext ? json_tokener_parse(ptext) : NULL;
	if (!*ret)
		return tg_fail(d, TG_E_FORMAT, "%s: the backup's statement is not JSON", file);
	return TG_OK;
}

/* The snapshot's bytes (from offset on) into a new file, checked against
 * the signed statement's digest and size. */
static enum tg_err extract(const char *file, long offset, const char *to, struct json_object *st, struct tg_diag *d)
{
	struct json_object *snap = NULL, *size = NULL;
	uint8_t buf[1 << 16];
	char sha[65];
	int64_t got = 0;
	ssize_t n = 0;
	enum tg_err r = TG_OK;
	int in = open(file, O_RDONLY | O_CLOEXEC), out;

	if (!json_object_object_get_ex(st, "snapshot", &snap) || !tg_jstr(snap, "sha256") ||
	    !json_object_object_get_ex(snap, "size", &size) || strcmp(tg_jstr(snap, "format") ? tg_jstr(snap, "format") : "", "sqlite3") != 0) {
		if (in >= 0)
			close(in);
		return tg_fail(d, TG_E_FORMAT, "%s: the backup's statement names no sqlite3 snapshot", file);
	}
	if (in < 0 || lseek(in, offset, SEEK_SET) != offset) {
		if (in >= 0)
			close(in);
		return tg_fail(d, TG_E_IO, "%s: cannot read", file);
	}
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return tg_fail(d, TG_E_IO, "%s: cannot create: %s", to, strerror(errno));
	}
	while ((n = read(in, buf, sizeof(buf))) > 0) {
		if (write(out, buf, (size_t)n) != n) {
			r = tg_fail(d, TG_E_IO, "%s: write failed: %s", to, strerror(errno));
			break;
		}
		got += n;
	}
	close(in);
	if (r == TG_OK && (n < 0 || fsync(out) != 0))
		r = tg_fail(d, TG_E_IO, "%s: read or sync failed", file);
	close(out);
	if (r == TG_OK)
		r = file_digest(to, sha, &got, d);
	if (r == TG_OK && (got != json_object_get_int64(size) || strcmp(sha, tg_jstr(snap, "sha256")) != 0))
		r = tg_fail(d, TG_E_FORMAT, "%s: the snapshot is not the one the backup's statement signed (%lld bytes, "
			    "SHA-256 %.16s...; signed: %lld bytes, %.16s...)", file, (long long)got, sha,
			    (long long)json_object_get_int64(size), tg_jstr(snap, "sha256"));
	return r;
}

/* The TPM anchor of this appliance against the snapshot: an older backup
 * (its chain ends before the anchored row, or holds another row there) is
 * a rollback.  *rb stays NULL when there is no anchor to hold. */
static enum tg_err anchor_check(const char *tcti, struct tg_db *snap, struct json_object **rb, struct tg_diag *d)
{
	struct tg_tpm *tpm = NULL;
	struct tg_anchor a = { 0 };
	char want[65], at[65], last[65];
	int64_t seq = 0;
	enum tg_err r = tg_tpm_open(tcti, &tpm, d);

	*rb = NULL;
	if (r == TG_OK)
		r = tg_tpm_anchor_read(tpm, &a, d);
	tg_tpm_close(tpm);
	if (r == TG_OK)
		r = tg_audit_head(snap, &seq, last, d);
	if (r != TG_OK || !a.present)
		return r;
	tg_hex_encode(a.hash, 32, want);
	if ((uint64_t)seq >= a.seq && (r = tg_audit_hash_at(snap, (int64_t)a.seq, at, d)) == TG_OK && strcmp(at, want) == 0)
		return r;
	if (r != TG_OK)
		return r;
	*rb = json_object_new_object();
	json_object_object_add(*rb, "anchored_seq", json_object_new_int64((int64_t)a.seq));
	tg_json_str(*rb, "anchored_hash", want);
	json_object_object_add(*rb, "backup_seq", json_object_new_int64(seq));
	return TG_OK;
}

/* The records at target replaced by (or made from) the verified snapshot
 * file: a SQLite file is renamed into place; on PostgreSQL the tables are
 * dropped and the rows copied in, proven equal. */
static enum tg_err install(const char *target, bool exists, struct tg_db **snap, const char *snapfile,
			   struct json_object *rows, struct tg_diag *d)
{
	char side[4096];

	if (!tg_db_target_is_url(target)) {
		tg_db_close(*snap);
		*snap = NULL;
		snprintf(side, sizeof(side), "%s-wal", snapfile);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", snapfile);
		unlink(side);
		if (exists) {
			snprintf(side, sizeof(side), "%s-wal", target);
			unlink(side);
			snprintf(side, sizeof(side), "%s-shm", target);
			unlink(side);
		}
		if (rename(snapfile, target) != 0)
			return tg_fail(d, TG_E_IO, "%s: cannot put the restored records in place: %s", target, strerror(errno));
		return TG_OK;
	}
	if (exists)
		tg_db_destroy(target);
	return copy_verified(*snap, target, rows, d);
}

int tg_db_restore_cmd(struct tg_ctx *ctx, const struct tg_restore_args *a)
{
	_cleanup_(tg_db_closep) struct tg_db *cur = NULL, *snap = NULL;
	_cleanup_json_ struct json_object *st = NULL, *detail = json_object_new_object(), *rb = NULL;
	_cleanup_free_ char *env = NULL, *conf = NULL, *snapfile = NULL, *shown = tg_db_target_display(ctx->db_path);
	_cleanup_key_ struct tg_key *pinned = NULL;
	struct tg_privkey *k = NULL;
	const struct tg_key *key = NULL;
	struct json_object *head = NULL, *rows = json_object_new_object();
	struct tg_diag d = { { 0 } };
	char last[65];
	int64_t seq = 0;
	long offset = 0;
	bool exists = false;
	enum tg_err r = read_header(a->file, &env, &offset, &d);

	json_object_object_add(detail, "rows", rows);
	/* The records now at --db, if any: whose key verifies the backup and
	 * whose TPM anchor it must not be older than. */
	if (r == TG_OK) {
		r = tg_db_open(ctx->db_path, &cur, &d);
		exists = r == TG_OK;
		if (r == TG_E_NOTFOUND)
			r = TG_OK;
	}
	if (r == TG_OK && exists && !a->replace)
		r = tg_fail(&d, TG_E_EXISTS, "%s: records exist; --replace to replace them with the backup", cur->path);
	if (r == TG_OK && a->key && (r = tg_appliance_pub_load(a->key, &pinned, &d)) == TG_OK)
		key = pinned;
	if (r == TG_OK && !key && exists && (r = tg_appliance_key_load(cur, &k, &d)) == TG_OK)
		key = k->pub;
	if (r == TG_OK && !key)
		r = tg_fail(&d, TG_E_USAGE, "%s: no records here to verify the backup with; name this appliance's public "
			    "key with --key", shown ? shown : "records");
	if (r == TG_OK)
		r = open_envelope(a->file, env, key, &st, &d);
	if (r == TG_OK && exists && !a->tcti)
		r = tg_db_local_get(cur, "tpm_anchor", &conf, &d);
	tg_db_close(TAKE_PTR(cur));
	/* The snapshot, beside a SQLite target (renamed into place) or in
	 * the temporary directory. */
	if (r == TG_OK) {
		_cleanup_free_ char *copy = strdup(ctx->db_path);
		const char *base = tg_db_target_is_url(ctx->db_path) || !copy ? "/tmp" : dirname(copy);
		if (asprintf(&snapfile, "%s/.trustgate-restore-%ld", base, (long)getpid()) < 0)
			snapfile = NULL;
		r = snapfile ? TG_OK : TG_E_NOMEM;
	}
	if (r == TG_OK)
		r = extract(a->file, offset, snapfile, st, &d);
	if (r == TG_OK)
		r = tg_db_open(snapfile, &snap, &d);
	if (r == TG_OK)
		r = chain_intact(snap, a->file, &d);
	if (r == TG_OK)
		r = tg_audit_head(snap, &seq, last, &d);
	if (r == TG_OK && (!json_object_object_get_ex(st, "audit_head", &head) || !tg_jstr(head, "hash") ||
			   strcmp(tg_jstr(head, "hash"), last) != 0))
		r = tg_fail(&d, TG_E_FORMAT, "%s: the snapshot's audit head is not the one its statement signed", a->file);
	if (r == TG_OK && !conf && !a->tcti)
		r = tg_db_local_get(snap, "tpm_anchor", &conf, &d);
	if (r == TG_OK && (a->tcti || conf))
		r = anchor_check(a->tcti ? a->tcti : conf, snap, &rb, &d);
	if (r == TG_OK && rb && !a->accept_rollback)
		r = tg_fail(&d, TG_E_USAGE, "%s: ends at audit row %lld, but this appliance's TPM anchored row %lld%s: "
			    "restoring it rolls the records back (--accept-rollback to do so anyway; it is audited)", a->file,
			    (long long)seq, (long long)json_object_get_int64(json_object_object_get(rb, "anchored_seq")),
			    seq >= json_object_get_int64(json_object_object_get(rb, "anchored_seq")) ? " with another hash" : "");
	if (r == TG_OK)
		r = install(ctx->db_path, exists, &snap, snapfile, rows, &d);
	tg_db_close(TAKE_PTR(snap));
	if (snapfile && r != TG_OK)
		unlink(snapfile);
	tg_privkey_free(k);
	if (r == TG_OK) {
		tg_json_str(detail, "backup", a->file);
		json_object_object_add(detail, "audit_head", json_object_get(head));
		tg_json_str(detail, "snapshot_sha256", tg_jstr(json_object_object_get(st, "snapshot"), "sha256"));
		json_object_object_add(detail, "replaced", json_object_new_boolean(exists));
		json_object_object_add(detail, "rollback", rb ? json_object_get(rb) : NULL);
		tg_json_str(detail, "reason", a->reason);
		r = record(ctx, ctx->db_path, "db.restore", NULL, detail, &d);
	}
	if (r != TG_OK)
		return tg_cli_fail(ctx, r, &d);
	if (ctx->json)
		tg_cli_print_json(detail);
	else
		printf("restored %s from %s: audit chain intact up to row %lld%s; recorded as row %lld\n", shown ? shown : "records",
		       a->file, (long long)seq, rb ? " (a rollback past the TPM anchor, accepted)" : "", (long long)seq + 1);
	return TG_EXIT_OK;
}
