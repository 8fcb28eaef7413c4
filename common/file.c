/* Reading files named on the command line, with limits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "file.h"
#include "text.h"

enum tg_err tg_file_open(const char *path, uint64_t max, int *ret_fd, uint64_t *ret_size,
			 struct tg_diag *d)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	/* O_NONBLOCK: opening a FIFO must not hang before we can see that it
	 * is not a regular file. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return tg_fail(d, TG_E_IO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return tg_fail(d, TG_E_IO, "%s: cannot stat: %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return tg_fail(d, TG_E_IO, "%s: is a directory, not a file", path);
	/* FIFOs and devices can change between two reads: what was hashed
	 * would not be what was checked. */
	if (!S_ISREG(st.st_mode))
		return tg_fail(d, TG_E_IO, "%s: not a regular file", path);
	if (st.st_size == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: file is empty", path);
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return tg_fail(d, TG_E_IO, "%s: cannot read: %s", path, strerror(errno));
	if ((uint64_t)st.st_size > max)
		return tg_fail(d, TG_E_LIMIT, "%s: file is %llu bytes, limit is %llu", path,
			       (unsigned long long)st.st_size, (unsigned long long)max);
	*ret_size = (uint64_t)st.st_size;
	*ret_fd = fd;
	fd = -1;
	return TG_OK;
}

enum tg_err tg_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
			 struct tg_diag *d)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = NULL;
	uint64_t size;
	size_t got = 0;
	enum tg_err r;

	r = tg_file_open(path, max, &fd, &size, d);
	if (r != TG_OK)
		return r;
	buf = malloc((size_t)size + 1);
	if (!buf)
		return tg_fail(d, TG_E_NOMEM, "%s: out of memory", path);
	while (got < size) {
		ssize_t n = read(fd, buf + got, (size_t)size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tg_fail(d, TG_E_IO, "%s: read failed: %s", path, strerror(errno));
		if (n == 0)
			return tg_fail(d, TG_E_IO, "%s: file shrank while reading", path);
		got += (size_t)n;
	}
	buf[size] = '\0';
	*ret_len = (size_t)size;
	*ret = TAKE_PTR(buf);
	return TG_OK;
}

enum tg_err tg_file_digest(const char *path, enum tg_hash h, uint8_t *out, uint64_t *ret_size,
			   struct tg_diag *d)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ uint8_t *buf = malloc(TG_READ_CHUNK);
	struct tg_md *md = NULL;
	uint64_t size, got = 0;
	enum tg_err r;

	if (!buf)
		return TG_E_NOMEM;
	r = tg_file_open(path, TG_MAX_BLOB_SIZE, &fd, &size, d);
	if (r != TG_OK)
		return r;
	r = tg_md_new(h, &md);
	if (r != TG_OK)
		return tg_fail(d, r, "%s: digest %s unavailable", path, tg_hash_name(h));
	for (;;) {
		ssize_t n = read(fd, buf, TG_READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			tg_md_free(md);
			return tg_fail(d, TG_E_IO, "%s: read failed: %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		tg_md_write(md, buf, (size_t)n);
		got += (uint64_t)n;
	}
	tg_md_final(md, out);
	tg_md_free(md);
	if (got != size)
		return tg_fail(d, TG_E_IO, "%s: file changed size while reading", path);
	if (ret_size)
		*ret_size = got;
	return TG_OK;
}

char *tg_path_join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *s = malloc(n);

	if (s)
		snprintf(s, n, "%s/%s", dir, name);
	return s;
}

/* Files whose size the kernel does not report (securityfs's
 * binary_bios_measurements says 0): read to the end, up to max. */
enum tg_err tg_file_read_stream(const char *path, size_t max, uint8_t **ret, size_t *ret_len, struct tg_diag *d)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	_cleanup_free_ uint8_t *buf = NULL;
	size_t got = 0, cap = 0;

	if (fd < 0)
		return tg_fail(d, TG_E_IO, "%s: cannot open: %s", path, strerror(errno));
	for (;;) {
		if (got == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			if (cap > max)
				return tg_fail(d, TG_E_LIMIT, "%s: larger than %zu bytes", path, max);
			uint8_t *nb = realloc(buf, ncap + 1);
			if (!nb)
				return tg_fail(d, TG_E_NOMEM, "%s: out of memory", path);
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + got, cap - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tg_fail(d, TG_E_IO, "%s: read failed: %s", path, strerror(errno));
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got == 0)
		return tg_fail(d, TG_E_FORMAT, "%s: file is empty", path);
	if (got > max)
		return tg_fail(d, TG_E_LIMIT, "%s: larger than %zu bytes", path, max);
	buf[got] = '\0';
	*ret_len = got;
	*ret = TAKE_PTR(buf);
	return TG_OK;
}

enum tg_err tg_file_write_new(const char *path, const void *p, size_t n, unsigned mode, struct tg_diag *d)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	const uint8_t *b = p;
	size_t done = 0;
	bool ok = true;
	char shown[96];

	tg_text_quote(path, shown, sizeof(shown));
	if (fd < 0)
		return tg_fail(d, TG_E_IO, "%s: %s", shown, errno == EEXIST ? "exists (written only to a new file)" :
								     strerror(errno));
	while (ok && done < n) {
		ssize_t w = write(fd, b + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		ok = w > 0;
		done += ok ? (size_t)w : 0;
	}
	ok = ok && fsync(fd) == 0;
	ok = close(fd) == 0 && ok;
	if (!ok) {
		unlink(path);
		return tg_fail(d, TG_E_IO, "%s: could not be written", shown);
	}
	return TG_OK;
}
