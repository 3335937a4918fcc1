/* SPDX-License-Identifier: MIT */
/* ctl.h: the control socket server: accepts local clients, reads one request
 * from each (include/idloc/ctl.h), checks the caller's rights and hands the
 * command to the daemon through a handler table.
 *
 * Lifetime: ctl_start creates the socket and listens; ctl_stop closes every
 * connection and the socket and unlinks it. The memory goes with the last
 * close callback, so the loop must run once more after ctl_stop (idlocd's
 * teardown does). Replies outlive their connection: see struct ctl_reply.
 * A reply can turn into a stream of events (log -f): see ctl_reply_stream. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

struct ctl;

/* An answer owed to one client, for the commands the daemon completes later.
 * The handler that accepted it (returned 0) must complete it exactly once with
 * ctl_reply_send, ctl_reply_error or ctl_reply_errno, possibly before it
 * returns; that frees it. If the client went away in between (timeout,
 * disconnect, ctl_stop) the reply is "cancelled": completing it only frees it.
 * So a handler never holds a pointer into a closed connection. */
struct ctl_reply;

/* A connection that stays open after its answer and carries event lines
 * ({"event": ...}), for as long as the client reads them. */
struct ctl_stream;

/* The daemon's side. A NULL entry answers "not supported".
 *
 * Synchronous (status, peers, id): fill result, an empty object, with the
 * command's fields and return 0; or return a negative errno and the client
 * gets ctl_proto_strerror(err) (-ENOTCONN: "not joined to the overlay", ...).
 *
 * Asynchronous (resolve, join, leave, ping): return 0 after taking the reply
 * (see above), or a negative errno without touching it; the client then gets
 * ctl_proto_strerror(err). resolve and ping get the name as an fqdn:
 * validated, lowercased and, for a single label, with ctl_options.domain
 * appended. join and leave reach the handler only from root or
 * ctl_options.admin_uid. A ping connection is given timeout_ms plus
 * ctl_proto_ping_budget_ms before it is answered "timed out".
 *
 * log (asynchronous): answers the last lines kept, with ctl_reply_send, or
 * with log->follow turns the reply into a stream with ctl_reply_stream.
 * netcheck (asynchronous): probes STUN and TURN servers, then answers.
 *
 * shutdown (root and ctl_options.admin_uid only): the server answers
 * {"ok":true} itself and calls the handler once the answer is written (or
 * could not be); the handler begins the daemon's stop and may call ctl_stop.
 * The server keeps a duplicate of that connection's descriptor open until
 * the process exits, so the client sees the end of the stream only when the
 * daemon is gone.
 *
 * The fields of each result are in docs/control.md. */
struct ctl_ping {
	const char *fqdn;
	unsigned count, interval_ms, timeout_ms; /* checked against CTL_PING_* */
};

struct ctl_log {
	unsigned lines; /* 0 to CTL_LOG_LINES_MAX */
	bool follow;
};

struct ctl_handlers {
	void *ctx;
	int (*status)(void *ctx, json_t *result);
	int (*peers)(void *ctx, json_t *result);
	int (*id)(void *ctx, json_t *result);
	int (*resolve)(void *ctx, const char *fqdn, struct ctl_reply *reply);
	int (*join)(void *ctx, struct ctl_reply *reply);
	int (*leave)(void *ctx, struct ctl_reply *reply);
	int (*ping)(void *ctx, const struct ctl_ping *ping, struct ctl_reply *reply);
	int (*log)(void *ctx, const struct ctl_log *log, struct ctl_reply *reply);
	int (*netcheck)(void *ctx, struct ctl_reply *reply);
	void (*shutdown)(void *ctx);
};

struct ctl_options {
	const char *path;    /* the socket; its parent is created (0755) if missing */
	const char *domain;  /* qualifies the labels of resolve and ping; may be NULL */
	uid_t admin_uid;     /* besides root, who may join and leave: usually geteuid() */
	unsigned max_conns;  /* connections served at once; more are told "busy" */
	uint64_t timeout_ms; /* a connection is answered "timed out" and closed after this
	                      * (a ping's: after this plus its budget) */
};

/* path, the daemon's own uid, CTL_MAX_CONNS, CTL_TIMEOUT_MS, no domain. */
void ctl_options_init(struct ctl_options *opt, const char *path);

/* Binds and listens: removes a stale socket left at the path (one nobody
 * answers on), refuses with -EADDRINUSE when another daemon answers on it and
 * with -EEXIST when the path is not a socket; the socket is mode 0660. Sets
 * SIGPIPE to be ignored, process-wide, so a client that hangs up early cannot
 * kill the daemon. Logs why it failed; on failure no callback ever fires.
 * handlers is copied. */
int ctl_start(uv_loop_t *loop, const struct ctl_options *opt, const struct ctl_handlers *handlers,
              struct ctl **ret);
/* Closes every connection (pending replies become cancelled, streams get a
 * last {"event":"end"} if their socket takes it at once) and the socket, and
 * unlinks it. NULL-safe; c is invalid afterwards. */
void ctl_stop(struct ctl *c);
/* Connections open now. */
unsigned ctl_connections(const struct ctl *c);

/* Answers {"ok":true} plus result's members; takes the reference to result
 * (which may be NULL). Frees reply. */
void ctl_reply_send(struct ctl_reply *reply, json_t *result);
/* Answers {"ok":false,"error":msg}. Frees reply. */
void ctl_reply_error(struct ctl_reply *reply, const char *msg);
/* ctl_reply_error with ctl_proto_strerror(err). Frees reply. */
void ctl_reply_errno(struct ctl_reply *reply, int err);
/* True when nobody waits for the answer any more: the work may be skipped,
 * but the reply must still be completed to free it. */
bool ctl_reply_cancelled(const struct ctl_reply *reply);

/* Runs once when a stream ends by anything but ctl_stream_end: the client
 * hung up (closed or shut down its sending side), a write failed, or
 * ctl_stop. s is invalid once it returns. */
typedef void (*ctl_stream_closed_fn)(void *arg, struct ctl_stream *s);

/* Completes reply like ctl_reply_send (taking result), then keeps the
 * connection open for events: its deadline no longer applies. Returns the
 * stream; or NULL, having freed the reply, when the client is gone or
 * CTL_STREAM_MAX streams are open already (it is told "busy, try again"). */
struct ctl_stream *ctl_reply_stream(struct ctl_reply *reply, json_t *result,
                                    ctl_stream_closed_fn closed, void *arg);
/* Queues event, an object with a string "event", as one line. 0; -ENOBUFS
 * when more than CTL_STREAM_QUEUE_MAX bytes wait for the client: the event is
 * dropped and counted, and the next one that fits goes after a
 * {"event":"dropped","count":N}; -EINVAL, -EMSGSIZE, -ENOMEM. */
int ctl_stream_send(struct ctl_stream *s, const json_t *event);
/* Ends a stream from the daemon's side: what is queued is still written
 * (for at most a second), then the connection closes; closed does not run. */
void ctl_stream_end(struct ctl_stream *s);
