/*
 * The check core (check.h): one artifact, for `trustgate check` (and its
 * --batch workers) and for the service.
 *
 * Inputs (file, signature) -> candidate keys from the records ->
 * one streaming pass computing exactly the digests those keys need -> one
 * verification per candidate (in a child process) -> policy -> verdict
 * recorded with its audit row -> report.  Only tg_verdict_finish() can
 * approve.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "check.h"
#include "evidence.h"
#include "apt.h"
#include "archive.h"
#include "workers.h"
#include "ziptail.h"
#include "dsse.h"
#include "fitpolicy.h"
#include "../common/cms.h"
#include "../firmware/capsule.h"
#include "../firmware/pe.h"
#include "openpgp.h"
#include "policy.h"
#include "../common/crypto.h"
#include "../common/encoding.h"
#include "../common/file.h"
#include "../common/text.h"
#include "../common/version.h"
#include "../db/records.h"
#include "../common/reasons.h"

/* ------------------------------------------------------------ kinds */

/* Kind by content, never by name (CLI.md): the same magic numbers the
 * archive walker uses for its members (and a zip behind a stub, ziptail.h). */
static const char *detect_kind(const uint8_t *h, size_t n)
{
	if (tg_fit_magic(h, n))
		return "fit";
	if (tg_capsule_magic(h, n))
		return "capsule";
	if (tg_archive_magic(h, n))
		return "archive";
	return "blob";
}

/* ------------------------------------------------------- signatures */

/* Raw bytes, or base64 of them (whitespace allowed).  An OpenPGP armored
 * signature is named as such so the user is not told "malformed". */
static enum tg_err decode_sig(const char *path, uint8_t *buf, size_t len, uint8_t **ret,
			      size_t *ret_len, struct tg_diag *d)
{
	bool text = true;

	if (tg_pgp_is_signature(buf, len)) {
		/* Kept as is: gpgv reads it (see openpgp.c). */
		*ret = malloc(len);
		if (!*ret)
			return TG_E_NOMEM;
		memcpy(*ret, buf, len);
		*ret_len = len;
		return TG_OK;
	}
	if (len >= 5 && memcmp(buf, "-----", 5) == 0)
		return tg_fail(d, TG_E_UNSUPPORTED, "%s: PEM/OpenPGP armored signatures are not "
						    "supported for blobs; give the raw or base64 signature",
			       path);
	for (size_t i = 0; i < len && text; i++) {
		uint8_t c = buf[i];
		text = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		       c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' ||
		       c == '\t';
	}
	if (text) {
		enum tg_err r = tg_base64_decode(tg_span_make(buf, len), true, ret, ret_len);
		if (r != TG_OK)
			return tg_fail(d, TG_E_FORMAT, "%s: signature looks like base64 but does not "
						       "decode", path);
		return TG_OK;
	}
	*ret = malloc(len);
	if (!*ret)
		return TG_E_NOMEM;
	memcpy(*ret, buf, len);
	*ret_len = len;
	return TG_OK;
}

/* ---------------------------------------------------- candidate keys */

struct candidate {
	struct tg_keyrec rec;
	struct tg_key *key;
	unsigned hashes;        /* digests to try (bitmask of enum tg_hash) */
	int za_md;              /* SM2: index of its SM3(ZA || M) stream,
				 * Ed25519: of its SHA-512(R || A || M) */
};

struct plan {
	struct tg_span sig;
	bool sig_is_der;
	struct candidate *c;
	size_t n, cap;
	unsigned need;          /* plain digests to compute */
	size_t n_keyed;         /* key-prefixed streams (SM2 ZA, Ed25519 R||A) */
	char other_content_fpr[65];
	struct tg_diag *d;
	enum tg_err err;
};

static enum tg_err add_candidate(const struct tg_keyrec *k, void *ud)
{
	struct plan *pl = ud;
	_cleanup_key_ struct tg_key *key = NULL;
	struct candidate *c;
	unsigned pinned = 0;
	enum tg_err r;

	if (strncmp(k->algorithm, "openpgp-", 8) == 0)
		return TG_OK;  /* verified by gpgv, see openpgp.c */
	/* Stored keys are validated again: a key edited into the records by
	 * hand must not slip past the import checks (THREATS case 57). */
	r = tg_key_from_spki(tg_span_make(k->spki, k->spki_len), &key, pl->d);
	if (r != TG_OK)
		return tg_fail(pl->d, TG_E_DB, "records: key %s fails validation; the records were "
					       "altered outside trustgate", k->fingerprint);
	if (strcmp(key->fingerprint, k->fingerprint) != 0)
		return tg_fail(pl->d, TG_E_DB, "records: key %s does not match its fingerprint",
			       k->fingerprint);
	if (!tg_hash_parse_list(k->hashes, &pinned))
		return tg_fail(pl->d, TG_E_DB, "records: key %s has an invalid hash list", k->fingerprint);

	unsigned try = 0;
	switch (key->type) {
	case TG_KEY_RSA: {
		bool maybe_pss = false;
		enum tg_hash h = tg_rsa_peek_hash(key, pl->sig, &maybe_pss);
		if (h != TG_HASH_NONE)
			try = 1u << h;  /* even if unpinned: reported as WEAK_ALGORITHM */
		else if (maybe_pss)
			try = pinned & ~(1u << TG_HASH_SM3);
		break;
	}
	case TG_KEY_P256: case TG_KEY_P384:
		if (pl->sig_is_der)
			try = pinned & ~(1u << TG_HASH_SM3);
		break;
	case TG_KEY_SM2:
		if (pl->sig_is_der)
			try = 1u << TG_HASH_SM3;
		break;
	case TG_KEY_ED25519:
		if (pl->sig.len == 64)
			try = 1u << TG_HASH_SHA512;
		break;
	default:
		break;
	}
	if (!try)
		return TG_OK;
	if (pl->n >= TG_MAX_CANDIDATE_KEYS)
		return tg_fail(pl->d, TG_E_LIMIT, "records: more than %d candidate keys",
			       TG_MAX_CANDIDATE_KEYS);
	if (tg_grow(pl->c, pl->cap, pl->n, 8) != TG_OK)
		return TG_E_NOMEM;
	c = &pl->c[pl->n++];
	memset(c, 0, sizeof(*c));
	/* Deep copy of the record: k is released after this callback. */
	if (tg_keyrec_copy(&c->rec, k, false) != TG_OK)
		return TG_E_NOMEM;
	c->key = TAKE_PTR(key);
	c->hashes = try;
	c->za_md = -1;
	if (c->key->type == TG_KEY_SM2 || c->key->type == TG_KEY_ED25519)
		c->za_md = (int)pl->n_keyed++;
	else
		pl->need |= try;
	return TG_OK;
}

static void plan_release(struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		tg_keyrec_release(&pl->c[i].rec);
		tg_key_free(pl->c[i].key);
	}
	free(pl->c);
}

/* ------------------------------------------------------- the stream */

struct stream {
	struct tg_pgp_verify *pgp;  /* gpgv reading the same bytes, or NULL */
	struct tg_md *md[TG_HASH__COUNT];
	struct tg_md **za;      /* one per SM2 / Ed25519 candidate */
	size_t n_za;
};

static void stream_release(struct stream *s)
{
	for (int h = 0; h < TG_HASH__COUNT; h++)
		tg_md_free(s->md[h]);
	for (size_t i = 0; i < s->n_za; i++)
		tg_md_free(s->za[i]);
	free(s->za);
}

/* Read the file once, feeding every digest.  All digests come from the same
 * bytes, so what is verified is what is reported (no second read to race
 * with, THREATS case 64), and memory stays constant whatever the size. */
/* A blob is read in chunks small enough to stay in the CPU's cache between
 * the kernel's copy and the digests that read it: with 256 KiB chunks each
 * byte went to memory and back (1 GiB blob: 1.3x openssl's time, a third of
 * it in the copy); 32 KiB is what openssl's own reads come to, about. */
#ifndef STREAM_CHUNK
#define STREAM_CHUNK (32u * 1024u)
#endif

static void feed_hash(struct stream *st, const uint8_t *p, size_t n)
{
	for (int h = 0; h < TG_HASH__COUNT; h++)
		if (st->md[h])
			tg_md_write(st->md[h], p, n);
	for (size_t i = 0; i < st->n_za; i++)
		tg_md_write(st->za[i], p, n);
}

/* Every digest and gpgv: what must see every byte of a blob. */
static void feed_stream(struct stream *st, const uint8_t *p, size_t n)
{
	feed_hash(st, p, n);
	if (st->pgp)
		tg_pgp_verify_feed(st->pgp, p, n);
}

static enum tg_err stream_file(const char *path, int fd, uint64_t size, struct stream *s,
			       struct tg_diag *d)
{
	_cleanup_free_ uint8_t *buf = malloc(STREAM_CHUNK);
	uint64_t got = 0;

