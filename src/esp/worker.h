/* SPDX-License-Identifier: MIT */
/* worker.h: the crypto worker: one extra thread that seals or opens part of
 * a batch of ESP packets of one SA while the calling thread (idlocd's event
 * loop) does the rest.
 *
 * Work sharing, not fork-join: both threads take packets of the batch
 * through one atomic claim word (a quarter of what is left per claim), so
 * the caller never waits for a worker that is not running: when the other
 * core is busy the caller simply does the whole batch, and afterwards it
 * waits only for packets the worker has already claimed (a short spin, then
 * a futex).
 *
 * When to share (worker_run): moving packets between the cores' caches
 * costs about as much per byte as OpenSSL's AES-GCM, so only long batches
 * pay. A batch is shared when (1) it has WORKER_MIN_BATCH packets or more
 * and would take the caller WORKER_MIN_NS or more alone (its bytes times the
 * measured cost per byte), (2) the caller's
 * thread was not preempted lately (a machine whose cores are all busy has
 * no time to give the worker: what it ran would be taken from the peer
 * daemon, the applications or the kernel), and (3) shared batches have
 * lately cost less per byte than lone ones (both averaged, each way probed
 * now and then). The worker spins WORKER_IDLE_SPIN_NS after a batch for the
 * next one, then sleeps on a futex: no polling at idle.
 *
 * Which thread touches what:
 * - The caller owns every SA. It assigns sequence numbers
 *   (esp_encap_prepare) before worker_run and moves the replay window
 *   (esp_decap_commit) after it, in arrival order; the worker never writes
 *   an SA and reads only sa->salt and sa->worker_aead.
 * - Cipher contexts are never shared: the caller uses sa->aead, the worker
 *   sa->worker_aead, which the caller makes (aead_clone) before publishing
 *   the batch; esp_sa_done frees it, which is safe because no batch outlives
 *   worker_run.
 * - jobs[i] (its packet bytes, result and nh) belongs, during worker_run,
 *   to the one thread whose claim covered i; the worker's writes are
 *   published to the caller by the release increment of the "done" counter
 *   that the caller reads with acquire before worker_run returns.
 * - The batch description (op, sa, jobs) is written by the caller before the
 *   claim word is published (release) and read by the worker only after a
 *   successful claim, which the caller waits for: it cannot change under
 *   the worker.
 * - Everything else in struct worker (the costs, the generation count) is
 *   the caller's alone.
 *
 * One caller thread per struct worker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp/sa.h"

/* Batches shorter than either are done by the caller alone: waking the
 * worker and moving packets between the cores cost more than they save
 * (measured: tests/bench/bench_esp.c, "esp-batch"; docs/datapath.md). */
#define WORKER_MIN_BATCH 8
#define WORKER_MIN_NS    50000
/* How long the worker looks for the next batch before it sleeps. */
#define WORKER_IDLE_SPIN_NS 10000

enum worker_op {
	WORKER_SEAL, /* esp_seal: the packet was made by esp_encap_prepare */
	WORKER_OPEN, /* esp_open in place, after esp_decap_check */
};

struct worker_job {
	uint8_t *pkt; /* one ESP packet */
	size_t len;
	/* seal: 0; open: the payload length, the payload (decrypted in place)
	 * at pkt + ESP_HDR_LEN + ESP_IV_LEN; or a negative errno. */
	int result;
	uint8_t nh; /* open: the next header */
};

struct worker;

/* Starts the thread (small stack, all signals blocked). Call it only once
 * the process has its final credentials: capabilities are per thread.
 * 0, -ENOMEM, or the pthread_create error. */
int worker_new(struct worker **ret);
/* Stops and joins the thread; NULL is fine. Returns NULL. */
struct worker *worker_free(struct worker *w);

/* Benchmarks and tests: share every batch of WORKER_MIN_BATCH or more,
 * whatever it costs, instead of choosing (see "When to share"). */
void worker_always_share(struct worker *w, bool always);

/* Does op on jobs[0..n) of sa, the worker helping when that is worth it;
 * w NULL: the caller alone. Returns when every job has its result, with
 * the number of jobs the worker did. */
size_t worker_run(struct worker *w, enum worker_op op, struct esp_sa *sa, struct worker_job *jobs,
                  size_t n);
