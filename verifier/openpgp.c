/* OpenPGP through gpg and gpgv subprocesses (see openpgp.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "openpgp.h"

#define PGP_MAX_OUTPUT (1024 * 1024)

bool tg_pgp_is_signature(const uint8_t *p, size_t n)
{
	static const char armor[] = "-----BEGIN PGP SIGNATURE-----", msg[] = "-----BEGIN PGP MESSAGE-----";
	size_t hl, bl;

	if ((n >= sizeof(armor) - 1 && memcmp(p, armor, sizeof(armor) - 1) == 0) ||
	    (n >= sizeof(msg) - 1 && memcmp(p, msg, sizeof(msg) - 1) == 0))
		return true;
	/* Binary: exactly one signature packet (tag 2, RFC 4880 §4.2) whose
	 * length covers the whole file, version 3 or 4.  The first byte alone
	 * would also match ~2% of raw RSA/ECDSA signatures. */
	if (n < 6 || !(p[0] & 0x80))
		return false;
	if (p[0] & 0x40) {                      /* new format */
		if ((p[0] & 0x3f) != 2)
			return false;
		if (p[1] < 192) {
			hl = 2;
			bl = p[1];
		} else if (p[1] < 224) {
			hl = 3;
			bl = ((size_t)(p[1] - 192) << 8) + p[2] + 192;
		} else if (p[1] == 255) {
			hl = 6;
			bl = (size_t)p[2] << 24 | (size_t)p[3] << 16 | (size_t)p[4] << 8 | p[5];
		} else {
			return false;
		}
	} else {                                /* old format */
		if (((p[0] >> 2) & 0x0f) != 2)
			return false;
		switch (p[0] & 3) {
		case 0: hl = 2; bl = p[1]; break;
		case 1: hl = 3; bl = (size_t)p[1] << 8 | p[2]; break;
		case 2: hl = 5; bl = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 | p[4]; break;
		default: return false;
		}
	}
	return hl + bl == n && hl < n && (p[hl] == 3 || p[hl] == 4);
}

#include <ftw.h>

/* A private GNUPGHOME under $TMPDIR, removed with everything in it. */
static bool home_make(char dir[64])
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, 64, "%s/tg-gpg.XXXXXX", tmp && *tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	return mkdtemp(dir) != NULL;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void home_remove(const char *dir)
{
	if (dir[0])
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static bool write_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[128];
	int fd;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return false;
	ok = write(fd, p, n) == (ssize_t)n;
	close(fd);
	return ok;
}

/* Start argv with stdin from a pipe (or /dev/null) and stdout to a pipe;
 * stderr goes to /dev/null: only status output is read, never text meant
 * for people (THREATS case 38). */
