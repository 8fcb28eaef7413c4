/* Reading files named on the command line, with limits. */
#ifndef TG_FILE_H
#define TG_FILE_H

#include "tg.h"
#include "crypto.h"

/* Read a whole regular file of 1..max bytes into a malloc'd buffer (with a
 * NUL after the data so text parsers can rely on it).  Directories, empty
 * files, special files and files over max are errors naming the path. */
enum tg_err tg_file_read(const char *path, size_t max, uint8_t **ret, size_t *ret_len,
			 struct tg_diag *d);

/* Open a regular, non-empty file for streaming; *ret_size is its size. */
enum tg_err tg_file_open(const char *path, uint64_t max, int *ret_fd, uint64_t *ret_size,
			 struct tg_diag *d);

/* Read to EOF whatever stat says (securityfs event logs report size 0). */
enum tg_err tg_file_read_stream(const char *path, size_t max, uint8_t **ret, size_t *ret_len, struct tg_diag *d);

/* "dir/name", malloc'd (NULL when out of memory). */
char *tg_path_join(const char *dir, const char *name);

/* Write p[0..n) to a new file at path with mode (never over an existing
 * file, never through a symlink), fsync'd; on a failed write the file is
 * removed.  An existing path is TG_E_IO "PATH: exists". */
enum tg_err tg_file_write_new(const char *path, const void *p, size_t n, unsigned mode, struct tg_diag *d);

/* Stream a file through one digest. */
enum tg_err tg_file_digest(const char *path, enum tg_hash h, uint8_t *out, uint64_t *ret_size,
			   struct tg_diag *d);

#endif
