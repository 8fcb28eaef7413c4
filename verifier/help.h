/*
 * The help of every command and subcommand, in one table (verifier/help.c):
 * `trustgate help`, `trustgate help COMMAND [SUB]`, `COMMAND [SUB] --help`
 * and the man page (`trustgate help --man` writes docs/trustgate.1) all
 * print from it.  An option a command parses but its help does not list,
 * or the reverse, is found by `--help` itself (tests/e2e/11_help.sh runs it
 * for every entry), so the help cannot drift from the code.
 */
#ifndef TG_HELP_H
#define TG_HELP_H

#include <stdio.h>

#include "cli.h"

#define TG_HELP_MAX_OPTS 24

struct tg_help_opt {
	const char *spec; /* "--reason TEXT", "--cii" */
	const char *text; /* what it does, with its default */
};

struct tg_help {
	const char *path;     /* "supplier add"; a command word alone groups its subcommands */
	const char *args;     /* synopsis after the path */
	const char *summary;  /* one line */
	const char *about;    /* a paragraph (may be NULL) */
	struct tg_help_opt opts[TG_HELP_MAX_OPTS];
	const char *example;  /* one or more command lines */
};

/* The entry for "cmd" or "cmd sub", or NULL. */
const struct tg_help *tg_help_find(const char *cmd, const char *sub);

/* Print the help of one entry (a group: its subcommands). */
void tg_help_print(FILE *f, const struct tg_help *h);
/* `trustgate help`: every command with its synopsis and summary. */
void tg_help_print_all(FILE *f);
/* The man page, roff. */
void tg_help_print_man(FILE *f);
/* The version line: "trustgate VERSION (commit C)". */
void tg_help_print_version(FILE *f);

/* The tool as verdicts name it: version, commit, and the SHA-256 of the
 * running executable (the build digest; computed once). */
const char *tg_tool_version(void);
const char *tg_tool_commit(void);
bool tg_build_digest(char out[65]);
/* Every reason code with its severity, meaning and remedy (help --reasons). */
void tg_help_reasons(FILE *f, bool json);

/* Options parsed vs options documented for this entry: NULL when they
 * agree, else the first option missing from one side ("--foo"). */
const char *tg_help_mismatch(const struct tg_help *h, const struct tg_opt *opts);

/* All entries, for `help --list` (one path per line). */
void tg_help_list(FILE *f);

#endif
