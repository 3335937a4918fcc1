/* SPDX-License-Identifier: MIT */
/* worker.c: the crypto worker thread and the batch sharing protocol. */
#include "esp/worker.h"

#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "crypto/aead.h"

/* The claim word: the batch's generation (32 bits, so a claim never lands
 * in a later batch), the next index and the batch size (16 bits each). */
#define CLAIM_IDX_SHIFT 16
#define CLAIM_MASK      0xffffu
#define CLAIM_MAX       CLAIM_MASK
#define CLAIM_DIVISOR   4
/* How long the caller spins for a claimed job before it sleeps: a 16 KiB
 * datagram takes about 5 us; longer means the worker lost its core. */
#define WAIT_SPIN_NS   30000
#define PROBE_EVERY    16
#define BUSY_PERIOD_NS 10000000
#define BUSY_SWITCHES  2
#define COST_SHIFT     16
#define WORKER_STACK   (256 << 10)
#define CACHE_LINE     64

struct worker {
	alignas(CACHE_LINE) _Atomic uint64_t claim;
	/* Jobs the worker finished in this batch: the caller's futex. */
	alignas(CACHE_LINE) _Atomic uint32_t done;
	_Atomic uint32_t caller_waits;
	/* The last batch published: the worker's futex. */
	alignas(CACHE_LINE) _Atomic uint32_t gen;
	_Atomic uint32_t sleeping;
	_Atomic uint32_t stop;
	/* The batch, see worker.h. */
	alignas(CACHE_LINE) enum worker_op op;
	const struct esp_sa *sa;
	struct worker_job *jobs;
	/* The caller's alone. */
	uint32_t batches;
	bool always; /* worker_always_share */
	unsigned probe;
	uint64_t cost[2]; /* ns per byte << COST_SHIFT: [0] alone, [1] shared */
	uint64_t busy_at; /* when the caller's preemptions were last counted */
	long preempted;   /* ... and how many there had been */
	bool busy;        /* the machine had no core to spare then */
	pthread_t thread;
};

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	/* EAGAIN (the value changed) and EINTR both mean: look again. */
	(void)syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	(void)syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Claims the next jobs of the published batch: a quarter of what is left
 * (guided scheduling), at least one. Few claims, so the claim word's cache
 * line seldom moves between the cores, and the last ones are small, so
 * neither thread waits long for the other. The first index, with the count
 * in *ret_count, or -1 when none is left. */
static long claim_next(struct worker *w, unsigned *ret_count)
{
	uint64_t v = atomic_load_explicit(&w->claim, memory_order_acquire);

	for (;;) {
		unsigned idx = (unsigned)(v >> CLAIM_IDX_SHIFT) & CLAIM_MASK;
		unsigned n = (unsigned)v & CLAIM_MASK;
		unsigned k = (n - idx + CLAIM_DIVISOR - 1) / CLAIM_DIVISOR;

		if (idx >= n)
			return -1;
		if (atomic_compare_exchange_weak_explicit(
		            &w->claim, &v, v + ((uint64_t)k << CLAIM_IDX_SHIFT),
		            memory_order_acq_rel, memory_order_acquire)) {
			*ret_count = k;
			return (long)idx;
		}
	}
}

static void job_run(enum worker_op op, const struct esp_sa *sa, struct aead *a,
                    struct worker_job *j)
{
	if (op == WORKER_SEAL)
		j->result = esp_seal(sa, a, j->pkt, j->len);
	else
		j->result =
		        esp_open(sa, a, j->pkt, j->len, j->pkt + ESP_HDR_LEN + ESP_IV_LEN, &j->nh);
}