	if (!buf)
		return TG_E_NOMEM;
	for (;;) {
		ssize_t n = read(fd, buf, STREAM_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return tg_fail(d, TG_E_IO, "%s: read failed: %s", path, strerror(errno));
		if (n == 0)
			break;
		if (got + (uint64_t)n > size)
			return tg_fail(d, TG_E_IO, "%s: file grew while reading", path);
		feed_stream(s, buf, (size_t)n);
		got += (uint64_t)n;
	}
	if (got != size)
		return tg_fail(d, TG_E_IO, "%s: file shrank while reading", path);
	return TG_OK;
}

/* The archive's bytes pass through every digest on their way to libarchive:
 * what is walked is exactly what the signature covers (one read). */
/*
 * A ring of read buffers between a reader thread and libarchive (in this
 * thread).  The reader thread reads each chunk, feeds it to every
 * signature digest (and gpgv, and the zip copy), then hands it over; this
 * thread walks the members and hashes them.  The two hashings of an
 * embedded-manifest check (the file, and every member) thus run on two
 * cores, and libarchive parses exactly the bytes that were hashed.  A slot
 * is refilled only once libarchive has moved past it (it keeps at most the
 * last buffer it was given).
 */
#define FEED_SLOTS 8

struct archive_feed {
	int fd;
	struct stream *st;
	const uint8_t *map;            /* the file mapped under a read lease, or
					* NULL: read() into the slots */
	uint8_t *slot[FEED_SLOTS];
	const uint8_t *ptr[FEED_SLOTS]; /* chunk i: in slot[i], or in the map */
	size_t len[FEED_SLOTS];
	uint64_t produced, taken;      /* chunks filled / handed to libarchive */
	bool eof, stop;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	bool threaded;
	uint64_t got, size;            /* the reader's; read by others after the join */
	int err;
	int copy_fd;                   /* zip: the same bytes, for the second reading */
};

/* Read one chunk into slot i and feed it to everything that must see every
 * byte: its length, 0 at the end, -1 on error (a file that grows is one). */
static ssize_t feed_fill(struct archive_feed *f, size_t i)
{
	ssize_t n;

	if (f->map) {
		/* No copy: the chunk is the page cache, which no writer can
		 * change while the lease holds (a break fails the check). */
		n = f->size - f->got < TG_READ_CHUNK ? (ssize_t)(f->size - f->got) : (ssize_t)TG_READ_CHUNK;
		f->ptr[i] = f->map + f->got;
		/* Chunks the ring and libarchive have left behind leave our page
		 * tables (still in the page cache): memory stays bounded however
		 * large the package. */
		uint64_t behind = (uint64_t)(FEED_SLOTS + 2) * TG_READ_CHUNK;
		if (f->got >= behind)
			madvise((void *)(f->map + f->got - behind), TG_READ_CHUNK, MADV_DONTNEED);
	} else {
		do
			n = read(f->fd, f->slot[i], TG_READ_CHUNK);
		while (n < 0 && errno == EINTR);
		f->ptr[i] = f->slot[i];
	}
	if (n < 0 || f->got + (uint64_t)(n > 0 ? n : 0) > f->size)
		return -1;
	f->got += (uint64_t)n;
	if (n == 0)
		return 0;
	if (f->st->pgp)
		tg_pgp_verify_feed(f->st->pgp, f->ptr[i], (size_t)n);
	if (f->copy_fd >= 0) {
		for (ssize_t o = 0; o < n;) {
			ssize_t w = write(f->copy_fd, f->ptr[i] + o, (size_t)(n - o));
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return -1;
			o += w;
		}
	}
	feed_hash(f->st, f->ptr[i], (size_t)n);
	return n;
}

static void *feed_thread(void *ud)
{
	struct archive_feed *f = ud;

	for (;;) {
		pthread_mutex_lock(&f->mu);
		/* Slot p % N last held chunk p - N, which libarchive has left
		 * once it was given chunk p - N + 1. */
		while (f->produced - f->taken >= FEED_SLOTS - 1 && !f->stop)
			pthread_cond_wait(&f->cv, &f->mu);
		bool stop = f->stop;
		size_t i = f->produced % FEED_SLOTS;
		pthread_mutex_unlock(&f->mu);
		if (stop)
			break;
		ssize_t n = feed_fill(f, i);
		pthread_mutex_lock(&f->mu);
		if (n > 0) {
			f->len[i] = (size_t)n;
			f->produced++;
		} else {
			f->eof = true;
			f->err = n < 0;
		}
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		if (n <= 0)
			break;
	}
	return NULL;
}

static ssize_t feed_read(void *ud, const void **buf)
{
	struct archive_feed *f = ud;
	ssize_t n;

	if (!f->threaded) {
		n = feed_fill(f, 0);
		f->err |= n < 0;
		*buf = f->ptr[0];
		return n;
	}
	pthread_mutex_lock(&f->mu);
	while (f->taken == f->produced && !f->eof)
		pthread_cond_wait(&f->cv, &f->mu);
	if (f->taken == f->produced) {
		n = f->err ? -1 : 0;
		*buf = f->slot[0];
	} else {
		size_t i = f->taken % FEED_SLOTS;
		n = (ssize_t)f->len[i];
		*buf = f->ptr[i];
		f->taken++;
		pthread_cond_broadcast(&f->cv);
	}
	pthread_mutex_unlock(&f->mu);
	return n;
}

static enum tg_err feed_start(struct archive_feed *f, bool threaded)
{
	for (int i = 0; i < FEED_SLOTS; i++)
		if (!(f->slot[i] = malloc(TG_READ_CHUNK)))
			return TG_E_NOMEM;
	if (!threaded)
		return TG_OK;
	pthread_mutex_init(&f->mu, NULL);
	pthread_cond_init(&f->cv, NULL);
	if (pthread_create(&f->th, NULL, feed_thread, f) != 0)
		return TG_OK;  /* fall back to reading in this thread */
	f->threaded = true;
	return TG_OK;
}

/* Stop the reader thread (wherever it is) and release the ring.  What was
 * not read yet is not hashed: callers drain with feed_read() first. */
static void feed_stop(struct archive_feed *f)
{
	if (f->threaded) {
		pthread_mutex_lock(&f->mu);
		f->stop = true;
		pthread_cond_broadcast(&f->cv);
		pthread_mutex_unlock(&f->mu);
		pthread_join(f->th, NULL);
		pthread_mutex_destroy(&f->mu);
		pthread_cond_destroy(&f->cv);
		f->threaded = false;
	}
	for (int i = 0; i < FEED_SLOTS; i++) {
		free(f->slot[i]);
		f->slot[i] = NULL;
	}
}

/* The central directory's reading of the same bytes must list exactly the
 * members the streaming reading saw: same names, order, types, sizes and
 * digests.  A local-only entry, a prefix, overlapping entries or a name,
 * size or method that differs all show up as a difference. */
static enum tg_err zip_cross_check(const char *path, int copy_fd, struct tg_ar_result *ar, struct tg_diag *d)
{
	struct tg_ar_result cd = { .hash_all = true };
	struct tg_diag cdd = { { 0 } };
	enum tg_err r;

	if (lseek(copy_fd, 0, SEEK_SET) != 0)
		return tg_fail(d, TG_E_IO, "%s: cannot reread the private copy", path);
	r = tg_archive_walk_zip_seekable(copy_fd, path, &cd, &cdd);
	if (r == TG_E_NOMEM || r == TG_E_IO) {
		tg_archive_result_release(&cd);
		return tg_fail(d, r, "%s", cdd.msg);
	}
	if (r != TG_OK || cd.stopped) {
		tg_archive_finding(ar, TG_R(ZIP_INCONSISTENT), TG_AR_ALWAYS, "the central directory does not read: %.250s",
				   cdd.msg[0] ? cdd.msg : "walk stopped");
		tg_archive_result_release(&cd);
		return TG_OK;
	}
	size_t i = 0, j = 0;
	const char *why = NULL;
	const struct tg_ar_member *a = NULL, *b = NULL;
	for (; i < ar->n && j < cd.n && !why; i++, j++) {
		a = &ar->m[i];
		b = &cd.m[j];
		if (a->nested != b->nested || strcmp(a->path, b->path) != 0)
			why = "a different member";
		else if (strcmp(a->type, b->type) != 0)
			why = "a different type";
		else if (a->size != b->size)
			why = "a different size";
		else if (strcmp(a->sha256, b->sha256) != 0)
			why = "different content";
		else if ((a->link || b->link) && (!a->link || !b->link || strcmp(a->link, b->link) != 0))
			why = "a different link target";
	}
	if (!why && (i < ar->n || j < cd.n))
		why = i < ar->n ? "a member only the local headers have" : "a member only the central directory has";
	if (why)
		tg_archive_finding(ar, TG_R(ZIP_INCONSISTENT), TG_AR_ALWAYS,
				   "local headers and central directory disagree at member %zu (%s): %s", i,
				   a ? a->path : "?", why);
	tg_archive_result_release(&cd);
	return TG_OK;
}

static enum tg_err capsule_evaluate(struct tg_db *db, const struct tg_capsule *cap, struct tg_fit_keys *fk,
				    struct tg_cms_result *cms, struct tg_product *prod, char capver[16],
				    struct tg_findings *f, struct tg_verdict *v, struct tg_diag *d);

/* A PE/COFF image's Authenticode signatures: each PKCS#7 verified by
 * libksba + libgcrypt, its signer certificate chained to a firmware key of
 * the records (a supplier's CA, or its signing certificate), and the
 * signed DigestInfo equal to the image's own Authenticode digest. */
static enum tg_err pe_evaluate(struct tg_db *db, const struct tg_pe *pe, struct tg_fit_keys *fk, struct tg_findings *f,
			       struct tg_verdict *v, struct tg_diag *d)
{
	char why[240] = "";
	enum tg_err r;

	f->sig_given = f->sig_reported = true;
	if (!pe->nsig) {
		tg_verdict_reason(v, TG_R(SIG_MISSING), "the PE image carries no Authenticode signature");
		return TG_OK;
	}
	r = tg_fit_keys_load(db, fk, d);
	for (size_t i = 0; r == TG_OK && i < pe->nsig && !f->signer; i++) {
		struct tg_cms_authenticode a;
		r = tg_cms_authenticode_verify(pe->sig[i], fk->key, fk->n, &a);
		if (r != TG_OK)
			return tg_fail(d, r, "Authenticode verification failed to run; refusing");
		const uint8_t *own = a.image_hash == TG_HASH_SHA1 ? pe->sha1 : a.image_hash == TG_HASH_SHA256 ? pe->sha256 :
				     a.image_hash == TG_HASH_SHA384 ? pe->sha384 : NULL;
		if (!a.ok) {
			if (!why[0])
				snprintf(why, sizeof(why), "%s", a.why);
		} else if (!own || memcmp(own, a.image_digest, tg_hash_len(a.image_hash)) != 0) {
			/* Signed, but another image: the bytes were changed. */
			if (!why[0])
				snprintf(why, sizeof(why), "signed by \"%s\" for another image (Authenticode digest differs)",
					 a.signer_subject);
		} else {
			f->signer = &fk->rec[a.signer];
			f->sig_hash = a.hash;
			f->scheme = fk->key[a.signer]->type == TG_KEY_RSA ? TG_SCHEME_RSA_PKCS1 : TG_SCHEME_ECDSA;
		}
	}
	if (r == TG_OK && !f->signer)
		tg_verdict_reason(v, TG_R(SIG_INVALID), "%s", why);
	return r;
}

/* A firmware image in memory and what its verification keeps alive until
 * the verdict is recorded.  `check` on a FIT, capsule or PE file and a
 * FIT or capsule found inside a package both go through fw_parse and
 * fw_evaluate, so a component is judged exactly as the same file would be
 * on its own. */
enum fw_kind { FW_FIT, FW_CAPSULE, FW_PE };

struct fw_check {
	enum fw_kind kind;
	bool parsed;
	char malformed[sizeof(((struct tg_diag *)NULL)->msg)];
	struct tg_fit fit;
	struct tg_capsule cap;
	struct tg_pe pe;
	struct tg_fit_keys fk;
	struct tg_cms_result cms;
	struct tg_product prod;
	char version[16];
};

static void fw_check_release(struct fw_check *fw)
{
	tg_product_release(&fw->prod);
	tg_fit_release(&fw->fit);
	tg_fit_keys_release(&fw->fk);
}

/* A malformed image is not an error: it is kept as the reason it will be
 * rejected with.  Anything else (memory, limits) is. */
static enum tg_err fw_parse(struct fw_check *fw, const uint8_t *p, size_t len, const char *path, struct tg_diag *d)
{
	struct tg_diag pd = { { 0 } };
	enum tg_err r;

	r = fw->kind == FW_CAPSULE ? tg_capsule_parse(p, len, path, &fw->cap, &pd) :
	    fw->kind == FW_PE	   ? tg_pe_authenticode(p, len, path, &fw->pe, &pd) :
				     tg_fit_parse(p, len, path, &fw->fit, &pd);
	fw->parsed = r == TG_OK;
	if (r == TG_E_FORMAT) {
		/* The diagnostic names the file, which the verdict names
		 * already: keep what follows it. */
		const char *m = pd.msg;
		size_t pl = strlen(path);
		if (strncmp(m, path, pl) == 0 && m[pl] == ':' && m[pl + 1] == ' ')
			m += pl + 2;
		snprintf(fw->malformed, sizeof(fw->malformed), "%s", m);
		return TG_OK;
	}
	if (r != TG_OK)
		*d = pd;
	return r;
}

/* The image's signatures against the firmware keys of the records; a
 * malformed image is rejected with its kind's code, never looked into. */
static enum tg_err fw_evaluate(struct tg_db *db, struct fw_check *fw, struct tg_findings *f, struct tg_verdict *v,
			       struct tg_diag *d)
{
	enum tg_err r;

