/* SPDX-License-Identifier: MIT */
/* samples.h: a growable list of measurements and their percentiles. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct samples {
	uint64_t *v;
	size_t len, cap;
	bool sorted;
};

void samples_init(struct samples *s);
void samples_release(struct samples *s);
/* 0 or -ENOMEM. */
int samples_add(struct samples *s, uint64_t v);
/* The nearest-rank percentile (p in (0, 100]): the smallest value with at
 * least p% of the samples at or below it. 0 when empty. Sorts in place. */
uint64_t samples_percentile(struct samples *s, double p);
double samples_mean(const struct samples *s);
