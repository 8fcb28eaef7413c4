/*
 * Unit tests for the crypto core: the libgcrypt pitfalls of THREATS P1-P5
 * and cases 27-34, with keys generated here by libgcrypt itself.
 */
#include <string.h>

#include <gcrypt.h>
#include <ksba.h>

#include "harness.h"
#include "../../common/crypto.h"
#include "../../common/encoding.h"

static void unhex(const char *h, uint8_t *out, size_t n)
{
	size_t got = 0;
	if (!tg_hex_decode(h, out, n, &got) || got != n)
		abort();
}

/* Copy the last n bytes of the named token's data. */
static void token_tail(gcry_sexp_t s, const char *name, uint8_t *out, size_t n)
{
	gcry_sexp_t t = gcry_sexp_find_token(s, name, 0);
	size_t len = 0;
	const char *p = t ? gcry_sexp_nth_data(t, 1, &len) : NULL;
	memset(out, 0, n);
	if (p && len >= n)
		memcpy(out, p + len - n, n);
	else if (p)
		memcpy(out + n - len, p, len);
	gcry_sexp_release(t);
}

static void hram_of(const struct tg_key *k, struct tg_span sig, struct tg_span msg, uint8_t out[64])
{
	struct tg_md *md = NULL;
	if (tg_eddsa_hram_start(k, sig, &md) != TG_OK)
		abort();
	tg_md_write(md, msg.p, msg.len);
	tg_md_final(md, out);
	tg_md_free(md);
}

static bool ed_ours(const struct tg_key *k, struct tg_span msg, struct tg_span sig)
{
	uint8_t h[64];
	bool ok = false;
	hram_of(k, sig, msg, h);
	if (tg_verify_eddsa(k, sig, h, &ok) != TG_OK)
		return false;
	return ok;
}

static void test_ed25519(void)
{
	/* RFC 8032 §7.1 TEST 1 (empty message). */
	struct tg_key k = { .type = TG_KEY_ED25519, .bits = 256, .q_len = 32 };
	uint8_t sig[64];
	unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", k.q, 32);
	unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
	      sig, 64);
	struct tg_span empty = tg_span_make("", 0), s = tg_span_make(sig, 64);
	CHECK(ed_ours(&k, empty, s), "Ed25519 RFC 8032 test 1 verifies (streamed path)");
	CHECK(tg_verify_eddsa_message_inproc(&k, empty, s), "Ed25519 RFC 8032 test 1 verifies (gcry_pk_verify)");
	CHECK(!ed_ours(&k, tg_span_make("x", 1), s), "Ed25519 RFC 8032 test 1 refuses another message");

	/* Random keys and messages: both paths agree on good and forged. */
	for (int i = 0; i < 8; i++) {
		gcry_sexp_t parm = NULL, pair = NULL, pub = NULL, sec = NULL, data = NULL, sg = NULL;
		uint8_t msg[4096], good[64], bad[64];
		size_t mlen = (size_t)(i * 523) % sizeof(msg);
		gcry_randomize(msg, sizeof(msg), GCRY_WEAK_RANDOM);
		gcry_sexp_build(&parm, NULL, "(genkey(ecc(curve Ed25519)(flags eddsa)))");
		gcry_pk_genkey(&pair, parm);
		pub = gcry_sexp_find_token(pair, "public-key", 0);
		sec = gcry_sexp_find_token(pair, "private-key", 0);
		gcry_sexp_build(&data, NULL, "(data(flags eddsa)(hash-algo sha512)(value %b))", (int)mlen, msg);
		gcry_pk_sign(&sg, data, sec);
		struct tg_key kk = { .type = TG_KEY_ED25519, .bits = 256, .q_len = 32 };
		token_tail(pub, "q", kk.q, 32);
		token_tail(sg, "r", good, 32);
		token_tail(sg, "s", good + 32, 32);
		struct tg_span m = tg_span_make(msg, mlen), gs = tg_span_make(good, 64);
		CHECK(ed_ours(&kk, m, gs) && tg_verify_eddsa_message_inproc(&kk, m, gs),
		      "Ed25519 random %d: both paths accept the good signature", i);
		memcpy(bad, good, 64);
		bad[i % 32] ^= 0x40; /* R altered */
		struct tg_span bs = tg_span_make(bad, 64);
		CHECK(!ed_ours(&kk, m, bs) && !tg_verify_eddsa_message_inproc(&kk, m, bs),
		      "Ed25519 random %d: both paths refuse an altered R", i);
		memcpy(bad, good, 64);
		bad[32 + i % 31] ^= 0x01; /* S altered */
		CHECK(!ed_ours(&kk, m, bs) && !tg_verify_eddsa_message_inproc(&kk, m, bs),
		      "Ed25519 random %d: both paths refuse an altered S", i);
		if (mlen) {
			msg[mlen / 2] ^= 1;
			CHECK(!ed_ours(&kk, m, gs) && !tg_verify_eddsa_message_inproc(&kk, m, gs),
			      "Ed25519 random %d: both paths refuse an altered message", i);
			msg[mlen / 2] ^= 1;
		}
		/* S + L: same point equation, non-canonical (THREATS P3). */
		static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
					       0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
					       0, 0, 0, 0, 0, 0x10 };
		unsigned c = 0;
		memcpy(bad, good, 64);
		for (int j = 0; j < 32; j++) {
			unsigned v = bad[32 + j] + L[j] + c;
			bad[32 + j] = (uint8_t)v;
			c = v >> 8;
		}
		if (!c)
			CHECK(!ed_ours(&kk, m, bs), "Ed25519 random %d: S + L refused", i);
		gcry_sexp_release(parm);
		gcry_sexp_release(pair);
		gcry_sexp_release(pub);
		gcry_sexp_release(sec);
		gcry_sexp_release(data);
		gcry_sexp_release(sg);
	}

	/* A small-order key bypassing import still never verifies (and a
	 * library abort in the child is not a crash here). */
	struct tg_key id = { .type = TG_KEY_ED25519, .bits = 256, .q_len = 32 };
	id.q[0] = 1;
	uint8_t zsig[64] = { 1 };
	bool ok = true;
	enum tg_err r = tg_verify_eddsa(&id, tg_span_make(zsig, 64), zsig, &ok);
	CHECK((r == TG_OK || r == TG_E_CRYPTO) && !ok, "Ed25519 identity key never verifies, never crashes the caller");
}