	if (!fw->parsed) {
		f->sig_given = f->sig_reported = true;
		tg_verdict_reason(v, fw->kind == FW_FIT ? TG_R(FIT_MALFORMED) : fw->kind == FW_CAPSULE ? TG_R(CAPSULE_MALFORMED) :
				  TG_R(SIG_INVALID), "%s", fw->malformed);
		return TG_OK;
	}
	switch (fw->kind) {
	case FW_PE:
		return pe_evaluate(db, &fw->pe, &fw->fk, f, v, d);
	case FW_CAPSULE:
		return capsule_evaluate(db, &fw->cap, &fw->fk, &fw->cms, &fw->prod, fw->version, f, v, d);
	case FW_FIT:
		r = tg_fit_keys_load(db, &fw->fk, d);
		return r == TG_OK ? tg_fit_evaluate(&fw->fit, &fw->fk, f, v, d) : r;
	}
	return tg_fail(d, TG_E_UNSUPPORTED, "unknown firmware kind");
}

/* One FIT or capsule found inside a package, verified into cv from the
 * bytes the walk hashed. */
static enum tg_err component_firmware(struct tg_db *db, const struct tg_ar_member *m, unsigned release_algs,
				      struct tg_verdict *cv, struct tg_diag *d)
{
	static const char *const firmware_purposes[] = { "firmware", NULL };
	struct tg_findings f = { .purposes = firmware_purposes };
	struct fw_check fw = { .kind = strcmp(m->component, "fit") == 0 ? FW_FIT : FW_CAPSULE };
	enum tg_err r = TG_OK;

	memcpy(cv->sha256, m->sha256, sizeof(cv->sha256));
	cv->path = m->path;
	cv->size = m->size;
	snprintf(f.digest[TG_HASH_SHA256], sizeof(f.digest[0]), "%s", m->sha256);
	/* Its other digests, for releases recorded in other algorithms (the
	 * bytes are in memory: a component is verified from them). */
	for (int h = 1; m->blob && h < TG_HASH__COUNT && r == TG_OK; h++)
		if ((release_algs & (1u << h)) && h != TG_HASH_SHA256) {
			uint8_t dg[TG_HASH_MAX_LEN];
			r = tg_digest((enum tg_hash)h, m->blob, m->blob_len, dg);
			if (r == TG_OK)
				tg_hex_encode(dg, tg_hash_len((enum tg_hash)h), f.digest[h]);
		}
	if (r != TG_OK)
		return r;
	if (!m->blob)
		/* Rejected, like a malformed image: never verified. */
		snprintf(fw.malformed, sizeof(fw.malformed), "%s is over %u bytes: too large to verify inside a package",
			 m->path, TG_MAX_FIRMWARE_COMPONENT);
	else
		r = fw_parse(&fw, m->blob, m->blob_len, m->path, d);
	if (r == TG_OK)
		r = fw_evaluate(db, &fw, &f, cv, d);
	if (r == TG_OK)
		r = tg_policy_evaluate(db, &f, cv, d);
	if (r == TG_OK)
		tg_verdict_finish(cv);
	fw_check_release(&fw);
	return r;
}

/* What a reviewer reads about a package beyond its verdict: every link
 * (where it points, whether it leaves the package) and every setuid/setgid
 * file, at every tier. */
static void inventory(const struct tg_ar_result *ar, struct tg_verdict *v)
{
	v->inventory = json_object_new_array();
	for (size_t i = 0; i < ar->n; i++) {
		const struct tg_ar_member *m = &ar->m[i];
		bool sym = strcmp(m->type, "symlink") == 0, hard = strcmp(m->type, "hardlink") == 0;
		bool suid = (m->mode & (S_ISUID | S_ISGID)) != 0;
		if (!sym && !hard && !suid)
			continue;
		v->n_symlinks += sym;
		v->n_symlinks_out += sym && m->link_escapes;
		v->n_hardlinks += hard;
		v->n_setuid += suid;
		struct json_object *o = json_object_new_object();
		tg_json_str(o, "path", m->path);
		tg_json_str(o, "type", m->type);
		tg_json_str(o, "target", m->link);
		if (sym)
			json_object_object_add(o, "leaves_package", json_object_new_boolean(m->link_escapes));
		if (suid) {
			char mode[8];
			snprintf(mode, sizeof(mode), "%04o", (unsigned)(m->mode & 07777));
			tg_json_str(o, "mode", mode);
		}
		json_object_array_add(v->inventory, o);
	}
}

static enum tg_err archive_verdict(struct tg_db *db, const struct tg_ar_result *ar, unsigned release_algs,
				   struct tg_verdict *v, struct tg_diag *d)
{
	bool strict = tg_tier_rules_for(v->tier, v->cii)->products;

	/* First, so that it is listed whatever follows. */
	if (ar->dropped)
		tg_verdict_warn(v, TG_R(ARCHIVE_FINDINGS), "%zu more findings than the %d listed", ar->dropped,
				TG_AR_MAX_FINDINGS);
	for (size_t i = 0; i < ar->nf; i++) {
		const struct tg_ar_finding *f = &ar->f[i];
		/* setuid/setgid files from tier 3 are the product reviewer's
		 * decision (product add/set --allow setuid). */
		bool allowed = strcmp(f->code, TG_R(ARCHIVE_SETUID)) == 0 && tg_list_has(v->product_allow, "setuid");
		if ((f->sev == TG_AR_ALWAYS || strict) && !allowed)
			tg_verdict_reason(v, f->code, "%s", f->detail);
		else
			tg_verdict_warn(v, f->code, "%s%s", f->detail, allowed ? " (allowed by the product record)" : "");
	}
	inventory(ar, v);
	v->components = json_object_new_array();
	for (size_t i = 0; i < ar->n; i++) {
		const struct tg_ar_member *m = &ar->m[i];
		struct json_object *c, *reasons;
		bool ok = true;
		if (!m->component)
			continue;
		c = json_object_new_object();
		reasons = json_object_new_array();
		json_object_object_add(c, "path", json_object_new_string(m->path));
		json_object_object_add(c, "kind", json_object_new_string(m->component));
		json_object_object_add(c, "sha256", json_object_new_string(m->sha256));
		if (strcmp(m->component, "archive") == 0) {
			size_t pl = strlen(m->path);
			for (size_t k = 0; k < ar->nf; k++) {
				const char *det = ar->f[k].detail;
				if ((ar->f[k].sev == TG_AR_ALWAYS || strict) && strncmp(det, m->path, pl) == 0 &&
				    det[pl] == '!') {
					ok = false;
					json_object_array_add(reasons, json_object_new_string(ar->f[k].code));
				}
			}
		} else {
			/* A FIT or capsule is verified in full, from the bytes the
			 * walk hashed, as `check` would verify it on its own: its
			 * signatures against the records, then the supplier,
			 * product, release and tier rules for its own digest. */
			struct tg_verdict cv = { .kind = m->component, .tier = v->tier, .cii = v->cii, .gm = v->gm };
			enum tg_err r = component_firmware(db, m, release_algs, &cv, d);
			if (r != TG_OK) {
				json_object_put(c);
				json_object_put(reasons);
				return r;
			}
			ok = cv.approved;
			char codes[256] = "";
			for (size_t k = 0; k < cv.nreasons; k++) {
				json_object_array_add(reasons, json_object_new_string(cv.reasons[k].code));
				if (strlen(codes) + strlen(cv.reasons[k].code) + 3 < sizeof(codes))
					snprintf(codes + strlen(codes), sizeof(codes) - strlen(codes), "%s%s", k ? ", " : "",
						 cv.reasons[k].code);
			}
			if (!ok)
				tg_verdict_reason(v, TG_R(COMPONENT_REJECTED), "%s component %s: %s%s%s", m->component, m->path, codes,
						  cv.nreasons ? " — " : "", cv.nreasons ? cv.reasons[0].detail : "");
			tg_verdict_release(&cv);
		}
		json_object_object_add(c, "verdict", json_object_new_string(ok ? "approved" : "rejected"));
		json_object_object_add(c, "reasons", reasons);
		json_object_array_add(v->components, c);
	}
	return TG_OK;
}

/* ------------------------------------------------------------ manifest */

struct keylist {
	struct tg_keyrec *k;
	size_t n, cap;
};

static enum tg_err collect_key(const struct tg_keyrec *k, void *ud)
{
	struct keylist *kl = ud;

	if (tg_grow(kl->k, kl->cap, kl->n, 16) != TG_OK)
		return TG_E_NOMEM;
	return tg_keyrec_copy(&kl->k[kl->n++], k, true);
}

static void keylist_release(struct keylist *kl)
{
	for (size_t i = 0; i < kl->n; i++)
		tg_keyrec_release(&kl->k[i]);
	free(kl->k);
}

static int subject_cmp(const void *a, const void *b)
{
	return strcmp(((const struct tg_subject *)a)->name, ((const struct tg_subject *)b)->name);
}

/* The embedded manifest as the package's signature (issue 3): it must be
 * signed by a key of the records, and name every member with its digest,
 * and nothing else (ARCHIVE_UNLISTED, DIGEST_MISMATCH, ARCHIVE_MISSING). */
static enum tg_err manifest_check(struct tg_db *db, const char *path, struct tg_ar_result *ar,
				  struct tg_envelope *env, struct keylist *kl, struct tg_findings *f,
				  struct tg_verdict *v, struct tg_diag *d)
{
	struct tg_diag md = { { 0 } };
	struct tg_signer_match sm;
	enum tg_err r;
	char what[300];

