/* SPDX-License-Identifier: MIT */
/* replay.c: the ESP anti-replay sliding window (RFC 4303 section 3.4.3). */
#include "esp/replay.h"

#include <errno.h>
#include <string.h>

/* The bitmap is a ring indexed by seq % REPLAY_WINDOW_BITS rather than a
 * shift register: advancing the window only clears the slots of the numbers
 * that enter it (whole words where it can), and nothing is ever moved. Slot
 * seq % N holds exactly one number of the window [top - N + 1, top]. */
#define WORD_BITS 64u
#define N_WORDS   (REPLAY_WINDOW_BITS / WORD_BITS)

_Static_assert(REPLAY_WINDOW_BITS % WORD_BITS == 0, "window must be whole words");
_Static_assert(sizeof(((struct replay_window *)0)->bits) * 8 == REPLAY_WINDOW_BITS, "bitmap size");

void replay_init(struct replay_window *w)
{
	memset(w, 0, sizeof(*w));
}

static size_t slot_word(uint64_t seq)
{
	return (size_t)((seq % REPLAY_WINDOW_BITS) / WORD_BITS);
}

static uint64_t slot_mask(uint64_t seq)
{
	return UINT64_C(1) << (seq % WORD_BITS);
}

int replay_check(const struct replay_window *w, uint64_t seq)
{
	if (seq == 0)
		return -ERANGE;
	if (seq > w->top)
		return 0;
	if (w->top - seq >= REPLAY_WINDOW_BITS)
		return -ERANGE;
	return (w->bits[slot_word(seq)] & slot_mask(seq)) ? -EALREADY : 0;
}

/* Clears the slots of count numbers from first on (count < window); the
 * range may wrap around the end of the ring. */
static void clear_slots(struct replay_window *w, uint64_t first, uint64_t count)
{
	while (count > 0) {
		unsigned bit = (unsigned)(first % WORD_BITS);
		uint64_t n = WORD_BITS - bit;
		uint64_t mask;

		if (n > count)
			n = count;
		mask = n == WORD_BITS ? ~UINT64_C(0) : ((UINT64_C(1) << n) - 1) << bit;
		w->bits[slot_word(first)] &= ~mask;
		first += n;
		count -= n;
	}
}

static void advance(struct replay_window *w, uint64_t seq)
{
	if (seq - w->top >= REPLAY_WINDOW_BITS)
		memset(w->bits, 0, sizeof(w->bits));
	else
		clear_slots(w, w->top + 1, seq - w->top);
	w->top = seq;
}

int replay_update(struct replay_window *w, uint64_t seq)
{
	int r = replay_check(w, seq);

	if (r < 0)
		return r;
	if (seq > w->top)
		advance(w, seq);
	w->bits[slot_word(seq)] |= slot_mask(seq);
	return 0;
}