static pid_t spawn(char *const argv[], int *ret_in, int *ret_out)
{
	int in[2] = { -1, -1 }, out[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0)
		return -1;
	if (ret_in && pipe2(in, O_CLOEXEC) < 0) {
		close(out[0]);
		close(out[1]);
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(ret_in ? in[0] : null, 0);
		dup2(out[1], 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	if (ret_in)
		close(in[0]);
	if (pid < 0) {
		close(out[0]);
		if (ret_in)
			close(in[1]);
		return -1;
	}
	*ret_out = out[0];
	if (ret_in)
		*ret_in = in[1];
	return pid;
}

/* Read all of fd (bounded) and wait for pid; output malloc'd. */
static bool collect(pid_t pid, int fd, char **ret, int *ret_status)
{
	size_t len = 0, cap = 8192;
	char *buf = malloc(cap + 1);
	bool ok = buf != NULL;

	while (ok) {
		if (len == cap) {
			if (cap >= PGP_MAX_OUTPUT) {
				ok = false;
				break;
			}
			char *nb = realloc(buf, cap * 2 + 1);
			if (!nb) {
				ok = false;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	while (waitpid(pid, ret_status, 0) < 0 && errno == EINTR)
		;
	if (!ok) {
		free(buf);
		return false;
	}
	buf[len] = '\0';
	*ret = buf;
	return true;
}

static enum tg_err run(char *const argv[], char **ret_out, int *ret_status, struct tg_diag *d)
{
	int out;
	pid_t pid = spawn(argv, NULL, &out);

	if (pid < 0)
		return tg_fail(d, TG_E_IO, "cannot run %s: %s", argv[0], strerror(errno));
	if (!collect(pid, out, ret_out, ret_status))
		return tg_fail(d, TG_E_LIMIT, "%s: output over %d bytes", argv[0], PGP_MAX_OUTPUT);
	return TG_OK;
}

void tg_pgp_key_release(struct tg_pgp_key *k)
{
	free(k->binary);
	memset(k, 0, sizeof(*k));
}

/* Field n (0-based) of a colon-separated line, copied. */
static void field(const char *line, int n, char *out, size_t cap)
{
	const char *p = line;
	size_t o = 0;

	for (int i = 0; i < n && p; i++) {
		p = strchr(p, ':');
		if (p)
			p++;
	}
	while (p && *p && *p != ':' && *p != '\n' && o + 1 < cap)
		out[o++] = *p++;
	out[o] = '\0';
}

enum tg_err tg_pgp_key_inspect(struct tg_span in, const char *what, struct tg_pgp_key *ret,
			       struct tg_diag *d)
{
	char dir[64], path[128], ringp[128];
	_cleanup_free_ char *out = NULL, *bin = NULL;
	int status = 0, npub = 0;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	if (!home_make(dir))
		return tg_fail(d, TG_E_IO, "cannot create a private GnuPG home: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/in", dir);
	snprintf(ringp, sizeof(ringp), "%s/ring", dir);
	if (!write_file(dir, "in", in.p, in.len)) {
		home_remove(dir);
		return tg_fail(d, TG_E_IO, "cannot write a private copy of %s", what);
	}
	char *const show[] = { "gpg", "--batch", "--no-options", "--homedir", dir, "--with-colons",
			       "--import-options", "show-only", "--import", path, NULL };
	r = run(show, &out, &status, d);
	if (r == TG_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = tg_fail(d, TG_E_FORMAT, "%s: not an OpenPGP public key (gpg refused it)", what);
	char pub[512] = "", fpr[128] = "";
	for (char *line = out; r == TG_OK && line && *line;) {
		char *nl = strchr(line, '\n');
		if (strncmp(line, "pub:", 4) == 0) {
			npub++;
			snprintf(pub, sizeof(pub), "%.*s", nl ? (int)(nl - line) : (int)strlen(line), line);
		} else if (strncmp(line, "fpr:", 4) == 0 && npub == 1 && !fpr[0]) {
			field(line, 9, fpr, sizeof(fpr));
		} else if (strncmp(line, "sec:", 4) == 0) {
			r = tg_fail(d, TG_E_USAGE, "%s: this is a secret key; give gpg --export output", what);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (r == TG_OK && npub != 1)
		r = tg_fail(d, TG_E_FORMAT, "%s: exactly one OpenPGP primary key expected, found %d", what, npub);
	char bits[16], algo[8], caps[32], curve[32];
	field(pub, 2, bits, sizeof(bits));
	field(pub, 3, algo, sizeof(algo));
	field(pub, 11, caps, sizeof(caps));
	field(pub, 16, curve, sizeof(curve));
	if (r == TG_OK && (strlen(fpr) != 40 || !strpbrk(caps, "sS")))
		r = tg_fail(d, TG_E_UNSUPPORTED, "%s: the OpenPGP key cannot sign (or has no v4 fingerprint)", what);
	if (r == TG_OK) {
		int a = atoi(algo), b = atoi(bits);
		ret->bits = b;
		/* The same floors as for X.509/SPKI keys (THREATS case 29, 40). */
		if (a == 1 && b >= 2048 && b <= 8192)
			snprintf(ret->algorithm, sizeof(ret->algorithm), "openpgp-rsa%d", b);
		else if (a == 22 && strcmp(curve, "ed25519") == 0)
			snprintf(ret->algorithm, sizeof(ret->algorithm), "openpgp-ed25519");
		else if (a == 19 && (strcmp(curve, "nistp256") == 0 || strcmp(curve, "nistp384") == 0))
			snprintf(ret->algorithm, sizeof(ret->algorithm), "openpgp-ecdsa-p%.3s", curve + 5);
		else
			r = tg_fail(d, TG_E_UNSUPPORTED, "%s: OpenPGP key algorithm %s (%s bits%s%s) is not accepted",
				    what, algo, bits, curve[0] ? ", " : "", curve);
	}
	for (int i = 0; fpr[i]; i++)
		ret->fingerprint[i] = (char)(fpr[i] >= 'A' && fpr[i] <= 'F' ? fpr[i] + 32 : fpr[i]);
	/* The binary form of the key, for keyrings built later. */
	if (r == TG_OK) {
		char *const deb[] = { "gpg", "--batch", "--no-options", "--homedir", dir, "--dearmor", "--output",
				      ringp, path, NULL };
		free(out);
		out = NULL;
		bool armored = in.len > 10 && memcmp(in.p, "-----BEGIN", 10) == 0;
		if (armored) {
			r = run(deb, &out, &status, d);
			if (r == TG_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
				r = tg_fail(d, TG_E_FORMAT, "%s: armored key does not dearmor", what);
			if (r == TG_OK) {
				uint8_t *b = NULL;
				size_t bl = 0;
				struct tg_diag ignore;
				FILE *f = fopen(ringp, "rb");
				if (f) {
					fseek(f, 0, SEEK_END);
					long n = ftell(f);
					fseek(f, 0, SEEK_SET);
					b = n > 0 ? malloc((size_t)n) : NULL;
					if (b && fread(b, 1, (size_t)n, f) == (size_t)n)
						bl = (size_t)n;
					fclose(f);
				}
				(void)ignore;
				if (!bl) {
					free(b);
					r = tg_fail(d, TG_E_IO, "%s: cannot dearmor", what);
				} else {
					ret->binary = b;
					ret->len = bl;
				}
			}
		} else {
			ret->binary = malloc(in.len);
			if (!ret->binary)
				r = TG_E_NOMEM;
			else {
				memcpy(ret->binary, in.p, in.len);
				ret->len = in.len;
			}
		}
	}
	home_remove(dir);
	if (r != TG_OK)
		tg_pgp_key_release(ret);
	return r;
}

void tg_pgp_verify_abort(struct tg_pgp_verify *v)
{
	if (v->in_fd >= 0)
		close(v->in_fd);
	if (v->out_fd >= 0)
		close(v->out_fd);
	if (v->pid > 0) {
		kill(v->pid, SIGKILL);
		while (waitpid(v->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	home_remove(v->dir);
	memset(v, 0, sizeof(*v));
	v->in_fd = v->out_fd = -1;
}

enum tg_err tg_pgp_verify_start(struct tg_span sig, const char *what, const struct tg_keyrec *keys,
				size_t nkeys, struct tg_pgp_verify *v, struct tg_diag *d)
{
	char sigp[128], ringp[128];
	_cleanup_free_ char *out = NULL;
	int status = 0, fd;
	enum tg_err r;

	memset(v, 0, sizeof(*v));
	v->in_fd = v->out_fd = -1;
	if (!home_make(v->dir))
		return tg_fail(d, TG_E_IO, "cannot create a private GnuPG home: %s", strerror(errno));
	snprintf(sigp, sizeof(sigp), "%s/sig", v->dir);
	snprintf(ringp, sizeof(ringp), "%s/ring", v->dir);
	if (!write_file(v->dir, "sig", sig.p, sig.len)) {
		tg_pgp_verify_abort(v);
		return tg_fail(d, TG_E_IO, "cannot write a private copy of %s", what);
	}
	/* Only signature packets: an inline-signed message or data packets in
	 * the .sig would make gpgv verify *that* data, not the file (THREATS
	 * cases 36a, 37). */
	char *const list[] = { "gpg", "--batch", "--no-options", "--homedir", v->dir, "--list-packets", sigp, NULL };
	r = run(list, &out, &status, d);
	if (r != TG_OK) {
		tg_pgp_verify_abort(v);
		return r;
	}
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (line[0] == ':') {
			if (strncmp(line, ":signature packet:", 18) == 0)
				v->nsigs++;
			else
				v->not_detached = true;
		}
		line = nl ? nl + 1 : NULL;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || (v->nsigs == 0 && !v->not_detached)) {
		tg_pgp_verify_abort(v);
		return tg_fail(d, TG_E_FORMAT, "%s: not a readable OpenPGP signature", what);
	}
	/* The keyring: the OpenPGP keys of the records, nothing else. */
	fd = open(ringp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		tg_pgp_verify_abort(v);
		return tg_fail(d, TG_E_IO, "cannot write the keyring");
	}
	for (size_t i = 0; i < nkeys; i++)
		if (strncmp(keys[i].algorithm, "openpgp-", 8) == 0 &&
		    write(fd, keys[i].spki, keys[i].spki_len) != (ssize_t)keys[i].spki_len) {
			close(fd);
			tg_pgp_verify_abort(v);
			return tg_fail(d, TG_E_IO, "cannot write the keyring");
		}
	close(fd);
	char *const gpgv[] = { "gpgv", "--homedir", v->dir, "--status-fd", "1", "--keyring", ringp, "--", sigp, "-", NULL };
	v->pid = spawn(gpgv, &v->in_fd, &v->out_fd);
	if (v->pid < 0) {
		tg_pgp_verify_abort(v);
		return tg_fail(d, TG_E_IO, "cannot run gpgv: %s", strerror(errno));
	}
	return TG_OK;
}

bool tg_pgp_verify_feed(struct tg_pgp_verify *v, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (v->in_fd >= 0 && n) {
		ssize_t w = write(v->in_fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(v->in_fd);
			v->in_fd = -1;
			return false;
		}
		b += w;
		n -= (size_t)w;
	}
	return v->in_fd >= 0;
}

static enum tg_hash pgp_hash(int id)
{
	switch (id) {
	case 2: return TG_HASH_SHA1;
	case 8: return TG_HASH_SHA256;
	case 9: return TG_HASH_SHA384;
	case 10: return TG_HASH_SHA512;
	default: return TG_HASH_NONE;  /* MD5, RIPEMD-160, SHA-224 ... */
	}
}

enum tg_err tg_pgp_verify_finish(struct tg_pgp_verify *v, struct tg_pgp_result *ret, struct tg_diag *d)
{
	_cleanup_free_ char *out = NULL;
	int status = 0, good = 0, valid = 0, bad = 0, newsig = 0;

	memset(ret, 0, sizeof(*ret));
	if (v->in_fd >= 0) {
		close(v->in_fd);
		v->in_fd = -1;
	}
	if (!collect(v->pid, v->out_fd, &out, &status)) {
		v->out_fd = -1;
		v->pid = 0;
		home_remove(v->dir);
		return tg_fail(d, TG_E_LIMIT, "gpgv: status output over %d bytes", PGP_MAX_OUTPUT);
	}
	v->out_fd = -1;
	v->pid = 0;
	home_remove(v->dir);
	v->dir[0] = '\0';
	/* Status lines only, whole tokens only: "[GNUPG:] KEYWORD args". */
	for (char *line = out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "[GNUPG:] ", 9) == 0) {
			const char *kw = line + 9;
			if (strncmp(kw, "NEWSIG", 6) == 0 && (kw[6] == ' ' || !kw[6]))
				newsig++;
			else if (strncmp(kw, "GOODSIG ", 8) == 0)
				good++;
			else if (strncmp(kw, "VALIDSIG ", 9) == 0) {
				/* fpr date ts expire ver reserved pkalgo hashalgo class primary */
				char f[11][64] = { { 0 } };
				int nf = sscanf(kw + 9, "%63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s", f[0], f[1],
						f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
				valid++;
				if (nf == 10 && strlen(f[9]) == 40) {
					for (int i = 0; i < 40; i++)
						ret->fingerprint[i] = (char)(f[9][i] >= 'A' && f[9][i] <= 'F' ? f[9][i] + 32 : f[9][i]);
					ret->hash = pgp_hash(atoi(f[7]));
				} else {
					bad++;
				}
			} else if (strncmp(kw, "BADSIG", 6) == 0 || strncmp(kw, "ERRSIG", 6) == 0 ||
				   strncmp(kw, "EXPSIG", 6) == 0 || strncmp(kw, "EXPKEYSIG", 9) == 0 ||
				   strncmp(kw, "REVKEYSIG", 9) == 0 || strncmp(kw, "NO_PUBKEY", 9) == 0) {
				bad++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	/* One signature, good, valid, by a key of the keyring, and gpgv's own
	 * exit status agreeing: nothing less counts. */
	ret->valid = WIFEXITED(status) && WEXITSTATUS(status) == 0 && newsig == 1 && good == 1 && valid == 1 &&
		     bad == 0 && !v->not_detached && v->nsigs == 1 && ret->fingerprint[0];
	return TG_OK;
}

/* ------------------------------------------------------------ keyrings */

static enum tg_err read_whole(const char *path, size_t max, uint8_t **ret, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;

	if (!f)
		return TG_E_IO;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || (size_t)n > max || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		return TG_E_LIMIT;
	}
	b = malloc(n ? (size_t)n : 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		fclose(f);
		return TG_E_IO;
	}
	fclose(f);
	*ret = b;
	*ret_len = (size_t)n;
	return TG_OK;
}

enum tg_err tg_pgp_keyring_split(struct tg_span in, const char *what, struct tg_pgp_key **ret, size_t *ret_n,
				 struct tg_diag *d)
{
	char dir[64], path[128], one[128];
	_cleanup_free_ char *out = NULL;
	struct tg_pgp_key *keys = NULL;
	size_t n = 0;
	int status = 0;
	enum tg_err r;

	*ret = NULL;
	*ret_n = 0;
	if (!home_make(dir))
		return tg_fail(d, TG_E_IO, "cannot create a private GnuPG home: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/in", dir);
	snprintf(one, sizeof(one), "%s/one", dir);
	if (!write_file(dir, "in", in.p, in.len)) {
		home_remove(dir);
		return tg_fail(d, TG_E_IO, "cannot write a private copy of %s", what);
	}
	char *const imp[] = { "gpg", "--batch", "--no-options", "--homedir", dir, "--quiet", "--import", path, NULL };
	r = run(imp, &out, &status, d);
	if (r == TG_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
		r = tg_fail(d, TG_E_FORMAT, "%s: not an OpenPGP keyring (gpg refused it)", what);
	char *const list[] = { "gpg", "--batch", "--no-options", "--homedir", dir, "--with-colons", "--list-keys", NULL };
	if (r == TG_OK) {
		free(out);
		out = NULL;
		r = run(list, &out, &status, d);
	}
	/* Each primary key ("pub", then its "fpr"), exported alone and read
	 * as a one-key file with the same checks as any other. */
	bool want_fpr = false;
	for (char *line = out; r == TG_OK && line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "pub:", 4) == 0) {
			want_fpr = true;
		} else if (want_fpr && strncmp(line, "fpr:", 4) == 0) {
			char fpr[64];
			want_fpr = false;
			field(line, 9, fpr, sizeof(fpr));
			if (n >= 64) {
				r = tg_fail(d, TG_E_LIMIT, "%s: more than 64 keys", what);
				break;
			}
			char *const exp[] = { "gpg", "--batch", "--no-options", "--homedir", dir, "--yes", "--output", one,
					      "--export", fpr, NULL };
			_cleanup_free_ char *o2 = NULL;
			_cleanup_free_ uint8_t *b = NULL;
			size_t bl = 0;
			r = run(exp, &o2, &status, d);
			if (r == TG_OK && (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
					   read_whole(one, 16u << 20, &b, &bl) != TG_OK))
				r = tg_fail(d, TG_E_FORMAT, "%s: key %s cannot be exported", what, fpr);
			struct tg_pgp_key *nk = r == TG_OK ? realloc(keys, (n + 1) * sizeof(*keys)) : NULL;
			if (r == TG_OK && !nk)
				r = TG_E_NOMEM;
			if (r == TG_OK) {
				keys = nk;
				char kwhat[200];
				snprintf(kwhat, sizeof(kwhat), "%s (key %s)", what, fpr);
				r = tg_pgp_key_inspect(tg_span_make(b, bl), kwhat, &keys[n], d);
				if (r == TG_OK)
					n++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	home_remove(dir);
	if (r == TG_OK && n == 0)
		r = tg_fail(d, TG_E_FORMAT, "%s: no OpenPGP public key in it", what);
	if (r != TG_OK) {
		for (size_t i = 0; i < n; i++)
			tg_pgp_key_release(&keys[i]);
		free(keys);
		return r;
	}
	*ret = keys;
	*ret_n = n;
	return TG_OK;
}

/* ------------------------------------------------------ clear-signed */

void tg_pgp_clearsigned_release(struct tg_pgp_clearsigned *c)
{
	free(c->text);
	memset(c, 0, sizeof(*c));
}

/* One clear-signed message and nothing else: the armour lines where they
 * belong, one signature block, nothing after it.  gpgv would verify the
 * first message of several and ignore text around it, which another
 * reader could take for the content (apt refuses the same). */
static bool clearsigned_shape(const uint8_t *p, size_t n)
{
	static const char head[] = "-----BEGIN PGP SIGNED MESSAGE-----\n", sig[] = "\n-----BEGIN PGP SIGNATURE-----\n",
			  end[] = "-----END PGP SIGNATURE-----";
	if (n < sizeof(head) || memcmp(p, head, sizeof(head) - 1) != 0 || memchr(p, 0, n))
		return false;
	const uint8_t *s = memmem(p, n, sig, sizeof(sig) - 1);
	if (!s || memmem(s + 1, n - (size_t)(s + 1 - p), sig, sizeof(sig) - 1) ||
	    memmem(p + 1, n - 1, head, sizeof(head) - 1))
		return false;
	const uint8_t *e = memmem(s, n - (size_t)(s - p), end, sizeof(end) - 1);
	if (!e)
		return false;
	for (const uint8_t *t = e + sizeof(end) - 1; t < p + n; t++)
		if (*t != '\n' && *t != '\r' && *t != ' ' && *t != '\t')
			return false;
	return true;
}

enum tg_err tg_pgp_verify_clearsigned(struct tg_span msg, const char *what, const struct tg_keyrec *keys, size_t nkeys,
				      struct tg_pgp_clearsigned *ret, struct tg_diag *d)
{
	char dir[64], msgp[128], ringp[128], outp[128];
	_cleanup_free_ char *out = NULL;
	int status = 0, fd;
	enum tg_err r;

	memset(ret, 0, sizeof(*ret));
	if (!clearsigned_shape(msg.p, msg.len))
		return tg_fail(d, TG_E_FORMAT, "%s: not one clear-signed OpenPGP message", what);
	if (!home_make(dir))
		return tg_fail(d, TG_E_IO, "cannot create a private GnuPG home: %s", strerror(errno));
	snprintf(msgp, sizeof(msgp), "%s/msg", dir);
	snprintf(ringp, sizeof(ringp), "%s/ring", dir);
	snprintf(outp, sizeof(outp), "%s/out", dir);
	if (!write_file(dir, "msg", msg.p, msg.len)) {
		home_remove(dir);
		return tg_fail(d, TG_E_IO, "cannot write a private copy of %s", what);
	}
	/* The keyring: the OpenPGP keys of the records, nothing else. */
	fd = open(ringp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	bool wrote = fd >= 0;
	for (size_t i = 0; wrote && i < nkeys; i++)
		if (strncmp(keys[i].algorithm, "openpgp-", 8) == 0 &&
		    write(fd, keys[i].spki, keys[i].spki_len) != (ssize_t)keys[i].spki_len)
			wrote = false;
	if (fd >= 0)
		close(fd);
	if (!wrote) {
		home_remove(dir);
		return tg_fail(d, TG_E_IO, "cannot write the keyring");
	}
	/* What gpgv writes with --output is exactly the signed text: the only
	 * text trustgate reads from the message. */
	char *const gpgv[] = { "gpgv", "--homedir", dir, "--status-fd", "1", "--keyring", ringp, "--output", outp,
			       "--", msgp, NULL };
	r = run(gpgv, &out, &status, d);
	int newsig = 0, bad = 0;
	for (char *line = out; r == TG_OK && line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strncmp(line, "[GNUPG:] ", 9) == 0) {
			const char *kw = line + 9;
			if (strncmp(kw, "NEWSIG", 6) == 0 && (kw[6] == ' ' || !kw[6])) {
				newsig++;
			} else if (strncmp(kw, "VALIDSIG ", 9) == 0) {
				char f[11][64] = { { 0 } };
				int nf = sscanf(kw + 9, "%63s %63s %63s %63s %63s %63s %63s %63s %63s %63s %63s", f[0], f[1],
						f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10]);
				if (nf == 10 && strlen(f[9]) == 40 && ret->nsigners < TG_PGP_MAX_SIGNERS) {
					char *fp = ret->signers[ret->nsigners].fingerprint;
					for (int i = 0; i < 40; i++)
						fp[i] = (char)(f[9][i] >= 'A' && f[9][i] <= 'F' ? f[9][i] + 32 : f[9][i]);
					ret->signers[ret->nsigners++].hash = pgp_hash(atoi(f[7]));
				} else {
					bad++;
				}
			} else if (strncmp(kw, "ERRSIG ", 7) == 0) {
				/* A signature by a key the records do not hold (reason 9,
				 * no public key) is not one of ours and proves nothing
				 * either way; anything else is an error. */
				char f[8][64] = { { 0 } };
				if (sscanf(kw + 7, "%63s %63s %63s %63s %63s %63s", f[0], f[1], f[2], f[3], f[4], f[5]) != 6 ||
				    strcmp(f[5], "9") != 0)
					bad++;
				else
					ret->unknown_signers++;
			} else if (strncmp(kw, "BADSIG", 6) == 0 || strncmp(kw, "EXPSIG", 6) == 0 ||
				   strncmp(kw, "EXPKEYSIG", 9) == 0 || strncmp(kw, "REVKEYSIG", 9) == 0) {
				bad++;
			}
		}
		line = nl ? nl + 1 : NULL;
	}
	/* Every signature either valid or by a key we do not have; one bad
	 * signature spoils the message (as apt). */
	ret->valid = r == TG_OK && bad == 0 && ret->nsigners > 0 && (size_t)newsig == ret->nsigners + ret->unknown_signers;
	if (r == TG_OK && ret->valid && read_whole(outp, TG_PGP_MAX_SIGNED_TEXT, (uint8_t **)&ret->text, &ret->len) != TG_OK)
		r = tg_fail(d, TG_E_IO, "%s: cannot read the signed text gpgv wrote", what);
	home_remove(dir);
	if (r != TG_OK)
		tg_pgp_clearsigned_release(ret);
	return r;
}