	snprintf(what, sizeof(what), "%s!%s", path, TG_MANIFEST_NAME);
	f->sig_given = true;
	if (tg_envelope_parse(tg_span_make(ar->manifest, ar->manifest_len), what, env, &md) != TG_OK) {
		tg_verdict_reason(v, TG_R(MANIFEST_INVALID), "%s", md.msg);
		f->manifest_invalid = true;
		return TG_OK;
	}
	r = tg_rec_key_each(db, 0, collect_key, kl, d);
	if (r == TG_OK)
		r = tg_envelope_verify(env, kl->k, kl->n, &sm, d);
	if (r != TG_OK)
		return r;
	if (sm.index >= 0) {
		f->signer = &kl->k[sm.index];
		f->sig_hash = sm.hash;
		f->scheme = sm.scheme;
		if (strcmp(env->st.supplier, f->signer->supplier) != 0)
			tg_verdict_reason(v, TG_R(SUPPLIER_MISMATCH), "the manifest names supplier %s, its signer belongs to %s",
					  env->st.supplier, f->signer->supplier);
	}
	if (f->product && strcmp(f->product, env->st.product) != 0)
		tg_verdict_reason(v, TG_R(MANIFEST_MISMATCH), "--product %s, the manifest says %s", f->product, env->st.product);
	if (f->version && tg_version_cmp(f->version, env->st.version) != 0)
		tg_verdict_reason(v, TG_R(MANIFEST_MISMATCH), "--version %s, the manifest says %s", f->version, env->st.version);
	if (!f->product)
		f->product = env->st.product;
	if (!f->version) {
		/* The manifest's version, in its canonical spelling like one
		 * given with --version; a manifest with no valid version names
		 * no release. */
		if (tg_version_canonical(env->st.version, f->version_buf, sizeof(f->version_buf)))
			f->version = f->version_buf;
		else
			tg_verdict_reason(v, TG_R(MANIFEST_INVALID), "the manifest's version '%.64s' is not a version",
					  env->st.version);
	}
	/* Every member listed with its digest, every subject present. */
	_cleanup_free_ bool *used = tg_calloc(env->st.n, sizeof(bool));
	if (!used)
		return TG_E_NOMEM;
	qsort(env->st.s, env->st.n, sizeof(*env->st.s), subject_cmp);
	for (size_t i = 0; i < ar->n; i++) {
		struct tg_ar_member *m = &ar->m[i];
		struct tg_subject key = { .name = m->norm }, *hit;
		size_t k;
		bool is_link = strcmp(m->type, "symlink") == 0 || strcmp(m->type, "hardlink") == 0;
		if (m->nested || m->manifest || (strcmp(m->type, "file") != 0 && !is_link))
			continue;
		hit = env->st.n ? bsearch(&key, env->st.s, env->st.n, sizeof(*env->st.s), subject_cmp) : NULL;
		k = hit ? (size_t)(hit - env->st.s) : env->st.n;
		if (k == env->st.n) {
			/* A link nobody signed could repoint a signed path (THREATS
			 * section A): under a manifest it must be listed too. */
			tg_verdict_reason(v, TG_R(ARCHIVE_UNLISTED), "%s is not listed in the signed manifest", m->path);
			continue;
		}
		used[k] = true;
		if (is_link || env->st.s[k].link_type[0]) {
			if (strcmp(env->st.s[k].link_type[0] ? env->st.s[k].link_type : "file", m->type) != 0 ||
			    !m->link || !env->st.s[k].link || strcmp(env->st.s[k].link, m->link) != 0)
				tg_verdict_reason(v, TG_R(DIGEST_MISMATCH), "%s: a %s%s%s, the manifest lists a %s%s%s", m->path,
						  m->type, m->link ? " to " : "", m->link ? m->link : "",
						  env->st.s[k].link_type[0] ? env->st.s[k].link_type : "file",
						  env->st.s[k].link ? " to " : "", env->st.s[k].link ? env->st.s[k].link : "");
			else
				m->link_listed = true;
			continue;
		}
		if (strcmp(env->st.s[k].sha256, m->sha256) != 0)
			tg_verdict_reason(v, TG_R(DIGEST_MISMATCH), "%s: sha256 %.16s... differs from the manifest's %.16s...",
					  m->path, m->sha256, env->st.s[k].sha256);
		if (ar->hash_sm3 && strcmp(env->st.s[k].sm3, m->sm3) != 0)
			tg_verdict_reason(v, TG_R(DIGEST_MISMATCH), "%s: %s", m->path, env->st.s[k].sm3[0] ?
					  "sm3 differs from the manifest's" : "the GM profile needs an SM3 digest in the manifest");
	}
	for (size_t k = 0; k < env->st.n; k++)
		if (!used[k])
			tg_verdict_reason(v, TG_R(ARCHIVE_MISSING), "%s is listed in the manifest but not in the package",
					  env->st.s[k].name);
	return TG_OK;
}

/* ------------------------------------------------------------ apt */

/* The package's own control file must name what the signed index says
 * it is. */
static void apt_control(const struct tg_ar_result *ar, const struct tg_apt_match *am, struct tg_verdict *v)
{
	static const char *const fields[] = { "Package", "Version", "Architecture" };
	const char *want[] = { am->package, am->version, am->architecture };

	for (size_t i = 0; i < 3; i++) {
		char got[TG_MAX_VERSION + 128];
		if (!ar->deb_control || !tg_deb822_field(ar->deb_control, ar->deb_control_len, fields[i], got, sizeof(got)) ||
		    strcmp(got, want[i]) != 0)
			tg_verdict_reason(v, TG_R(APT_CONTROL_MISMATCH), "the package's control file says %s '%s', the signed "
					  "index '%s'", fields[i], ar->deb_control ? got : "(no control file)", want[i]);
	}
}

/* --apt-lists DIR: the signature of a .deb is its repository's (apt.h).
 * On success the signer is a record key that signed the InRelease, and
 * product and version are the index's package name and version. */
static enum tg_err apt_check(struct tg_db *db, const char *dir, const struct tg_ar_result *ar, uint64_t size,
			     struct keylist *kl, struct tg_findings *f, struct tg_verdict *v, struct tg_diag *d)
{
	struct tg_apt_match am;
	enum tg_err r;

	f->sig_given = true;
	f->sig_reported = true;   /* the reasons below say what failed */
	r = tg_rec_key_each(db, 0, collect_key, kl, d);
	if (r == TG_OK)
		r = tg_apt_find(dir, f->digest[TG_HASH_SHA256], size, kl->k, kl->n, tg_now_epoch(), &am, d);
	if (r != TG_OK)
		return r;
	if (!am.found) {
		for (size_t i = 0; i < am.nproblems; i++)
			tg_verdict_reason(v, am.problems[i].code, "%s", am.problems[i].detail);
		return TG_OK;
	}
	/* Of the record keys that signed the InRelease, one that is in force
	 * (a release signed also by an old, revoked key is not refused for
	 * that; one signed only by revoked keys is, by the policy). */
	int64_t now = tg_now_epoch(), t;
	for (size_t pass = 0; pass < 2 && !f->signer; pass++)
		for (size_t s = 0; s < am.nsigners && !f->signer; s++)
			for (size_t i = 0; i < kl->n; i++) {
				const struct tg_keyrec *k = &kl->k[i];
				bool in_force = !k->revoked_at && (!k->not_after || (tg_parse_date(k->not_after, &t) && now < t)) &&
						(!k->not_before || (tg_parse_date(k->not_before, &t) && now >= t));
				if (strcmp(k->fingerprint, am.signers[s]) == 0 && (in_force || pass == 1)) {
					f->signer = k;
					f->sig_hash = am.signer_hash[s];
					f->scheme = TG_SCHEME_OPENPGP;
					break;
				}
			}
	if (!f->signer) {
		tg_verdict_reason(v, TG_R(KEY_UNKNOWN), "%s was signed by no key of the records", am.release);
		return TG_OK;
	}
	apt_control(ar, &am, v);
	if (!tg_cli_name_ok(am.package) || !tg_version_canonical(am.version, f->version_buf, sizeof(f->version_buf))) {
		tg_verdict_reason(v, TG_R(APT_INDEX_MISMATCH), "the index names package '%.64s' version '%.64s', which are not "
				  "a valid name and version", am.package, am.version);
		return TG_OK;
	}
	if (f->product && strcmp(f->product, am.package) != 0)
		tg_verdict_reason(v, TG_R(APT_CONTROL_MISMATCH), "--product %s, the signed index says %s", f->product, am.package);
	if (f->version && tg_version_cmp(f->version, f->version_buf) != 0)
		tg_verdict_reason(v, TG_R(APT_CONTROL_MISMATCH), "--version %s, the signed index says %s", f->version,
				  f->version_buf);
	snprintf(f->product_buf, sizeof(f->product_buf), "%s", am.package);
	f->product = f->product_buf;
	f->version = f->version_buf;
	v->apt = json_object_new_object();
	tg_json_str(v->apt, "release", am.release);
	tg_json_str(v->apt, "suite", am.suite);
	tg_json_str(v->apt, "codename", am.codename);
	tg_json_str(v->apt, "package", am.package);
	tg_json_str(v->apt, "version", am.version);
	tg_json_str(v->apt, "architecture", am.architecture);
	return TG_OK;
}

/* ------------------------------------------------------------ record */

/* The facts the decision rested on, recorded with it so that `reevaluate`
 * can re-run the policy against changed records without the file: the
 * signature's key, scheme and digest, the file's digests, the purposes and
 * product/version asked for, and the walker's findings with their
 * severity (verifier/reevaluate.c reads exactly these). */
static struct json_object *facts_json(const struct tg_findings *f, const struct tg_ar_result *ar, bool archive)
{
	struct json_object *o = json_object_new_object(), *dg = json_object_new_object();
	struct json_object *purp = json_object_new_array();

	json_object_object_add(o, "sig_given", json_object_new_boolean(f->sig_given));
	tg_json_str(o, "sig_hash", f->signer ? tg_hash_name(f->sig_hash) : NULL);
	tg_json_str(o, "scheme", f->signer ? tg_scheme_name(f->scheme) : NULL);
	for (int h = TG_HASH_NONE + 1; h < TG_HASH__COUNT; h++)
		if (f->digest[h][0])
			tg_json_str(dg, tg_hash_name((enum tg_hash)h), f->digest[h]);
	json_object_object_add(o, "digests", dg);
	for (const char *const *pp = f->purposes; pp && *pp; pp++)
		json_object_array_add(purp, json_object_new_string(*pp));
	json_object_object_add(o, "purposes", purp);
	tg_json_str(o, "product", f->product);
	tg_json_str(o, "version", f->version);
	if (archive) {
		struct json_object *fs = json_object_new_array();
		for (size_t i = 0; i < ar->nf; i++) {
			struct json_object *x = json_object_new_object();
			tg_json_str(x, "code", ar->f[i].code);
			json_object_object_add(x, "always", json_object_new_boolean(ar->f[i].sev == TG_AR_ALWAYS));
			tg_json_str(x, "detail", ar->f[i].detail);
			json_object_array_add(fs, x);
		}
		json_object_object_add(o, "findings", fs);
	}
	return o;
}

/* What one check is given; the same for a single FILE and for each line of
 * --batch. */

static void render_line(FILE *o, const struct tg_verdict *v, int64_t id)
{
	char shown[1024];

	tg_text_quote(v->path, shown, sizeof(shown));
	fprintf(o, "%s  %s  %s  verdict %lld", v->approved ? "APPROVED" : "REJECTED", v->kind, shown, (long long)id);
	for (size_t i = 0; i < v->nreasons; i++)
		fprintf(o, "%s%s", i ? "," : "  ", v->reasons[i].code);
	fputc('\n', o);
}

/* Stamp the verdict as evidence, store it with its audit row, render what
 * the user sees (with the verdict id and audit row), then commit: a
 * recorded verdict is a shown one, even if the process dies in between
 * (verifier/output.c); a crash before the commit leaves nothing. */
static enum tg_err record_verdict(struct tg_ctx *ctx, struct tg_db *db, struct tg_verdict *v,
				  struct json_object *report, enum tg_check_render how, struct tg_diag *d)
{
	_cleanup_json_ struct json_object *detail = json_object_new_object();
	_cleanup_free_ char *text = NULL;
	char report_sha[65];
	enum tg_err r = tg_evidence_stamp(db, report, ctx->actor, d);

	if (r != TG_OK)
		return r;
	if (!(text = strdup(tg_evidence_text(report))))
		return TG_E_NOMEM;
	tg_evidence_digest(text, report_sha);
	struct tg_verdict_row row = {
		.actor = ctx->actor, .command = "check", .kind = v->kind, .subject_path = v->path,
		.subject_sha256 = v->sha256, .result = v->approved ? "approved" : "rejected",
		.supplier = v->supplier[0] ? v->supplier : NULL,
		.product = v->product[0] ? v->product : NULL,
		.version = v->version[0] ? v->version : NULL,
		.key_fingerprint = v->has_key ? v->key_fpr : NULL, .report = text,
		.subject_size = v->size, .tier = v->tier, .cii = v->cii, .gm = v->gm,
	};
	int64_t id = 0;