static void test_rsa_textbook(void)
{
	/* THREATS P1: with e = 3, s = 2 "verifies" value 8 under a raw
	 * encoding.  The wrapper only builds pkcs1/pss encodings. */
	uint8_t n[256], sig[256] = { 0 }, digest[32] = { 0 };
	memset(n, 0xff, sizeof(n));
	struct tg_key k = { .type = TG_KEY_RSA, .bits = 2048, .n = n, .n_len = 256,
			    .e = (uint8_t *)"\x03", .e_len = 1 };
	sig[255] = 2;
	digest[31] = 8;
	enum tg_sig_scheme sc;
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, 256), &sc),
	      "RSA e=3 textbook forgery s=2 refused (explicit padding)");
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, 255), &sc),
	      "RSA signature one byte short refused");
}

/* DER SPKI for an RSA modulus and exponent, via libksba's builder. */
static size_t rsa_spki(const uint8_t *n, size_t nlen, const uint8_t *e, size_t elen, uint8_t *out)
{
	ksba_der_t in = ksba_der_builder_new(0), d = ksba_der_builder_new(0);
	unsigned char *ib = NULL, *db = NULL;
	size_t il = 0, dl = 0;
	ksba_der_add_tag(in, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_int(in, n, nlen, 1);
	ksba_der_add_int(in, e, elen, 1);
	ksba_der_add_end(in);
	ksba_der_builder_get(in, &ib, &il);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_tag(d, 0, KSBA_TYPE_SEQUENCE);
	ksba_der_add_oid(d, "1.2.840.113549.1.1.1");
	ksba_der_add_ptr(d, 0, KSBA_TYPE_NULL, "", 0);
	ksba_der_add_end(d);
	ksba_der_add_bts(d, ib, il, 0);
	ksba_der_add_end(d);
	ksba_der_builder_get(d, &db, &dl);
	memcpy(out, db, dl);
	ksba_free(ib);
	ksba_free(db);
	ksba_der_release(in);
	ksba_der_release(d);
	return dl;
}

static void test_rsa_import(void)
{
	gcry_sexp_t parm = NULL, pair = NULL;
	uint8_t n[256], spki[600];
	struct tg_key *k = NULL;
	struct tg_diag d = { { 0 } };

	gcry_sexp_build(&parm, NULL, "(genkey(rsa(nbits 4:2048)))");
	gcry_pk_genkey(&pair, parm);
	token_tail(pair, "n", n, 256);
	size_t len = rsa_spki(n, 256, (const uint8_t *)"\x01\x00\x01", 3, spki);
	CHECK(tg_key_from_spki(tg_span_make(spki, len), &k, &d) == TG_OK && k->bits == 2048,
	      "RSA-2048 e=65537 SPKI imports");
	tg_key_free(k);
	k = NULL;
	len = rsa_spki(n, 256, (const uint8_t *)"\x01", 1, spki);
	CHECK(tg_key_from_spki(tg_span_make(spki, len), &k, &d) == TG_E_UNSUPPORTED,
	      "RSA e=1 refused at import (THREATS P2)");
	len = rsa_spki(n, 256, (const uint8_t *)"\x01\x00\x00", 3, spki);
	CHECK(tg_key_from_spki(tg_span_make(spki, len), &k, &d) == TG_E_UNSUPPORTED,
	      "RSA even exponent refused at import");
	len = rsa_spki(n, 128, (const uint8_t *)"\x01\x00\x01", 3, spki);
	CHECK(tg_key_from_spki(tg_span_make(spki, len), &k, &d) == TG_E_UNSUPPORTED,
	      "RSA-1024 refused at import");
	uint8_t even[256];
	memcpy(even, n, 256);
	even[255] &= 0xfe;
	len = rsa_spki(even, 256, (const uint8_t *)"\x01\x00\x01", 3, spki);
	CHECK(tg_key_from_spki(tg_span_make(spki, len), &k, &d) == TG_E_UNSUPPORTED,
	      "RSA even modulus refused at import");
	len = rsa_spki(n, 256, (const uint8_t *)"\x01\x00\x01", 3, spki);
	for (size_t cut = 1; cut < len; cut += 37)
		CHECK(tg_key_from_spki(tg_span_make(spki, len - cut), &k, &d) != TG_OK,
		      "RSA SPKI %zu bytes short refused", cut);
	gcry_sexp_release(parm);
	gcry_sexp_release(pair);
}

static size_t der_sig(const uint8_t *r, size_t rl, const uint8_t *s, size_t sl, uint8_t *out)
{
	size_t o = 0;
	out[o++] = 0x30;
	out[o++] = (uint8_t)(4 + rl + sl);
	out[o++] = 0x02;
	out[o++] = (uint8_t)rl;
	memcpy(out + o, r, rl);
	o += rl;
	out[o++] = 0x02;
	out[o++] = (uint8_t)sl;
	memcpy(out + o, s, sl);
	return o + sl;
}

/* Minimal positive big-endian encoding of a 32-byte integer. */
static size_t minimal(const uint8_t in[32], uint8_t out[33])
{
	size_t i = 0;
	while (i < 31 && in[i] == 0)
		i++;
	size_t o = 0;
	if (in[i] & 0x80)
		out[o++] = 0;
	memcpy(out + o, in + i, 32 - i);
	return o + 32 - i;
}

static void test_ecdsa(void)
{
	static const uint8_t n256[32] = {
		0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51 };
	gcry_sexp_t parm = NULL, pair = NULL, sec = NULL, data = NULL, sg = NULL;
	uint8_t digest[32], r[32], s[32], rm[33], sm[33], sig[80], ns[32];
	struct tg_key k = { .type = TG_KEY_P256, .bits = 256, .q_len = 65 };
	enum tg_sig_scheme sc;

	gcry_randomize(digest, 32, GCRY_WEAK_RANDOM);
	gcry_sexp_build(&parm, NULL, "(genkey(ecc(curve \"NIST P-256\")))");
	gcry_pk_genkey(&pair, parm);
	sec = gcry_sexp_find_token(pair, "private-key", 0);
	token_tail(pair, "q", k.q, 65);
	gcry_sexp_build(&data, NULL, "(data(flags raw)(value %b))", 32, digest);
	gcry_pk_sign(&sg, data, sec);
	token_tail(sg, "r", r, 32);
	token_tail(sg, "s", s, 32);
	size_t rl = minimal(r, rm), sl = minimal(s, sm);
	size_t len = der_sig(rm, rl, sm, sl, sig);
	CHECK(tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc) && sc == TG_SCHEME_ECDSA,
	      "ECDSA P-256 good signature verifies");
	bool ok = false;
	CHECK(tg_verify_digest(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &ok, &sc) == TG_OK && ok,
	      "ECDSA P-256 verifies through the isolated child too");
	sig[len] = 0;
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len + 1), &sc),
	      "ECDSA trailing byte after the DER refused");
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len - 1), &sc),
	      "ECDSA DER one byte short refused");
	uint8_t padded[34] = { 0 };
	memcpy(padded + 1, rm, rl);
	size_t plen = der_sig(rm[0] == 0 ? padded : padded, rl + 1, sm, sl, sig);
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, plen), &sc),
	      "ECDSA non-minimal INTEGER refused");
	uint8_t zero = 0;
	len = der_sig(&zero, 1, &zero, 1, sig);
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc),
	      "ECDSA r = s = 0 refused (psychic signature)");
	uint8_t nm[33];
	size_t nl = minimal(n256, nm);
	len = der_sig(rm, rl, nm, nl, sig);
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc), "ECDSA s = n refused");
	len = der_sig(nm, nl, sm, sl, sig);
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc), "ECDSA r = n refused");
	/* (r, n - s) is the malleated twin: valid by design (THREATS 31);
	 * trustgate keys decisions on digest and key, never on sig bytes. */
	unsigned borrow = 0;
	for (int i = 31; i >= 0; i--) {
		int v = (int)n256[i] - s[i] - (int)borrow;
		borrow = v < 0;
		ns[i] = (uint8_t)(v + (borrow ? 256 : 0));
	}
	size_t nsl = minimal(ns, sm);
	len = der_sig(rm, rl, sm, nsl, sig);
	CHECK(tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc),
	      "ECDSA (r, n-s) verifies: malleability documented, identity is (digest, key)");
	digest[0] ^= 1;
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA256, digest, tg_span_make(sig, len), &sc),
	      "ECDSA over another digest refused");
	CHECK(!tg_verify_inproc(&k, TG_HASH_SM3, digest, tg_span_make(sig, len), &sc),
	      "ECDSA key never verifies with SM3");
	gcry_sexp_release(parm);
	gcry_sexp_release(pair);
	gcry_sexp_release(sec);
	gcry_sexp_release(data);
	gcry_sexp_release(sg);
}

