/*
 * A pool of worker processes for the batch commands (attest --batch, check
 * --batch).  Each worker is forked, runs its share and _exits; it sends its
 * results to the parent as frames on a pipe: a u32 length (native order)
 * and that many bytes.  The parent reads every pipe until all close, hands
 * each complete frame to a callback, then reaps the workers.  A worker is
 * also the isolation boundary: a crash in it loses only its unreported
 * frames, which the caller must report as errors, never skip.
 */
#ifndef TG_WORKERS_H
#define TG_WORKERS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/tg.h"

#define TG_MAX_WORKERS 64

/* In the child: worker w of n writes frames to fd; must not return
 * (it _exits). */
typedef void (*tg_worker_fn)(size_t w, size_t n, int fd, void *ud);
/* In the parent: one complete frame (its bytes, without the length). */
typedef void (*tg_frame_fn)(const uint8_t *p, size_t len, void *ud);
/* In the parent: after the frames of one read were handed over. */
typedef void (*tg_progress_fn)(void *ud);

/* Run n (1..TG_MAX_WORKERS) workers.  A worker that cannot be started is
 * not an error here (its share stays unreported); the return is TG_OK
 * unless no worker at all could be started. */
enum tg_err tg_workers_run(size_t n, tg_worker_fn work, tg_frame_fn frame, tg_progress_fn progress, void *ud,
			   struct tg_diag *d);

/* --workers N (NULL: one per CPU), checked: 1..TG_MAX_WORKERS. */
enum tg_err tg_workers_count(const char *opt, size_t *ret, struct tg_diag *d);

/* Write one frame (the u32 length, then p[0..len)) from a worker. */
bool tg_worker_send(int fd, const void *hdr, size_t hl, const void *p, size_t len);

#endif