	r = tg_db_begin(db, d);
	if (r == TG_OK)
		r = tg_audit_next_seq(db, &row.audit_seq, d);
	if (r == TG_OK)
		r = tg_rec_verdict_insert(db, &row, &id, d);
	if (r != TG_OK)
		goto fail;
	json_object_object_add(detail, "verdict_id", json_object_new_int64(id));
	tg_json_str(detail, "result", row.result);
	tg_json_str(detail, "kind", v->kind);
	tg_json_str(detail, "path", v->path);
	json_object_object_add(detail, "tier", json_object_new_int(v->tier));
	json_object_object_add(detail, "reasons", tg_verdict_codes_json(v));
	tg_json_str(detail, "key", row.key_fingerprint);
	tg_json_str(detail, "report_sha256", report_sha);
	char line[256];
	snprintf(line, sizeof(line), "check %s %s %s verdict %lld", row.result, v->kind, v->sha256, (long long)id);
	r = tg_cli_measure_decision(db, line, d);
	if (r == TG_OK)
		r = tg_audit_append(db, ctx->actor, "check", v->sha256, tg_evidence_text(detail), d);
	if (r == TG_OK)
		r = tg_evidence_link(db, id, row.audit_seq, report, d);
	if (r != TG_OK)
		goto fail;
	FILE *o = tg_out_open();
	switch (how) {
	case RENDER_JSON:
		tg_cli_fprint_json(o, report);
		break;
	case RENDER_JSONL:
		fprintf(o, "%s\n", json_object_to_json_string_ext(report, JSON_C_TO_STRING_PLAIN |
									  JSON_C_TO_STRING_NOSLASHESCAPE));
		break;
	case RENDER_LINE:
		render_line(o, v, id);
		break;
	case RENDER_FULL:
		tg_report_fprint(o, v);
		tg_evidence_fprint(o, report);
		break;
	}
	tg_out_seal();
	tg_test_crash_point("check-before-record");
	r = tg_db_commit(db, d);
	if (r != TG_OK)
		goto fail;
	tg_out_committed();
	return TG_OK;
fail:
	tg_db_rollback(db);
	return r;
}

/* ------------------------------------------------------------- main */

/* A FIT is taken into memory once: the file's own digests are computed in
 * a second thread while this one parses the FIT and hashes its images, so
 * both come from the same bytes and the two hashings share the cores.  A
 * FIT that does not parse is kept as *malformed (a FIT_MALFORMED reason),
 * not an error: it is an artifact to reject, and that is recorded.
 *
 * The bytes must not change while they are checked (THREATS 64): when a
 * read lease can be taken (nobody has the file open for writing, and a
 * writer's open() now waits for us) the file is mapped, no copy; a lease
 * break before the verdict is recorded fails the check.  Without a lease
 * the file is copied. */
struct fw_mem {
	uint8_t *p;
	size_t len;
	bool mapped;
	int fd;
	struct sigaction old;
};

static volatile sig_atomic_t fw_lease_broken;

static void on_lease_break(int sig)
{
	(void)sig;
	fw_lease_broken = 1;
}

static void fw_mem_release(struct fw_mem *m)
{
	if (m->mapped) {
		munmap(m->p, m->len ? m->len : 1);
		fcntl(m->fd, F_SETLEASE, F_UNLCK);
		sigaction(SIGIO, &m->old, NULL);
	} else {
		free(m->p);
	}
	memset(m, 0, sizeof(*m));
}

struct hash_job {
	struct stream *st;
	const uint8_t *p;
	size_t n;
};

static void *hash_job_run(void *ud)
{
	struct hash_job *j = ud;
	feed_hash(j->st, j->p, j->n);
	return NULL;
}

/* A firmware image read once: mapped under a read lease (or copied), hashed
 * for the signature digests in a second thread while it is parsed. */
/* Map the file under a read lease (see struct fw_mem): true when mapped;
 * otherwise the caller reads it. */
static bool map_under_lease(int fd, uint64_t size, bool populate, struct fw_mem *mem)
{
	struct sigaction sa = { .sa_handler = on_lease_break };

	mem->fd = fd;
	fw_lease_broken = 0;
	sigemptyset(&sa.sa_mask);
	if (size && size <= SIZE_MAX && sigaction(SIGIO, &sa, &mem->old) == 0) {
		if (fcntl(fd, F_SETLEASE, F_RDLCK) == 0) {
			void *p = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED | (populate ? MAP_POPULATE : 0), fd, 0);
			if (p != MAP_FAILED) {
				mem->p = p;
				mem->len = (size_t)size;
				mem->mapped = true;
			} else {
				fcntl(fd, F_SETLEASE, F_UNLCK);
			}
		}
		if (!mem->mapped)
			sigaction(SIGIO, &mem->old, NULL);
	}
	return mem->mapped;
}

static enum tg_err firmware_pass(const char *path, int fd, uint64_t size, struct stream *st, struct fw_mem *mem,
				 struct fw_check *fw, struct tg_diag *d)
{
	struct hash_job job;
	pthread_t th;
	size_t got = 0;
	enum tg_err r;

	if (size > TG_MAX_FIT_FILE)
		return tg_fail(d, TG_E_LIMIT, "%s: firmware image of %llu bytes is over the %llu-byte limit", path,
			       (unsigned long long)size, (unsigned long long)TG_MAX_FIT_FILE);
	map_under_lease(fd, size, true, mem);
	if (!mem->mapped) {
		mem->p = malloc(size ? (size_t)size : 1);
		if (!mem->p)
			return TG_E_NOMEM;
		while (got < size) {
			ssize_t n = read(fd, mem->p + got, (size_t)size - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return tg_fail(d, TG_E_IO, "%s: read failed or the file shrank: %s", path,
					       n < 0 ? strerror(errno) : "short read");
			got += (size_t)n;
		}
		mem->len = got;
	}
	job = (struct hash_job){ st, mem->p, mem->len };
	bool threaded = pthread_create(&th, NULL, hash_job_run, &job) == 0;
	if (!threaded)
		feed_hash(st, mem->p, mem->len);
	r = fw_parse(fw, mem->p, mem->len, path, d);
	if (threaded)
		pthread_join(th, NULL);
	return r;
}

/* A UEFI capsule: its PKCS#7 over payload || monotonic count verified with
 * the firmware keys of the records (libksba + libgcrypt); the image type
 * GUID must name a product of the signer's supplier, and the FMP payload
 * header's firmware version is the version the rollback rules see. */
static enum tg_err capsule_evaluate(struct tg_db *db, const struct tg_capsule *cap, struct tg_fit_keys *fk,
				    struct tg_cms_result *cms, struct tg_product *prod, char capver[16],
				    struct tg_findings *f, struct tg_verdict *v, struct tg_diag *d)
{
	enum tg_err r;

	f->sig_given = f->sig_reported = true;
	if (!cap->signed_) {
		tg_verdict_reason(v, TG_R(SIG_MISSING), "the capsule image carries no authentication "
				  "(EFI_FIRMWARE_IMAGE_AUTHENTICATION)");
		return TG_OK;
	}
	r = tg_fit_keys_load(db, fk, d);
	if (r != TG_OK)
		return r;
	struct tg_span parts[2] = { cap->payload, tg_span_make(cap->count_le, 8) };
	r = tg_cms_verify_detached(cap->pkcs7, parts, 2, fk->key, fk->n, cms);
	if (r != TG_OK)
		return tg_fail(d, r, "capsule signature verification failed to run; refusing");
	if (cms->malformed) {
		tg_verdict_reason(v, TG_R(CAPSULE_MALFORMED), "%s", cms->why);
		return TG_OK;
	}
	if (!cms->ok) {
		tg_verdict_reason(v, TG_R(CAPSULE_SIG_INVALID), "%s", cms->why);
		return TG_OK;
	}
	f->signer = &fk->rec[cms->signer];
	f->sig_hash = cms->hash;
	f->scheme = cms->scheme;
	r = tg_rec_product_by_guid(db, f->signer->supplier_id, cap->image_type, prod, d);
	if (r == TG_E_NOTFOUND) {
		tg_verdict_reason(v, TG_R(PRODUCT_UNKNOWN), "image type %s belongs to no product of %s (product add --guid)",
				  cap->image_type, f->signer->supplier);
		memset(d, 0, sizeof(*d));
		r = TG_OK;
	} else if (r == TG_OK) {
		if (f->product && strcmp(f->product, prod->name) != 0)
			tg_verdict_reason(v, TG_R(MANIFEST_MISMATCH), "--product %s, but image type %s is product %s",
					  f->product, cap->image_type, prod->name);
		f->product = prod->name;
	}
	if (r == TG_OK && cap->has_version) {
		snprintf(capver, 16, "%u", cap->fw_version);
		if (f->version && strcmp(f->version, capver) != 0)
			tg_verdict_reason(v, TG_R(MANIFEST_MISMATCH), "--version %s, but the capsule carries firmware version %s",
					  f->version, capver);
		f->version = capver;
	}
	return r;
}

/* The file checked is small and reads as a signature: the user most
 * likely gave the two files the other way round. */
static bool swapped(const char *path, uint64_t size)
{
	_cleanup_free_ uint8_t *buf = NULL, *sig = NULL;
	struct tg_diag d = { { 0 } };
	size_t len = 0, siglen = 0;

	if (size == 0 || size > TG_MAX_SIG_FILE)
		return false;
	return tg_file_read(path, TG_MAX_SIG_FILE, &buf, &len, &d) == TG_OK &&
	       decode_sig(path, buf, len, &sig, &siglen, &d) == TG_OK && siglen >= 8 &&
	       (tg_sig_is_der_ecdsa(tg_span_make(sig, siglen)) || siglen == 64 || siglen == 256 || siglen == 384 ||
		siglen == 512 || (len > 10 && memcmp(buf, "-----BEGIN PGP SIGNATURE", 10) == 0));
}

/* One check, from its inputs to its verdict: what each phase below reads
 * and leaves for the next; released (whatever was reached) by
 * check_run_release. */
struct check_run {
	struct tg_ctx *ctx;
	struct tg_db *db;
	const struct tg_check_args *a;
	struct tg_diag *d;
	/* inputs */
	int fd;
	uint64_t size;
	uint8_t head[512];
	ssize_t hn;
	bool zip_tail, is_fit, is_capsule, is_pe;
	uint8_t *sigfile, *sig;
	size_t sigfile_len, siglen;
	/* the plan: candidate keys, the digests they and the releases need */
	unsigned release_algs;
	struct plan pl;
	struct keylist kl;
	struct tg_pgp_verify pgpv;
	bool pgp_started;
	/* the pass over the bytes */
	struct stream st;
	struct tg_ar_result ar;
	struct fw_check fw;
	struct fw_mem fwmem;
	struct tg_envelope env;
	bool streamed;                 /* the bytes were pushed (tg_check_stream_*) */
	struct tg_md *hint_md[2];      /* streamed: SM3 for sm2_identity_hint */
	/* what was found, and the verdict */
	struct tg_findings f;
	struct tg_verdict v;
};

/* Nothing reached yet: no file, no mapping, no gpgv (check_run_release). */
static struct check_run check_run_start(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_args *a,
					struct tg_diag *d)
{
	return (struct check_run){
		.ctx = ctx, .db = db, .a = a, .d = d, .fd = -1,
		.fwmem = { .fd = -1 }, .pgpv = { .in_fd = -1, .out_fd = -1 },
	};
}

static void check_run_release(struct check_run *cr)
{
	if (cr->pgp_started)
		tg_pgp_verify_abort(&cr->pgpv);
	fw_check_release(&cr->fw);
	fw_mem_release(&cr->fwmem);
	stream_release(&cr->st);
	tg_md_free(cr->hint_md[0]);
	tg_md_free(cr->hint_md[1]);
	plan_release(&cr->pl);
	tg_archive_result_release(&cr->ar);
	tg_envelope_release(&cr->env);
	keylist_release(&cr->kl);
	tg_verdict_release(&cr->v);
	free(cr->sigfile);
	free(cr->sig);
	if (cr->fd >= 0)
		close(cr->fd);
}

/* The signature file, read and decoded. */
static enum tg_err sig_read(struct check_run *cr)
{
	enum tg_err r = tg_file_read(cr->a->sig, TG_MAX_SIG_FILE, &cr->sigfile, &cr->sigfile_len, cr->d);

