/*
 * Bounded spans: the only way trustgate reads untrusted bytes.
 *
 * A span is a (pointer, length) view; take() compares the requested length
 * with what is left before moving, so no parser does pointer arithmetic on
 * an attacker-chosen offset.  On failure the span is left unchanged.
 */
#ifndef TG_SPAN_H
#define TG_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct tg_span {
	const uint8_t *p;
	size_t len;
};

static inline struct tg_span tg_span_make(const void *p, size_t len)
{
	struct tg_span s = { (const uint8_t *)p, len };
	return s;
}

/* Split the first n bytes off *s into *ret; false if fewer than n remain. */
static inline bool tg_span_take(struct tg_span *s, size_t n, struct tg_span *ret)
{
	if (n > s->len)
		return false;
	if (ret) {
		ret->p = s->p;
		ret->len = n;
	}
	s->p += n;
	s->len -= n;
	return true;
}

static inline bool tg_span_u8(struct tg_span *s, uint8_t *ret)
{
	struct tg_span t;
	if (!tg_span_take(s, 1, &t))
		return false;
	*ret = t.p[0];
	return true;
}

static inline bool tg_span_le16(struct tg_span *s, uint16_t *ret)
{
	struct tg_span t;
	if (!tg_span_take(s, 2, &t))
		return false;
	*ret = (uint16_t)(t.p[0] | (t.p[1] << 8));
	return true;
}

static inline bool tg_span_le32(struct tg_span *s, uint32_t *ret)
{
	struct tg_span t;
	if (!tg_span_take(s, 4, &t))
		return false;
	*ret = (uint32_t)t.p[0] | ((uint32_t)t.p[1] << 8) |
	       ((uint32_t)t.p[2] << 16) | ((uint32_t)t.p[3] << 24);
	return true;
}

static inline bool tg_span_be16(struct tg_span *s, uint16_t *ret)
{
	struct tg_span t;
	if (!tg_span_take(s, 2, &t))
		return false;
	*ret = (uint16_t)((t.p[0] << 8) | t.p[1]);
	return true;
}

static inline bool tg_span_be32(struct tg_span *s, uint32_t *ret)
{
	struct tg_span t;
	if (!tg_span_take(s, 4, &t))
		return false;
	*ret = ((uint32_t)t.p[0] << 24) | ((uint32_t)t.p[1] << 16) |
	       ((uint32_t)t.p[2] << 8) | (uint32_t)t.p[3];
	return true;
}

static inline bool tg_span_eq(struct tg_span a, struct tg_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

#endif
