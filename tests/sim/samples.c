/* SPDX-License-Identifier: MIT */
/* samples.c: measurements kept whole, so percentiles are exact. */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "samples.h"

void samples_init(struct samples *s)
{
	*s = (struct samples){0};
}

void samples_release(struct samples *s)
{
	free(s->v);
	*s = (struct samples){0};
}

int samples_add(struct samples *s, uint64_t v)
{
	if (s->len == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		uint64_t *nv = realloc(s->v, cap * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		s->v = nv;
		s->cap = cap;
	}
	s->v[s->len++] = v;
	s->sorted = false;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

uint64_t samples_percentile(struct samples *s, double p)
{
	size_t rank;

	if (s->len == 0)
		return 0;
	if (!s->sorted) {
		qsort(s->v, s->len, sizeof(*s->v), cmp_u64);
		s->sorted = true;
	}
	rank = (size_t)ceil(p / 100.0 * (double)s->len);
	if (rank < 1)
		rank = 1;
	if (rank > s->len)
		rank = s->len;
	return s->v[rank - 1];
}

double samples_mean(const struct samples *s)
{
	double sum = 0;

	for (size_t i = 0; i < s->len; i++)
		sum += (double)s->v[i];
	return s->len ? sum / (double)s->len : 0;
}