	if (r == TG_OK)
		r = decode_sig(cr->a->sig, cr->sigfile, cr->sigfile_len, &cr->sig, &cr->siglen, cr->d);
	return r;
}

/* Inputs: the file (its kind by content) and the signature file. */
static enum tg_err check_inputs(struct check_run *cr)
{
	enum tg_err r;

	fw_lease_broken = 0;
	r = tg_file_open(cr->a->file, TG_MAX_BLOB_SIZE, &cr->fd, &cr->size, cr->d);
	if (r != TG_OK)
		return r;
	cr->hn = pread(cr->fd, cr->head, sizeof(cr->head), 0);
	if (cr->hn < 0)
		return tg_fail(cr->d, TG_E_IO, "%s: read failed: %s", cr->a->file, strerror(errno));
	cr->v.kind = detect_kind(cr->head, (size_t)cr->hn);
	/* A zip behind a stub is still a package (THREATS case 7e): walked,
	 * and refused for its prefix, never approved as an opaque blob. */
	cr->zip_tail = strcmp(cr->v.kind, "blob") == 0 && tg_zip_at_end(cr->fd, cr->size);
	if (cr->zip_tail)
		cr->v.kind = "archive";
	/* A PE/COFF image without --sig carries its own (Authenticode)
	 * signature; with --sig it is a blob under a detached signature. */
	if (strcmp(cr->v.kind, "blob") == 0 && !cr->a->sig && tg_pe_magic(cr->head, (size_t)cr->hn))
		cr->v.kind = "pe";
	cr->is_fit = strcmp(cr->v.kind, "fit") == 0;
	cr->is_capsule = strcmp(cr->v.kind, "capsule") == 0;
	cr->is_pe = strcmp(cr->v.kind, "pe") == 0;
	if ((cr->is_fit || cr->is_capsule) && cr->a->sig)
		return tg_fail(cr->d, TG_E_USAGE, "%s: a %s carries its signatures inside; --sig is not "
						"used for it", cr->a->file, cr->is_fit ? "FIT" : "UEFI capsule");
	if (cr->a->sig) {
		r = sig_read(cr);
		/* No signature we read is over 1,100 bytes of raw signature
		 * (RSA-8192: 1,024); a file of that size as --sig and a small
		 * signature-shaped FILE are the two arguments swapped. */
		if ((r != TG_OK || (cr->siglen > 1100 && !tg_pgp_is_signature(cr->sig, cr->siglen))) && swapped(cr->a->file, cr->size))
			r = tg_fail(cr->d, TG_E_USAGE, "%s is not a signature, but %s looks like one: FILE and --sig swapped? "
					"(trustgate check FILE --sig SIGNATURE)", cr->a->sig, cr->a->file);
		if (r != TG_OK)
			return r;
		if (cr->siglen < 8)
			return tg_fail(cr->d, TG_E_FORMAT, "%s: signature is truncated (%zu bytes)", cr->a->sig, cr->siglen);
	}
	return TG_OK;
}

/* The plan: the records' keys that could have made the signature, the
 * digests they need (and every algorithm a release is recorded in), and
 * gpgv started for an OpenPGP signature. */
static enum tg_err check_plan(struct check_run *cr)
{
	enum tg_err r = TG_OK;

	cr->pl.sig = tg_span_make(cr->sig, cr->siglen);
	cr->pl.sig_is_der = cr->sig && tg_sig_is_der_ecdsa(cr->pl.sig);
	cr->pl.d = cr->d;
	if (cr->sig)
		r = tg_rec_key_each(cr->db, 0, add_candidate, &cr->pl, cr->d);
	/* Every digest algorithm a release of the records uses, so a release
	 * is found (and a revoked one refused) whatever it was recorded in. */
	cr->release_algs = 0;
	if (r == TG_OK)
		r = tg_rec_release_algs(cr->db, &cr->release_algs, cr->d);
	if (r != TG_OK)
		return r;
	cr->pl.need |= cr->release_algs | 1u << TG_HASH_SHA256;
	for (int h = 1; h < TG_HASH__COUNT; h++)
		if ((cr->pl.need & (1u << h)) && tg_md_new((enum tg_hash)h, &cr->st.md[h]) != TG_OK) {
			r = tg_fail(cr->d, TG_E_CRYPTO, "digest %s unavailable", tg_hash_name((enum tg_hash)h));
			return r;
		}
	if (cr->pl.n_keyed) {
		cr->st.za = tg_calloc(cr->pl.n_keyed, sizeof(*cr->st.za));
		if (!cr->st.za) {
			r = TG_E_NOMEM;
			return r;
		}
		for (size_t i = 0; i < cr->pl.n; i++) {
			uint8_t za[32];
			struct candidate *c = &cr->pl.c[i];
			if (c->za_md < 0)
				continue;
			if (c->key->type == TG_KEY_ED25519) {
				r = tg_eddsa_hram_start(c->key, cr->pl.sig, &cr->st.za[cr->st.n_za]);
				if (r != TG_OK)
					return r;
				cr->st.n_za++;
				continue;
			}
			/* e = SM3(ZA || M), ZA from the approved key and the
			 * GM/T 0009 default identity, never from the artifact
			 * (THREATS case 34). */
			if (tg_sm2_za(c->key, TG_SM2_DEFAULT_ID, za) != TG_OK ||
			    tg_md_new(TG_HASH_SM3, &cr->st.za[cr->st.n_za]) != TG_OK) {
				r = tg_fail(cr->d, TG_E_CRYPTO, "SM2: cannot compute ZA");
				return r;
			}
			tg_md_write(cr->st.za[cr->st.n_za++], za, 32);
		}
	}

	/* -- OpenPGP: gpgv reads the very bytes of the pass below */
	bool pgp = cr->sig && tg_pgp_is_signature(cr->sig, cr->siglen);
	if (pgp) {
		r = tg_rec_key_each(cr->db, 0, collect_key, &cr->kl, cr->d);
		if (r == TG_OK)
			r = tg_pgp_verify_start(tg_span_make(cr->sig, cr->siglen), cr->a->sig, cr->kl.k, cr->kl.n, &cr->pgpv, cr->d);
		if (r != TG_OK)
			return r;
		cr->pgp_started = true;
		cr->st.pgp = &cr->pgpv;
	}
	return TG_OK;
}

/* The pass over a package: its members walked as the bytes stream by
 * (read or mapped), the file's digests taken from the same bytes. */
static enum tg_err archive_pass(struct check_run *cr)
{
	enum tg_err r;

	struct archive_feed feed = { .fd = cr->fd, .st = &cr->st, .size = cr->size, .copy_fd = -1 };
	/* Mapped under a read lease when one can be had (no copy out of
	 * the page cache); read otherwise. */
	if (map_under_lease(cr->fd, cr->size, false, &cr->fwmem)) {
		feed.map = cr->fwmem.p;
		madvise(cr->fwmem.p, cr->fwmem.len, MADV_SEQUENTIAL);
	}
	bool zip = cr->hn >= 4 && memcmp(cr->head, "PK\x03\x04", 4) == 0;
	/* THREATS P6/7/8: a zip read by its local headers (streaming)
	 * and by its central directory can list different files.  The
	 * bytes read are also copied to an unlinked private file, read
	 * again through the central directory, and both lists must be
	 * the same. */
	if (zip) {
		const char *tmp = getenv("TMPDIR");
		feed.copy_fd = open(tmp && *tmp ? tmp : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
		if (feed.copy_fd < 0) {
			r = tg_fail(cr->d, TG_E_IO, "%s: cannot create a private copy for the zip cross-check: %s",
				    cr->a->file, strerror(errno));
			return r;
		}
	}
	/* Without a detached signature the embedded manifest signs the
	 * members: hash them all (and in SM3 for the GM profile), and the
	 * file's own digests in a second thread. */
	bool manifest_mode = cr->sig == NULL && !cr->a->apt_lists;
	cr->ar.hash_all = manifest_mode || zip;
	cr->ar.hash_sm3 = manifest_mode && cr->ctx->gm;
	/* Under an embedded manifest every byte must be accounted for
	 * (ARCHIVE_TRAILING_DATA); a detached signature, or an apt index
	 * listing the file's digest, covers them. */
	cr->ar.whole_size = manifest_mode ? cr->size : 0;
	if (zip && manifest_mode && !tg_zip_at_end(cr->fd, cr->size))
		tg_archive_finding(&cr->ar, TG_R(ARCHIVE_TRAILING_DATA), TG_AR_ALWAYS, "%s: bytes after the zip's end of "
				   "central directory record are not covered by the signed manifest", cr->a->file);
	r = feed_start(&feed, cr->ar.hash_all);
	if (r != TG_OK) {
		feed_stop(&feed);
		if (feed.copy_fd >= 0)
			close(feed.copy_fd);
		return r;
	}
	r = tg_archive_walk(feed_read, &feed, cr->a->file, &cr->ar, cr->d);
	/* Bytes libarchive did not need (padding, trailing data) are
	 * still covered by the signature digests. */
	const void *dummy;
	ssize_t n;
	while (r == TG_OK && (n = feed_read(&feed, &dummy)) > 0)
		;
	feed_stop(&feed);
	if (feed.err)
		r = tg_fail(cr->d, TG_E_IO, "%s: read failed or the file grew while reading", cr->a->file);
	else if (r == TG_OK && feed.got != cr->size)
		r = tg_fail(cr->d, TG_E_IO, "%s: file changed size while reading", cr->a->file);
	if (r == TG_OK && zip)
		r = zip_cross_check(cr->a->file, feed.copy_fd, &cr->ar, cr->d);
	if (feed.copy_fd >= 0)
		close(feed.copy_fd);
	return r;
}

/* Nothing is walked: streaming readers do not even find the members of a
 * zip behind a stub, and what precedes them is unaccounted for. */
static void zip_tail_finding(struct check_run *cr)
{
	tg_archive_finding(&cr->ar, TG_R(ZIP_INCONSISTENT), TG_AR_ALWAYS, "a zip behind bytes that are not a zip "
			   "(self-extractor style); not walked");
}

/* The file's digests, as the pass over its bytes leaves them. */
static void pass_digests(struct check_run *cr)
{
	uint8_t digest[TG_HASH_MAX_LEN];

	for (int h = 1; h < TG_HASH__COUNT; h++)
		if (cr->st.md[h]) {
			tg_md_final(cr->st.md[h], digest);
			tg_hex_encode(digest, tg_hash_len((enum tg_hash)h), cr->f.digest[h]);
		}
}

/* One pass over the file's bytes: every digest, the members of a package,
 * the structure of a firmware image. */
static enum tg_err check_pass(struct check_run *cr)
{
	enum tg_err r;