/* The worker's part of the published batch. */
static void help(struct worker *w)
{
	unsigned k;
	long i;

	while ((i = claim_next(w, &k)) >= 0) {
		/* Read after the claim: the batch cannot end before these jobs. */
		for (unsigned j = 0; j < k; j++)
			job_run(w->op, w->sa, w->sa->worker_aead, &w->jobs[i + j]);
		/* seq_cst, with caller_waits below: either the caller sees the
		 * count before it sleeps, or we see that it sleeps. */
		atomic_fetch_add(&w->done, k);
		if (atomic_load(&w->caller_waits))
			futex_wake(&w->done);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint32_t seen = atomic_load(&w->gen);
	uint64_t last = 0;

	while (!atomic_load(&w->stop)) {
		uint32_t g = atomic_load_explicit(&w->gen, memory_order_acquire);

		if (g != seen) {
			seen = g;
			help(w);
			last = now_ns();
			continue;
		}
		if (last && now_ns() - last < WORKER_IDLE_SPIN_NS) {
			cpu_relax();
			continue;
		}
		/* seq_cst, with the caller's store of gen and load of sleeping:
		 * either we see the new batch here, or it sees us asleep. */
		atomic_store(&w->sleeping, 1);
		if (atomic_load(&w->gen) == seen && !atomic_load(&w->stop))
			futex_wait(&w->gen, seen);
		atomic_store(&w->sleeping, 0);
		last = 0;
	}
	return NULL;
}

int worker_new(struct worker **ret)
{
	struct worker *w = aligned_alloc(CACHE_LINE, sizeof(struct worker));
	sigset_t all, old;
	pthread_attr_t attr;
	int r;

	if (!w)
		return -ENOMEM;
	*w = (struct worker){0};
	r = pthread_attr_init(&attr);
	if (r) {
		free(w);
		return -r;
	}
	(void)pthread_attr_setstacksize(&attr, WORKER_STACK);
	/* Signals belong to the event loop's thread (libuv's signal handling). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&w->thread, &attr, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (r) {
		free(w);
		return -r;
	}
	*ret = w;
	return 0;
}

struct worker *worker_free(struct worker *w)
{
	if (!w)
		return NULL;
	atomic_store(&w->stop, 1);
	atomic_fetch_add(&w->gen, 1);
	futex_wake(&w->gen);
	pthread_join(w->thread, NULL);
	free(w);
	return NULL;
}

static void run_alone(enum worker_op op, struct esp_sa *sa, struct worker_job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		job_run(op, sa, sa->aead, &jobs[i]);
}

/* Waits until the worker finished the want jobs it claimed: a spin, then,
 * when the worker lost its core in the middle of a job, a sleep. */
static void wait_for(struct worker *w, uint32_t want)
{
	uint64_t t0 = 0;
	uint32_t v;

	while ((v = atomic_load_explicit(&w->done, memory_order_acquire)) != want) {
		if (!t0)
			t0 = now_ns();
		if (now_ns() - t0 < WAIT_SPIN_NS) {
			cpu_relax();
			continue;
		}
		atomic_store(&w->caller_waits, 1);
		if (atomic_load(&w->done) == v)
			futex_wait(&w->done, v);
		atomic_store(&w->caller_waits, 0);
	}
}

/* One shared batch of at most CLAIM_MAX jobs; the worker's share. */
static size_t run_shared(struct worker *w, enum worker_op op, struct esp_sa *sa,
                         struct worker_job *jobs, size_t n)
{
	size_t mine = 0;
	unsigned k;
	long i;

	w->op = op;
	w->sa = sa;
	w->jobs = jobs;
	w->batches++;
	atomic_store_explicit(&w->done, 0, memory_order_relaxed);
	atomic_store_explicit(&w->claim, (uint64_t)w->batches << 32 | n, memory_order_release);
	atomic_store(&w->gen, w->batches);
	if (atomic_load(&w->sleeping))
		futex_wake(&w->gen);
	while ((i = claim_next(w, &k)) >= 0) {
		for (unsigned j = 0; j < k; j++)
			job_run(op, sa, sa->aead, &jobs[i + j]);
		mine += k;
	}
	wait_for(w, (uint32_t)(n - mine));
	return n - mine;
}

/* Whether the machine is busy: the calling thread was preempted (an
 * involuntary context switch) BUSY_SWITCHES times or more in the last
 * BUSY_PERIOD_NS. Then every core has work waiting, and what the worker runs
 * is taken from another thread (the peer daemon, the applications, the
 * kernel's network stack) while moving packets between the cores costs
 * extra: the caller does its batches alone. Counted at most once a period:
 * one getrusage per BUSY_PERIOD_NS. */
static bool machine_busy(struct worker *w, uint64_t now)
{
	struct rusage ru;

	if (now - w->busy_at < BUSY_PERIOD_NS)
		return w->busy;
	if (getrusage(RUSAGE_THREAD, &ru) < 0)
		return w->busy;
	w->busy = w->busy_at && ru.ru_nivcsw - w->preempted >= BUSY_SWITCHES;
	w->busy_at = now;
	w->preempted = ru.ru_nivcsw;
	return w->busy;
}

/* Shares a batch only when it is long enough to pay for waking the worker
 * and for moving its packets between the cores' caches: what the batch
 * would cost alone (the average cost per byte of batches done alone, times
 * its bytes) is at least WORKER_MIN_NS; and only when the machine is not
 * busy (machine_busy). Then it shares when sharing has been
 * the faster way lately: the cost per byte of either way is averaged (1/8
 * weight per batch), and every PROBE_EVERY-th such batch goes the other way
 * to keep its average fresh. So a worker that does not get to work in time
 * (its core is busy) or costs more than it saves is left asleep. */
static bool choose_shared(struct worker *w, size_t bytes, uint64_t now)
{
	bool shared;

	if (w->always)
		return true;
	if (!w->cost[0] || (w->cost[0] * bytes) >> COST_SHIFT < WORKER_MIN_NS)
		return false;
	if (machine_busy(w, now))
		return false;
	if (!w->cost[1])
		return true;
	shared = w->cost[1] < w->cost[0];
	if (++w->probe >= PROBE_EVERY) {
		w->probe = 0;
		shared = !shared;
	}
	return shared;
}

static void cost_update(struct worker *w, bool shared, uint64_t ns, size_t bytes)
{
	uint64_t c = bytes ? (ns << COST_SHIFT) / bytes : 0;
	uint64_t *avg = &w->cost[shared];

	/* A batch during which the thread lost its core says nothing about
	 * the way it was done: bounded, so that one cannot swing the choice. */
	if (*avg && c > 2 * *avg)
		c = 2 * *avg;
	*avg = *avg ? *avg - *avg / 8 + c / 8 : c;
	if (!*avg)
		*avg = 1; /* 0 means "not measured yet" */
}

void worker_always_share(struct worker *w, bool always)
{
	w->always = always;
}

size_t worker_run(struct worker *w, enum worker_op op, struct esp_sa *sa, struct worker_job *jobs,
                  size_t n)
{
	size_t helped = 0, bytes = 0;
	uint64_t t0;
	bool shared;

	if (!w || n < WORKER_MIN_BATCH || !sa->aead) {
		run_alone(op, sa, jobs, n);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		bytes += jobs[i].len;
	t0 = now_ns();
	/* The worker's context is made on the SA's first shared batch, so an
	 * SA that never has one costs no memory for it. */
	shared = choose_shared(w, bytes, t0) &&
	         (sa->worker_aead || aead_clone(sa->aead, &sa->worker_aead) == 0);
	if (!shared)
		run_alone(op, sa, jobs, n);
	for (size_t off = 0; shared && off < n; off += CLAIM_MAX) {
		size_t m = n - off < CLAIM_MAX ? n - off : CLAIM_MAX;

		helped += run_shared(w, op, sa, jobs + off, m);
	}
	cost_update(w, shared, now_ns() - t0, bytes);
	return helped;
}
