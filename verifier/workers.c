/* Worker processes for the batch commands (workers.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "workers.h"

struct pipe_in {
	int fd;
	pid_t pid;
	uint8_t *buf;
	size_t len, cap;
	bool eof;
};

static bool write_all(int fd, const void *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, (const uint8_t *)p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		done += (size_t)w;
	}
	return true;
}

bool tg_worker_send(int fd, const void *hdr, size_t hl, const void *p, size_t len)
{
	uint32_t n = (uint32_t)(hl + len);

	return hl + len <= UINT32_MAX && write_all(fd, &n, 4) && write_all(fd, hdr, hl) && write_all(fd, p, len);
}

/* Hand over the complete frames at the start of the buffer; keep the rest. */
static void take_frames(struct pipe_in *in, tg_frame_fn frame, void *ud)
{
	size_t off = 0;

	while (in->len - off >= 4) {
		uint32_t n;
		memcpy(&n, in->buf + off, 4);
		if (in->len - off - 4 < n)
			break;
		frame(in->buf + off + 4, n, ud);
		off += 4 + (size_t)n;
	}
	memmove(in->buf, in->buf + off, in->len - off);
	in->len -= off;
}

/* Read what one pipe has; false once it is closed (or unreadable). */
static bool drain(struct pipe_in *in, tg_frame_fn frame, void *ud)
{
	if (in->cap - in->len < 65536) {
		size_t cap = in->cap ? in->cap * 2 : 262144;
		uint8_t *nb = realloc(in->buf, cap);
		if (!nb)
			return false;
		in->buf = nb;
		in->cap = cap;
	}
	ssize_t got = read(in->fd, in->buf + in->len, in->cap - in->len);
	if (got < 0 && errno == EINTR)
		return true;
	if (got <= 0)
		return false;
	in->len += (size_t)got;
	take_frames(in, frame, ud);
	return true;
}

enum tg_err tg_workers_run(size_t n, tg_worker_fn work, tg_frame_fn frame, tg_progress_fn progress, void *ud,
			   struct tg_diag *d)
{
	struct pipe_in in[TG_MAX_WORKERS];
	size_t started = 0;

	if (n < 1 || n > TG_MAX_WORKERS)
		return tg_fail(d, TG_E_USAGE, "workers: %zu is not 1 to %d", n, TG_MAX_WORKERS);
	fflush(NULL);
	for (size_t w = 0; w < n; w++) {
		int fds[2];
		if (pipe2(fds, O_CLOEXEC) < 0)
			break;
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			for (size_t k = 0; k < started; k++)
				close(in[k].fd);
			work(w, n, fds[1], ud);
			_exit(TG_EXIT_ERROR); /* work() must not return */
		}
		close(fds[1]);
		if (pid < 0) {
			close(fds[0]);
			break;
		}
		in[started++] = (struct pipe_in){ .fd = fds[0], .pid = pid };
	}
	if (!started)
		return tg_fail(d, TG_E_IO, "cannot start a worker: %s", strerror(errno));
	for (size_t open_fds = started; open_fds > 0;) {
		struct pollfd pfd[TG_MAX_WORKERS];
		for (size_t w = 0; w < started; w++)
			pfd[w] = (struct pollfd){ .fd = in[w].eof ? -1 : in[w].fd, .events = POLLIN };
		if (poll(pfd, (nfds_t)started, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (size_t w = 0; w < started; w++) {
			if (in[w].eof || !(pfd[w].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!drain(&in[w], frame, ud)) {
				in[w].eof = true;
				open_fds--;
			}
		}
		if (progress)
			progress(ud);
	}
	for (size_t w = 0; w < started; w++) {
		int status;
		close(in[w].fd);
		free(in[w].buf);
		while (waitpid(in[w].pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	return TG_OK;
}

enum tg_err tg_workers_count(const char *opt, size_t *ret, struct tg_diag *d)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (opt) {
		char *end;
		errno = 0;
		n = strtol(opt, &end, 10);
		if (errno || end == opt || *end || n < 1 || n > TG_MAX_WORKERS)
			return tg_fail(d, TG_E_USAGE, "--workers must be 1 to %d", TG_MAX_WORKERS);
	}
	*ret = n < 1 ? 1 : n > TG_MAX_WORKERS ? TG_MAX_WORKERS : (size_t)n;
	return TG_OK;
}