	if (cr->is_fit || cr->is_capsule || cr->is_pe) {
		cr->fw.kind = cr->is_fit ? FW_FIT : cr->is_capsule ? FW_CAPSULE : FW_PE;
		r = firmware_pass(cr->a->file, cr->fd, cr->size, &cr->st, &cr->fwmem, &cr->fw, cr->d);
	} else if (strcmp(cr->v.kind, "archive") == 0 && !cr->zip_tail) {
		r = archive_pass(cr);
	} else {
		r = stream_file(cr->a->file, cr->fd, cr->size, &cr->st, cr->d);
		if (cr->zip_tail)
			zip_tail_finding(cr);
	}
	if (r == TG_OK)
		pass_digests(cr);
	return r;
}

/* Which candidate made the signature: gpgv's answer, or each key's
 * verification in turn; the first that verifies is the signer. */
static enum tg_err check_signer(struct check_run *cr)
{
	uint8_t digest[TG_HASH_MAX_LEN];
	enum tg_err r = TG_OK;

	if (cr->pgp_started) {
		struct tg_pgp_result pr;
		cr->st.pgp = NULL;
		cr->pgp_started = false;
		r = tg_pgp_verify_finish(&cr->pgpv, &pr, cr->d);
		if (r != TG_OK)
			return r;
		if (cr->pgpv.not_detached || cr->pgpv.nsigs != 1)
			cr->f.sig_problem = cr->pgpv.not_detached ? "the OpenPGP file also carries data (an inline-signed "
							    "message), not a detached signature of this file" :
							    "the OpenPGP file holds more than one signature";
		for (size_t i = 0; pr.valid && i < cr->kl.n && !cr->f.signer; i++)
			if (strncmp(cr->kl.k[i].algorithm, "openpgp-", 8) == 0 && strcmp(cr->kl.k[i].fingerprint, pr.fingerprint) == 0) {
				cr->f.signer = &cr->kl.k[i];
				cr->f.sig_hash = pr.hash;
				cr->f.scheme = TG_SCHEME_OPENPGP;
			}
	}