static void test_sm2(void)
{
	gcry_sexp_t parm = NULL, pair = NULL, sec = NULL, data = NULL, sg = NULL;
	uint8_t za[32], za2[32], e[32], r[32], s[32], rm[33], sm[33], sig[80];
	struct tg_key k = { .type = TG_KEY_SM2, .bits = 256, .q_len = 65 };
	enum tg_sig_scheme sc;

	gcry_sexp_build(&parm, NULL, "(genkey(ecc(curve sm2p256v1)))");
	gcry_pk_genkey(&pair, parm);
	sec = gcry_sexp_find_token(pair, "private-key", 0);
	token_tail(pair, "q", k.q, 65);
	CHECK(tg_sm2_za(&k, TG_SM2_DEFAULT_ID, za) == TG_OK, "SM2 ZA computed");
	CHECK(tg_sm2_za(&k, "ALICE123@YAHOO.COM", za2) == TG_OK && memcmp(za, za2, 32) != 0,
	      "SM2 ZA depends on the user ID");
	struct tg_md *md = NULL;
	tg_md_new(TG_HASH_SM3, &md);
	tg_md_write(md, za, 32);
	tg_md_write(md, "message", 7);
	tg_md_final(md, e);
	tg_md_free(md);
	gcry_sexp_build(&data, NULL, "(data(flags sm2)(hash sm3 %b))", 32, e);
	CHECK(gcry_pk_sign(&sg, data, sec) == 0, "SM2 signature made by libgcrypt");
	token_tail(sg, "r", r, 32);
	token_tail(sg, "s", s, 32);
	size_t len = der_sig(rm, minimal(r, rm), sm, minimal(s, sm), sig);
	CHECK(tg_verify_inproc(&k, TG_HASH_SM3, e, tg_span_make(sig, len), &sc) && sc == TG_SCHEME_SM2,
	      "SM2 verifies e = SM3(ZA || M)");
	e[5] ^= 1;
	CHECK(!tg_verify_inproc(&k, TG_HASH_SM3, e, tg_span_make(sig, len), &sc), "SM2 refuses another e");
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA1, e, tg_span_make(sig, len), &sc), "SM2 never verifies with SHA-1");
	CHECK(!tg_verify_inproc(&k, TG_HASH_SHA384, e, tg_span_make(sig, len), &sc), "SM2 never verifies with SHA-384");
	gcry_sexp_release(parm);
	gcry_sexp_release(pair);
	gcry_sexp_release(sec);
	gcry_sexp_release(data);
	gcry_sexp_release(sg);
}

int main(void)
{
	struct tg_diag d = { { 0 } };
	if (tg_crypto_init(&d) != TG_OK)
		return 2;
	test_ed25519();
	test_rsa_textbook();
	test_rsa_import();
	test_ecdsa();
	test_sm2();
	CHECK(tg_hash_from_name("md5") == TG_HASH_NONE, "md5 is not a known digest");
	unsigned mask = 0;
	CHECK(!tg_hash_parse_list("sha256,md5", &mask), "hash list with md5 refused");
	CHECK(tg_hash_parse_list("sha256,sm3", &mask) && mask == (1u << TG_HASH_SHA256 | 1u << TG_HASH_SM3),
	      "hash list parsed");
	TEST_DONE();
}
