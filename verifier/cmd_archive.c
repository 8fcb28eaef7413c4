/*
 * trustgate archive list FILE [--json]
 *
 * Walk a package as `check` walks it and print every member it found —
 * path (outer!inner for members of nested containers), type, mode, size,
 * SHA-256, link target — and the walker's findings.  Decides nothing and
 * needs no records: it is the inventory a reviewer reads, and what the
 * real-data tests compare with dpkg-deb and tar.  A file that is not a
 * readable archive is exit 2.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "archive.h"
#include "../common/file.h"
#include "../common/limits.h"

struct fd_src {
	int fd;
	uint8_t *buf;
	int err;
};

static ssize_t fd_read(void *ud, const void **buf)
{
	struct fd_src *s = ud;
	ssize_t n;

	do
		n = read(s->fd, s->buf, TG_READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		s->err = errno;
	*buf = s->buf;
	return n;
}

static struct json_object *member_json(const struct tg_ar_member *m)
{
	struct json_object *o = json_object_new_object();

	tg_json_str(o, "path", m->path);
	tg_json_str(o, "name", m->norm);
	json_object_object_add(o, "parent", json_object_new_int64(m->parent));
	tg_json_str(o, "type", m->type);
	json_object_object_add(o, "mode", json_object_new_int((int)(m->mode & 07777)));
	json_object_object_add(o, "size", json_object_new_int64((int64_t)m->size));
	tg_json_str(o, "sha256", m->sha256[0] ? m->sha256 : NULL);
	tg_json_str(o, "link", m->link);
	tg_json_str(o, "component", m->component);
	return o;
}

static int cmd_list(struct tg_ctx *ctx, int argc, char **argv)
{
	struct tg_ar_result ar = { .hash_all = true };
	struct tg_diag d = { { 0 } };
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = malloc(TG_READ_CHUNK);
	uint64_t size = 0;
	char **pos;
	int npos;
	enum tg_err r;

	r = tg_cli_parse(ctx, argc, argv, NULL, 1, 1, &pos, &npos, &d);
	if (r == TG_OK && !buf)
		r = TG_E_NOMEM;
	if (r == TG_OK)
		r = tg_file_open(pos[0], TG_MAX_BLOB_SIZE, &fd, &size, &d);
	struct fd_src src = { .fd = fd, .buf = buf };
	if (r == TG_OK)
		r = tg_archive_walk(fd_read, &src, pos[0], &ar, &d);
	if (r == TG_OK && src.err)
		r = tg_fail(&d, TG_E_IO, "%s: read failed: %s", pos[0], strerror(src.err));
	if (r != TG_OK) {
		tg_archive_result_release(&ar);
		return tg_cli_fail(ctx, r, &d);
	}
	if (ctx->json) {
		_cleanup_json_ struct json_object *o = json_object_new_object();
		struct json_object *ms = json_object_new_array(), *fs = json_object_new_array();
		for (size_t i = 0; i < ar.n; i++)
			json_object_array_add(ms, member_json(&ar.m[i]));
		for (size_t i = 0; i < ar.nf; i++) {
			struct json_object *f = json_object_new_object();
			tg_json_str(f, "code", ar.f[i].code);
			tg_json_str(f, "severity", ar.f[i].sev == TG_AR_ALWAYS ? "always" : "tier3");
			tg_json_str(f, "detail", ar.f[i].detail);
			json_object_array_add(fs, f);
		}
		json_object_object_add(o, "members", ms);
		json_object_object_add(o, "findings", fs);
		json_object_object_add(o, "complete", json_object_new_boolean(!ar.stopped));
		tg_cli_print_json(o);
	} else {
		for (size_t i = 0; i < ar.n; i++) {
			const struct tg_ar_member *m = &ar.m[i];
			printf("%-8s %04o %12llu %s %s%s%s\n", m->type, (unsigned)(m->mode & 07777),
			       (unsigned long long)m->size, m->sha256[0] ? m->sha256 : "-", m->path,
			       m->link ? " -> " : "", m->link ? m->link : "");
		}
		for (size_t i = 0; i < ar.nf; i++)
			printf("finding %s: %s\n", ar.f[i].code, ar.f[i].detail);
	}
	int rc = ar.stopped ? TG_EXIT_ERROR : TG_EXIT_OK;
	if (ar.stopped)
		fprintf(stderr, "trustgate: %s: the walk stopped early (see the findings)\n", pos[0]);
	tg_archive_result_release(&ar);
	return rc;
}

int tg_cmd_archive(struct tg_ctx *ctx, int argc, char **argv)
{
	static const struct tg_subcmd subs[] = {
		{ "list", cmd_list },
	};

	return tg_cli_dispatch(ctx, argc, argv, subs, TG_ARRAY_SIZE(subs), "archive list FILE [--json]");
}