	/* -- verify each candidate; the first that verifies is the signer */
	for (size_t i = 0; i < cr->pl.n && !cr->f.signer; i++) {
		struct candidate *c = &cr->pl.c[i];
		bool ok = false;
		enum tg_sig_scheme scheme = TG_SCHEME_NONE;
		if (c->key->type == TG_KEY_ED25519) {
			uint8_t hram[64];
			tg_md_final(cr->st.za[c->za_md], hram);
			r = tg_verify_eddsa(c->key, cr->pl.sig, hram, &ok);
			scheme = TG_SCHEME_ED25519;
			if (r == TG_OK && ok) {
				cr->f.signer = &c->rec;
				cr->f.sig_hash = TG_HASH_SHA512;
				cr->f.scheme = scheme;
			}
		} else if (c->key->type == TG_KEY_SM2) {
			uint8_t e[32];
			tg_md_final(cr->st.za[c->za_md], e);
			r = tg_verify_digest(c->key, TG_HASH_SM3, e, cr->pl.sig, &ok, &scheme);
			if (r == TG_OK && ok) {
				cr->f.signer = &c->rec;
				cr->f.sig_hash = TG_HASH_SM3;
				cr->f.scheme = scheme;
			}
		} else {
			for (int h = 1; h < TG_HASH__COUNT && !ok; h++) {
				size_t n = 0;
				if (!(c->hashes & (1u << h)))
					continue;
				if (!tg_hex_decode(cr->f.digest[h], digest, sizeof(digest), &n))
					continue;
				r = tg_verify_digest(c->key, (enum tg_hash)h, digest, cr->pl.sig, &ok, &scheme);
				if (r != TG_OK)
					break;
				if (ok) {
					cr->f.signer = &c->rec;
					cr->f.sig_hash = (enum tg_hash)h;
					cr->f.scheme = scheme;
				} else if (c->key->type == TG_KEY_RSA && !cr->pl.other_content_fpr[0] &&
					   c->hashes == (1u << h)) {
					/* The DigestInfo decoded under this key: it made
					 * the signature, over other bytes. */
					snprintf(cr->pl.other_content_fpr, sizeof(cr->pl.other_content_fpr), "%s",
						 c->rec.fingerprint);
				}
			}
		}
		if (r != TG_OK) {
			/* The verifier child died: never a silent "invalid". */
			r = tg_fail(cr->d, r, "%s: signature verification crashed with key %s; refusing",
				    cr->a->sig, c->rec.fingerprint);
			return r;
		}
	}
	return TG_OK;
}

/* SM3 of the file under the two mistaken ZAs (variant 0: ZA with an empty
 * identity, 1: no ZA): taken in the pass (a streamed check, hint_md), or
 * by reading the file again (only when an SM2 signature failed). */
static bool hint_digest(struct check_run *cr, struct candidate *c, int variant, uint8_t e[32])
{
	uint8_t za[32], buf[65536];
	struct tg_md *md = NULL;
	ssize_t got;
	int hfd;

	if (cr->hint_md[variant]) {
		tg_md_final(cr->hint_md[variant], e);
		return true;
	}
	if (cr->streamed)
		return false;
	if ((hfd = open(cr->a->file, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if (tg_md_new(TG_HASH_SM3, &md) != TG_OK || (variant == 0 && tg_sm2_za(c->key, "", za) != TG_OK)) {
		close(hfd);
		tg_md_free(md);
		return false;
	}
	if (variant == 0)
		tg_md_write(md, za, 32);
	while ((got = read(hfd, buf, sizeof(buf))) > 0)
		tg_md_write(md, buf, (size_t)got);
	close(hfd);
	tg_md_final(md, e);
	tg_md_free(md);
	return got == 0;
}

/* The first SM2 candidate's (sm2_identity_hint asks about that one). */
static struct candidate *first_sm2(struct check_run *cr)
{
	for (size_t i = 0; i < cr->pl.n; i++)
		if (cr->pl.c[i].key->type == TG_KEY_SM2)
			return &cr->pl.c[i];
	return NULL;
}

static void sm2_identity_hint(struct check_run *cr)
{
	static char hint[320];
	struct candidate *c = first_sm2(cr);

	/* -- a likely mistake, said (never approved): an SM2 signature that
	 * verifies with an empty identity in ZA, or with no ZA at all — what
	 * `openssl dgst -sm3 -sign` makes when -sigopt
	 * distid:1234567812345678 is left out. */
	if (cr->f.signer || cr->f.sig_problem || !c)
		return;
	for (int variant = 0; variant < 2 && !cr->f.sig_problem; variant++) {
		uint8_t e[32];
		bool ok = false;
		if (!hint_digest(cr, c, variant, e))
			break;
		if (tg_verify_digest(c->key, TG_HASH_SM3, e, cr->pl.sig, &ok, NULL) == TG_OK && ok) {
			snprintf(hint, sizeof(hint), "signature by SM2 key %.16s... verifies only %s (signed "
				 "with openssl dgst -sm3 -sign but no -sigopt distid:1234567812345678?): not a GM/T 0009 "
				 "signature; ask for one made with the default identity", c->rec.fingerprint,
				 variant == 0 ? "with an empty identity in ZA" : "without the SM2 ZA");
			cr->f.sig_problem = hint;
		}
	}
}

/* The rules: the verdict's subject, then the manifest or apt index, the
 * firmware's own signatures, the tier rules and the package's members. */
static enum tg_err check_evaluate(struct check_run *cr)
{
	static const char *const blob_purposes[] = { "firmware", "package", NULL };
	static const char *const package_purposes[] = { "package", NULL };
	static const char *const firmware_purposes[] = { "firmware", NULL };
	enum tg_err r = TG_OK;

	memcpy(cr->v.sha256, cr->f.digest[TG_HASH_SHA256], 64);
	cr->v.sha256[64] = '\0';
	cr->v.path = cr->a->name ? cr->a->name : cr->a->file;
	cr->v.size = cr->size;
	cr->v.tier = cr->ctx->tier;
	cr->v.cii = cr->ctx->cii;
	cr->v.gm = cr->ctx->gm;
	cr->f.sig_given = cr->sig != NULL;
	cr->f.purposes = strcmp(cr->v.kind, "archive") == 0 ? package_purposes :
		     cr->is_fit || cr->is_capsule || cr->is_pe ? firmware_purposes : blob_purposes;
	cr->f.product = cr->a->product;
	cr->f.version = cr->a->version;
	memcpy(cr->f.other_content_fpr, cr->pl.other_content_fpr, sizeof(cr->f.other_content_fpr));
	if (cr->a->apt_lists) {
		if (strcmp(cr->v.kind, "archive") != 0 || !cr->ar.deb_version[0]) {
			r = tg_fail(cr->d, TG_E_USAGE, "%s: --apt-lists verifies Debian packages (.deb) only", cr->a->file);
			return r;
		}
		r = apt_check(cr->db, cr->a->apt_lists, &cr->ar, cr->size, &cr->kl, &cr->f, &cr->v, cr->d);
		if (r != TG_OK)
			return r;
	} else if (!cr->sig && cr->ar.manifest)
		r = manifest_check(cr->db, cr->a->file, &cr->ar, &cr->env, &cr->kl, &cr->f, &cr->v, cr->d);
	if (r == TG_OK && (cr->is_fit || cr->is_capsule || cr->is_pe))
		r = fw_evaluate(cr->db, &cr->fw, &cr->f, &cr->v, cr->d);
	if (r == TG_OK)
		r = tg_policy_evaluate(cr->db, &cr->f, &cr->v, cr->d);
	if (r == TG_OK && strcmp(cr->v.kind, "archive") == 0)
		r = archive_verdict(cr->db, &cr->ar, cr->release_algs, &cr->v, cr->d);
	if (r != TG_OK)
		return r;
	tg_verdict_finish(&cr->v);

	if (cr->fwmem.mapped && fw_lease_broken) {
		r = tg_fail(cr->d, TG_E_IO, "%s: opened for writing by another process while being checked", cr->a->file);
		return r;
	}
	return TG_OK;
}

/* After the pass: the signer, the rules, the verdict recorded, then shown
 * (record_verdict renders before it commits). */
static enum tg_err check_conclude(struct check_run *cr, enum tg_check_render how, bool *approved)
{
	_cleanup_json_ struct json_object *report = NULL;
	enum tg_err r = check_signer(cr);

	if (r == TG_OK) {
		sm2_identity_hint(cr);
		r = check_evaluate(cr);
	}
	if (r == TG_OK) {
		report = tg_report_json(&cr->v);
		json_object_object_add(report, "facts", facts_json(&cr->f, &cr->ar, strcmp(cr->v.kind, "archive") == 0));
		r = record_verdict(cr->ctx, cr->db, &cr->v, report, how, cr->d);
		if (r != TG_OK)
			tg_out_discard();
	}
	if (r == TG_OK) {
		tg_test_crash_point("check-after-record");
		*approved = cr->v.approved;
	}
	return r;
}

/* One file through the whole check: its inputs read, the pass over its
 * bytes, the signature, the policy, the verdict recorded and rendered into
 * the output (tg_out_*) in the form asked for.  TG_OK means a verdict was
 * recorded (*approved says which); anything else means none was, and d
 * says why.  The records stay open across calls (check --batch). */
enum tg_err tg_check_one(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_args *a,
			 enum tg_check_render how, bool *approved, struct tg_diag *d)
{
	struct check_run cr = check_run_start(ctx, db, a, d);
	enum tg_err r;

	*approved = false;
	r = check_inputs(&cr);
	if (r == TG_OK)
		r = check_plan(&cr);
	if (r == TG_OK)
		r = check_pass(&cr);
	if (r == TG_OK)
		r = check_conclude(&cr, how, approved);
	check_run_release(&cr);
	return r;
}

/* The verdict document a check just rendered (RENDER_JSON), handed back. */
static enum tg_err take_json(enum tg_err r, char **ret_json, size_t *ret_len, struct tg_diag *d)
{
	*ret_json = NULL;
	*ret_len = 0;
	if (r != TG_OK)
		return r;
	*ret_json = tg_out_take(ret_len);
	return *ret_json ? TG_OK : tg_fail(d, TG_E_NOMEM, "the verdict was recorded but could not be rendered");
}

/* The check as a library call (trustgate serve): the verdict document is
 * the one `check --json` prints, byte for byte, handed back instead of
 * written. */
enum tg_err tg_check_run(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_input *in, bool *approved,
			 char **ret_json, size_t *ret_len, struct tg_diag *d)
{
	const struct tg_check_args a = {
		.file = in->file, .sig = in->sig, .product = in->product, .version = in->version, .name = in->name,
	};
	return take_json(tg_check_one(ctx, db, &a, RENDER_JSON, approved, d), ret_json, ret_len, d);
}

/* ------------------------------------------ a check fed as bytes arrive */

/*
 * The service's upload checked as its bytes arrive, never written to a
 * file (a 1 GiB upload spent two thirds of its time copying into the page
 * cache).  Taken this way only when one pass decides everything the
 * spooled path would: a blob (by its first bytes) under a detached
 * signature that was received, and decodes, before the file.  Anything
 * else -- a package, a firmware image, a signature that does not decode --
 * goes the spooled way, which answers the same from a file.
 *
 * The caller's pieces are copied into slots; a thread feeds each full slot
 * to every digest (and gpgv, and the SM2 hint's digests) and to the zip
 * rule (ziptail.h), which must see every byte too.
 */
#define SLOT_SIZE (1024u * 1024u)
#define SLOTS 4

struct tg_check_stream {
	struct check_run cr;
	struct tg_ctx ctx;
	struct tg_check_args a;
	char *name, *sig_path;
	uint64_t got;                  /* bytes fed */
	/* the slots: [done, handed) are the thread's, handed % SLOTS is filled */
	uint8_t *slot[SLOTS];
	size_t len[SLOTS];
	uint64_t handed, done;
	bool eof, stop, started;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t th;
	/* the thread's (read by others after the join) */
	uint64_t hashed;
	struct tg_ziptail zt;
};

static void consume(struct tg_check_stream *s, const uint8_t *p, size_t n)
{
	feed_stream(&s->cr.st, p, n);
	for (int v = 0; v < 2; v++)
		if (s->cr.hint_md[v])
			tg_md_write(s->cr.hint_md[v], p, n);
	tg_ziptail_feed(&s->zt, p, n);
	s->hashed += n;
}

static void *consume_thread(void *ud)
{
	struct tg_check_stream *s = ud;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->done == s->handed && !s->eof && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->stop || s->done == s->handed)
			break;
		unsigned i = (unsigned)(s->done % SLOTS);
		pthread_mutex_unlock(&s->mu);
		consume(s, s->slot[i], s->len[i]);
		pthread_mutex_lock(&s->mu);
		s->done++;
		pthread_cond_broadcast(&s->cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Hand the slot being filled to the thread; wait for a free one. */
static void hand_over(struct tg_check_stream *s, bool last)
{
	pthread_mutex_lock(&s->mu);
	if (s->len[s->handed % SLOTS])
		s->handed++;
	if (last)
		s->eof = true;
	pthread_cond_broadcast(&s->cv);
	while (!last && s->handed - s->done >= SLOTS)
		pthread_cond_wait(&s->cv, &s->mu);
	if (!last)
		s->len[s->handed % SLOTS] = 0;
	pthread_mutex_unlock(&s->mu);
}

static void stream_join(struct tg_check_stream *s, bool stop)
{
	if (!s->started)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = stop;
	s->eof = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->th, NULL);
	s->started = false;
}

void tg_check_stream_free(struct tg_check_stream *s)
{
	if (!s)
		return;
	stream_join(s, true);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	check_run_release(&s->cr);
	for (int i = 0; i < SLOTS; i++)
		free(s->slot[i]);
	tg_ziptail_release(&s->zt);
	free(s->name);
	free(s->sig_path);
	free(s);
}

/* Both SM3 digests sm2_identity_hint may need, taken in the pass: the bytes
 * are not there to read again. */
static enum tg_err hint_start(struct check_run *cr)
{
	struct candidate *c = first_sm2(cr);
	uint8_t za[32];

	if (!c)
		return TG_OK;
	if (tg_sm2_za(c->key, "", za) != TG_OK || tg_md_new(TG_HASH_SM3, &cr->hint_md[0]) != TG_OK ||
	    tg_md_new(TG_HASH_SM3, &cr->hint_md[1]) != TG_OK)
		return tg_fail(cr->d, TG_E_CRYPTO, "SM2: cannot compute ZA");
	tg_md_write(cr->hint_md[0], za, 32);
	return TG_OK;
}

enum tg_err tg_check_stream_open(struct tg_ctx *ctx, struct tg_db *db, const struct tg_check_input *in,
				 const uint8_t *head, size_t hn, struct tg_check_stream **ret, struct tg_diag *d)
{
	struct tg_check_stream *s;
	enum tg_err r;

	*ret = NULL;
	if (!in->sig || hn < sizeof(s->cr.head) || strcmp(detect_kind(head, sizeof(s->cr.head)), "blob") != 0)
		return TG_OK;
	if (!(s = tg_calloc(1, sizeof(*s))))
		return TG_E_NOMEM;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	s->ctx = *ctx;
	s->name = strdup(in->name ? in->name : "upload");
	s->sig_path = strdup(in->sig);
	/* a.file names the upload in messages; nothing reads it. */
	s->a = (struct tg_check_args){ .file = s->name, .sig = s->sig_path, .name = s->name };
	s->cr = check_run_start(&s->ctx, db, &s->a, d);
	s->cr.streamed = true;
	memcpy(s->cr.head, head, sizeof(s->cr.head));
	s->cr.hn = (ssize_t)sizeof(s->cr.head);
	s->cr.v.kind = "blob";
	if (!s->name || !s->sig_path) {
		tg_check_stream_free(s);
		return TG_E_NOMEM;
	}
	/* A signature that does not decode, or looks swapped with the file,
	 * is the spooled path's to explain. */
	r = sig_read(&s->cr);
	if (r != TG_OK || s->cr.siglen < 8 || (s->cr.siglen > 1100 && !tg_pgp_is_signature(s->cr.sig, s->cr.siglen))) {
		tg_check_stream_free(s);
		*d = (struct tg_diag){ { 0 } };
		return TG_OK;
	}
	r = check_plan(&s->cr);
	if (r == TG_OK)
		r = hint_start(&s->cr);
	for (int i = 0; r == TG_OK && i < SLOTS; i++)
		if (!(s->slot[i] = malloc(SLOT_SIZE)))
			r = TG_E_NOMEM;
	if (r == TG_OK) {
		if (pthread_create(&s->th, NULL, consume_thread, s) != 0)
			r = tg_fail(d, TG_E_NOMEM, "cannot start a thread for the upload");
		else
			s->started = true;
	}
	if (r != TG_OK) {
		tg_check_stream_free(s);
		return r;
	}
	*ret = s;
	return TG_OK;
}

enum tg_err tg_check_stream_feed(struct tg_check_stream *s, const void *p, size_t n, struct tg_diag *d)
{
	const uint8_t *b = p;

	if (s->got + n > TG_MAX_BLOB_SIZE)
		return tg_fail(d, TG_E_LIMIT, "%s: over the limit of %llu bytes", s->name,
			       (unsigned long long)TG_MAX_BLOB_SIZE);
	s->got += n;
	while (n) {
		unsigned i = (unsigned)(s->handed % SLOTS);
		size_t take = SLOT_SIZE - s->len[i] < n ? SLOT_SIZE - s->len[i] : n;
		memcpy(s->slot[i] + s->len[i], b, take);
		s->len[i] += take;
		b += take;
		n -= take;
		if (s->len[i] == SLOT_SIZE)
			hand_over(s, false);
	}
	return TG_OK;
}

/* A streamed check reads the records when its first MiB arrives and is
 * decided after its last byte: the candidate keys' records are read again
 * then, so that a key revoked while the upload was arriving is refused
 * (the spooled path reads them only once the file is whole). */
static enum tg_err refresh_records(struct check_run *cr)
{
	enum tg_err r = TG_OK;

	for (size_t i = 0; i < cr->pl.n && r == TG_OK; i++) {
		struct candidate *c = &cr->pl.c[i];
		struct tg_keyrec now = { 0 };
		r = tg_rec_key_get(cr->db, c->rec.fingerprint, &now, cr->d);
		if (r == TG_E_NOTFOUND)
			r = tg_fail(cr->d, TG_E_DB, "records: key %s was removed while the upload arrived; the records "
						     "were altered outside trustgate", c->rec.fingerprint);
		if (r != TG_OK)
			break;
		tg_keyrec_release(&c->rec);
		c->rec = now;
	}
	if (r == TG_OK && cr->pgp_started) {
		keylist_release(&cr->kl);
		cr->kl = (struct keylist){ 0 };
		r = tg_rec_key_each(cr->db, 0, collect_key, &cr->kl, cr->d);
	}
	return r;
}

enum tg_err tg_check_stream_finish(struct tg_check_stream *s, const char *product, const char *version,
				   bool *approved, char **ret_json, size_t *ret_len, struct tg_diag *d)
{
	struct check_run *cr = &s->cr;
	enum tg_err r;

	*approved = false;
	*ret_json = NULL;
	*ret_len = 0;
	cr->d = d;
	s->a.product = product;
	s->a.version = version;
	hand_over(s, true);
	stream_join(s, false);
	if (s->hashed != s->got)
		return tg_fail(d, TG_E_IO, "%s: the upload was not read whole", s->name);
	cr->size = s->got;
	/* check_inputs' zip rule, over the bytes as they went by. */
	int zt = tg_ziptail_end(&s->zt);
	if (zt < 0)
		return tg_fail(d, TG_E_LIMIT, "%s: too many zip directory signatures to decide as the upload arrives; "
					      "send the signature after the file", s->name);
	cr->zip_tail = zt == 1;
	if (cr->zip_tail) {
		cr->v.kind = "archive";
		zip_tail_finding(cr);
	}
	pass_digests(cr);
	r = refresh_records(cr);
	if (r == TG_OK)
		r = check_conclude(cr, RENDER_JSON, approved);
	return take_json(r, ret_json, ret_len, d);
}
