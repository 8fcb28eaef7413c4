/*
 * The output of a decision, and what happens to it if the process dies.
 *
 * A verdict is rendered completely before its transaction commits, and
 * written right after.  A crash (SIGSEGV, SIGBUS, SIGABRT from glibc's heap
 * checks, SIGFPE, SIGILL) is turned into exit 2 with one line on stderr,
 * never a bare signal death: before the commit nothing was recorded; after
 * it, the handler writes whatever of the rendered verdict the user has not
 * seen yet, so a recorded verdict is always a shown one (issue 10: crashed
 * runs had recorded verdicts while the user saw exit 134 and cut JSON).
 * Sanitizer builds keep their own handlers (their reports are the point).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static struct {
	FILE *f;
	char *buf;
	size_t len;
	volatile sig_atomic_t sealed, committed;
	volatile size_t written;
} out;

FILE *tg_out_open(void)
{
	free(out.buf);
	memset(&out, 0, sizeof(out));
	out.f = open_memstream(&out.buf, &out.len);
	return out.f ? out.f : stdout;
}

static bool write_all(int fd, const char *p, size_t n, volatile size_t *done)
{
	while (*done < n) {
		ssize_t w = write(fd, p + *done, n - *done);
		if (w <= 0)
			return false;
		*done += (size_t)w;
	}
	return true;
}

void tg_out_seal(void)
{
	if (out.f) {
		fclose(out.f);
		out.f = NULL;
		out.sealed = out.buf != NULL;
	}
}

void tg_out_committed(void)
{
	if (out.sealed)
		out.committed = 1;
}

bool tg_out_flush(void)
{
	bool ok = true;

	if (out.sealed) {
		fflush(stdout);
		ok = write_all(1, out.buf, out.len, &out.written);
	}
	free(out.buf);
	memset(&out, 0, sizeof(out));
	return ok;
}

char *tg_out_take(size_t *len)
{
	char *b = out.sealed ? out.buf : NULL;

	*len = b ? out.len : 0;
	if (!b)
		free(out.buf);
	memset(&out, 0, sizeof(out));
	return b;
}

void tg_out_discard(void)
{
	if (out.f)
		fclose(out.f);
	free(out.buf);
	memset(&out, 0, sizeof(out));
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__)
#define TG_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define TG_SANITIZED 1
#endif
#endif

#ifndef TG_SANITIZED
static void say(const char *s)
{
	size_t done = 0;
	write_all(2, s, strlen(s), &done);
}

static void on_crash(int sig)
{
	/* Async-signal-safe only: write(2) and _exit(2). */
	if (out.committed) {
		write_all(1, out.buf, out.len, &out.written);
		say("trustgate: internal error (fatal signal) after the verdict above was recorded; exit 2\n");
	} else {
		say("trustgate: internal error (fatal signal); nothing was recorded or approved\n");
	}
	(void)sig;
	_exit(TG_EXIT_ERROR);
}
#endif

void tg_crash_guard_install(void)
{
#ifndef TG_SANITIZED
	static char stack[64 * 1024];
	stack_t ss = { .ss_sp = stack, .ss_size = sizeof(stack) };
	struct sigaction sa;

	sigaltstack(&ss, NULL);   /* a stack overflow must reach the handler */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_crash;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	sigaction(SIGABRT, &sa, NULL);
	sigaction(SIGFPE, &sa, NULL);
	sigaction(SIGILL, &sa, NULL);
#endif
}

/* Fault injection for the test of this very guard. */
void tg_test_crash_point(const char *where)
{
	const char *at = getenv("TRUSTGATE_TEST_CRASH");

	if (at && strcmp(at, where) == 0)
		raise(SIGSEGV);
}
