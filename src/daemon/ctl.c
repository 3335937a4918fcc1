/* SPDX-License-Identifier: MIT */
/* ctl.c: the control socket server on a libuv pipe, one request per connection,
 * and the event streams that may follow an answer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/ctl_proto.h"
#include "common/log.h"
#include "daemon/ctl.h"

#define CTL_BACKLOG 16
/* After "timed out" is queued, how long a client that does not read keeps
 * its connection. */
#define CTL_LINGER_MS 1000

enum conn_state {
	CONN_READING,   /* until the request's "\n" */
	CONN_WAITING,   /* an asynchronous handler holds the reply */
	CONN_WRITING,   /* the answer is on its way; then close */
	CONN_STREAMING, /* answered; events follow until either side ends */
	CONN_ENDING,    /* the daemon ended the stream: flush, then close */
	CONN_CLOSING,
};

struct ctl_stream {
	ctl_stream_closed_fn closed; /* NULL once called, or after ctl_stream_end */
	void *arg;
	unsigned dropped; /* events not queued since the last that was */
	unsigned pending; /* writes not completed */
};

/* One line written on a stream. */
struct chunk {
	uv_write_t req;
	struct ctl_conn *conn;
	char *data;
};

struct ctl_conn {
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t write_req;
	struct ctl *ctl;
	struct ctl_conn *prev, *next;
	struct ctl_reply *reply;  /* while CONN_WAITING */
	struct ctl_stream stream; /* while CONN_STREAMING or CONN_ENDING */
	enum conn_state state;
	bool then_shutdown; /* call the shutdown handler once the answer is out */
	unsigned open_handles;
	bool have_cred;
	uid_t uid;
	char *out; /* the answer being written */
	size_t len;
	char buf[CTL_REQUEST_MAX];
};

struct ctl_reply {
	struct ctl_conn *conn; /* NULL once cancelled */
};

struct ctl {
	uv_loop_t *loop;
	uv_pipe_t listener;
	struct ctl_handlers h;
	uid_t admin_uid;
	unsigned max_conns;
	uint64_t timeout_ms;
	char path[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char domain[CTL_NAME_MAX + 1];
	dev_t dev; /* of the socket we bound, so ctl_stop unlinks only ours */
	ino_t ino;
	struct ctl_conn *conns;
	unsigned n_conns;
	unsigned n_streams;
	unsigned refs; /* the listener and every connection not yet closed */
};

/* The connection of the last "shutdown", duplicated and kept open until the
 * process exits: its client learns from the end of the stream that the
 * daemon is gone. */
static int held_fd = -1;

static void ctl_unref(struct ctl *c)
{
	if (--c->refs == 0)
		free(c);
}

/* ---- connections ---- */

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct ctl_conn *conn = h->data;
	struct ctl *c = conn->ctl;

	if (--conn->open_handles > 0)
		return;
	free(conn);
	ctl_unref(c);
}

static struct ctl_conn *stream_conn(struct ctl_stream *s)
{
	return (struct ctl_conn *)(void *)((char *)s - offsetof(struct ctl_conn, stream));
}

static void conn_close(struct ctl_conn *conn)
{
	struct ctl *c = conn->ctl;
	ctl_stream_closed_fn closed = NULL;

	if (conn->state == CONN_CLOSING)
		return;
	if (conn->state == CONN_STREAMING || conn->state == CONN_ENDING) {
		c->n_streams--;
		closed = conn->stream.closed;
		conn->stream.closed = NULL;
	}
	conn->state = CONN_CLOSING;
	if (conn->reply) {
		conn->reply->conn = NULL;
		conn->reply = NULL;
	}
	if (conn->prev)
		conn->prev->next = conn->next;
	else
		c->conns = conn->next;
	if (conn->next)
		conn->next->prev = conn->prev;
	c->n_conns--;
	uv_close((uv_handle_t *)&conn->pipe, on_conn_handle_closed);
	uv_close((uv_handle_t *)&conn->timer, on_conn_handle_closed);
	/* The memory stays until the close callbacks: the stream is still
	 * valid while its owner forgets it. */
	if (closed)
		closed(conn->stream.arg, &conn->stream);
}

/* The answer is out (or could not go): close, and stop the daemon if that
 * was the request. The server may be stopped by the handler. */
static void conn_done(struct ctl_conn *conn)
{
	struct ctl *c = conn->ctl;
	bool stop = conn->then_shutdown && conn->state != CONN_CLOSING;

	conn_close(conn);
	if (stop)
		c->h.shutdown(c->h.ctx);
}

static void on_written(uv_write_t *w, int status)
{
	struct ctl_conn *conn = w->data;

	free(conn->out);
	conn->out = NULL;
	if (status < 0 && status != UV_ECANCELED)
		log_msg(LOG_DEBUG, "control: answer not delivered: %s", uv_strerror(status));
	conn_done(conn);
}

/* Takes line; the connection closes once it is written. */
static void conn_write(struct ctl_conn *conn, char *line, size_t len)
{
	uv_buf_t b = uv_buf_init(line, (unsigned)len);
	int r;

	conn->state = CONN_WRITING;
	conn->out = line;
	conn->write_req.data = conn;
	r = uv_write(&conn->write_req, (uv_stream_t *)&conn->pipe, &b, 1, on_written);
	if (r < 0) {
		free(conn->out);
		conn->out = NULL;
		log_msg(LOG_DEBUG, "control: cannot answer: %s", uv_strerror(r));
		conn_done(conn);
	}
}

static void conn_fail(struct ctl_conn *conn, const char *msg)
{
	char *line;
	size_t len;

	if (ctl_proto_format_error(msg, &line, &len) < 0) {
		conn_close(conn);
		return;
	}
	conn_write(conn, line, len);
}

static void conn_answer(struct ctl_conn *conn, const json_t *result)
{
	char *line;
	size_t len;
	int r = ctl_proto_format_ok(result, &line, &len);

	if (r == -EMSGSIZE) {
		log_msg(LOG_WARNING, "control: answer larger than %d bytes", CTL_RESPONSE_MAX);
		conn_fail(conn, "answer too large");
	} else if (r < 0) {
		conn_fail(conn, ctl_proto_strerror(r));
	} else {
		conn_write(conn, line, len);
	}
}

static void on_timeout(uv_timer_t *t)
{
	struct ctl_conn *conn = t->data;

	if (conn->state == CONN_READING || conn->state == CONN_WAITING) {
		if (conn->reply) {
			conn->reply->conn = NULL;
			conn->reply = NULL;
		}
		uv_read_stop((uv_stream_t *)&conn->pipe);
		conn_fail(conn, ctl_proto_strerror(-ETIMEDOUT));
		if (conn->state == CONN_WRITING)
			uv_timer_start(&conn->timer, on_timeout, CTL_LINGER_MS, 0);
	} else {
		/* A client that does not read its answer, an ended stream that
		 * does not drain, or a stream whose write failed. */
		conn_close(conn);
	}
}

/* ---- streams ---- */

static void on_chunk_written(uv_write_t *w, int status)
{
	struct chunk *ch = w->data;
	struct ctl_conn *conn = ch->conn;

	free(ch->data);
	free(ch);
	conn->stream.pending--;
	if (conn->state == CONN_CLOSING)
		return;
	if (status < 0) {
		log_msg(LOG_DEBUG, "control: stream: %s", uv_strerror(status));
		conn_close(conn);
	} else if (conn->state == CONN_ENDING && conn->stream.pending == 0) {
		conn_close(conn);
	}
}

/* Queues line (taken) on a stream. */
static int stream_write(struct ctl_conn *conn, char *line, size_t len)
{
	struct chunk *ch = malloc(sizeof(*ch));
	uv_buf_t b = uv_buf_init(line, (unsigned)len);
	int r;

	if (!ch) {
		free(line);
		return -ENOMEM;
	}
	ch->conn = conn;
	ch->data = line;
	ch->req.data = ch;
	r = uv_write(&ch->req, (uv_stream_t *)&conn->pipe, &b, 1, on_chunk_written);
	if (r < 0) {
		log_msg(LOG_DEBUG, "control: stream: %s", uv_strerror(r));
		free(line);
		free(ch);
		return -EIO;
	}
	conn->stream.pending++;
	return 0;
}

/* Closes from the next turn of the loop, so whoever is sending (the
 * daemon, looping over its streams) never sees its stream vanish mid-call. */
static void stream_fail_later(struct ctl_conn *conn)
{
	conn->stream.dropped = 0;
	if (uv_timer_start(&conn->timer, on_timeout, 0, 0) < 0)
		uv_read_stop((uv_stream_t *)&conn->pipe);
}

static int stream_send_dropped(struct ctl_conn *conn)
{
	json_t *ev = json_pack("{s:s, s:I}", "event", "dropped", "count",
	                       (json_int_t)conn->stream.dropped);
	char *line;
	size_t len;
	int r;

	if (!ev)
		return -ENOMEM;
	r = ctl_proto_format_event(ev, &line, &len);
	json_decref(ev);
	if (r == 0)
		r = stream_write(conn, line, len);
	if (r == 0)
		conn->stream.dropped = 0;
	return r;
}

int ctl_stream_send(struct ctl_stream *s, const json_t *event)
{
	struct ctl_conn *conn = stream_conn(s);
	size_t queued, len;
	char *line;
	int r;

	if (conn->state != CONN_STREAMING)
		return -EPIPE;
	r = ctl_proto_format_event(event, &line, &len);
	if (r < 0)
		return r;
	queued = uv_stream_get_write_queue_size((uv_stream_t *)&conn->pipe);
	if (queued + len > CTL_STREAM_QUEUE_MAX) {
		free(line);
		s->dropped++;
		return -ENOBUFS;
	}
	r = s->dropped ? stream_send_dropped(conn) : 0;
	if (r == 0)
		r = stream_write(conn, line, len);
	else
		free(line);
	if (r == -EIO)
		stream_fail_later(conn);
	return r;
}

void ctl_stream_end(struct ctl_stream *s)
{
	struct ctl_conn *conn = stream_conn(s);

	if (conn->state != CONN_STREAMING)
		return;
	s->closed = NULL;
	conn->state = CONN_ENDING;
	uv_read_stop((uv_stream_t *)&conn->pipe);
	if (s->pending == 0)
		conn_close(conn);
	else if (uv_timer_start(&conn->timer, on_timeout, CTL_LINGER_MS, 0) < 0)
		conn_close(conn);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b);

/* ---- replies ---- */

/* The connection still waiting for reply, detached from it; NULL if none. */
static struct ctl_conn *reply_take(struct ctl_reply *reply)
{
	struct ctl_conn *conn = reply->conn;

	free(reply);
	if (!conn)
		return NULL;
	conn->reply = NULL;
	return conn->state == CONN_WAITING ? conn : NULL;
}

void ctl_reply_send(struct ctl_reply *reply, json_t *result)
{
	struct ctl_conn *conn = reply_take(reply);

	if (conn)
		conn_answer(conn, result);
	json_decref(result);
}

void ctl_reply_error(struct ctl_reply *reply, const char *msg)
{
	struct ctl_conn *conn = reply_take(reply);

	if (conn)
		conn_fail(conn, msg);
}

void ctl_reply_errno(struct ctl_reply *reply, int err)
{
	ctl_reply_error(reply, ctl_proto_strerror(err));
}

bool ctl_reply_cancelled(const struct ctl_reply *reply)
{
	return reply->conn == NULL;
}

struct ctl_stream *ctl_reply_stream(struct ctl_reply *reply, json_t *result,
                                    ctl_stream_closed_fn closed, void *arg)
{
	struct ctl_conn *conn = reply_take(reply);
	char *line;
	size_t len;
	int r;

	if (!conn) {
		json_decref(result);
		return NULL;
	}
	if (conn->ctl->n_streams >= CTL_STREAM_MAX) {
		json_decref(result);
		conn_fail(conn, ctl_proto_strerror(-EBUSY));
		return NULL;
	}
	r = ctl_proto_format_ok(result, &line, &len);
	json_decref(result);
	if (r < 0) {
		conn_fail(conn, r == -EMSGSIZE ? "answer too large" : ctl_proto_strerror(r));
		return NULL;
	}
	uv_timer_stop(&conn->timer);
	conn->state = CONN_STREAMING;
	conn->stream = (struct ctl_stream){.closed = closed, .arg = arg};
	conn->ctl->n_streams++;
	/* Reading again only to learn when the client hangs up. */
	conn->len = 0;
	r = stream_write(conn, line, len);
	if (r == 0)
		r = uv_read_start((uv_stream_t *)&conn->pipe, on_alloc, on_read);
	if (r < 0) {
		conn->stream.closed = NULL; /* the handler never had it */
		conn_close(conn);
		return NULL;
	}
	return &conn->stream;
}

/* ---- dispatch ---- */

static int (*sync_handler(const struct ctl_handlers *h, enum ctl_cmd cmd))(void *, json_t *)
{
	switch (cmd) {
	case CTL_CMD_STATUS:
		return h->status;
	case CTL_CMD_PEERS:
		return h->peers;
	case CTL_CMD_ID:
		return h->id;
	default:
		return NULL;
	}
}

static void dispatch_sync(struct ctl_conn *conn, int (*fn)(void *, json_t *))
{
	json_t *result = json_object();
	int r;

	if (!result) {
		conn_fail(conn, ctl_proto_strerror(-ENOMEM));
		return;
	}
	r = fn(conn->ctl->h.ctx, result);
	/* A handler may have stopped the server (and closed us) meanwhile. */
	if (conn->state == CONN_READING) {
		if (r < 0)
			conn_fail(conn, ctl_proto_strerror(r));
		else
			conn_answer(conn, result);
	}
	json_decref(result);
}

static bool has_async_handler(const struct ctl_handlers *h, enum ctl_cmd cmd)
{
	switch (cmd) {
	case CTL_CMD_RESOLVE:
		return h->resolve != NULL;
	case CTL_CMD_JOIN:
		return h->join != NULL;
	case CTL_CMD_LEAVE:
		return h->leave != NULL;
	case CTL_CMD_PING:
		return h->ping != NULL;
	case CTL_CMD_LOG:
		return h->log != NULL;
	case CTL_CMD_NETCHECK:
		return h->netcheck != NULL;
	default:
		return false;
	}
}

static int call_async(const struct ctl_handlers *h, const struct ctl_request *req, const char *fqdn,
                      struct ctl_reply *reply)
{
	switch (req->cmd) {
	case CTL_CMD_RESOLVE:
		return h->resolve(h->ctx, fqdn, reply);
	case CTL_CMD_JOIN:
		return h->join(h->ctx, reply);
	case CTL_CMD_LEAVE:
		return h->leave(h->ctx, reply);
	case CTL_CMD_PING:
		return h->ping(h->ctx,
		               &(const struct ctl_ping){.fqdn = fqdn,
		                                        .count = req->count,
		                                        .interval_ms = req->interval_ms,
		                                        .timeout_ms = req->timeout_ms},
		               reply);
	case CTL_CMD_LOG:
		return h->log(h->ctx,
		              &(const struct ctl_log){.lines = (unsigned)req->lines,
		                                      .follow = req->follow},
		              reply);
	case CTL_CMD_NETCHECK:
		return h->netcheck(h->ctx, reply);
	default:
		return -ENOTSUP;
	}
}

static void dispatch_async(struct ctl_conn *conn, const struct ctl_request *req)
{
	const struct ctl_handlers *h = &conn->ctl->h;
	char fqdn[CTL_NAME_MAX + 1];
	struct ctl_reply *reply;
	int r;

	if (!has_async_handler(h, req->cmd)) {
		conn_fail(conn, ctl_proto_strerror(-ENOTSUP));
		return;
	}
	if ((req->cmd == CTL_CMD_RESOLVE || req->cmd == CTL_CMD_PING) &&
	    ctl_proto_name_qualify(req->name, conn->ctl->domain, fqdn) < 0) {
		conn_fail(conn, "name too long with the overlay domain");
		return;
	}
	if (req->cmd == CTL_CMD_LOG && req->follow && conn->ctl->n_streams >= CTL_STREAM_MAX) {
		conn_fail(conn, ctl_proto_strerror(-EBUSY));
		return;
	}
	/* A ping takes as long as its arguments say; its connection waits that
	 * much longer. */
	if (req->cmd == CTL_CMD_PING &&
	    uv_timer_start(&conn->timer, on_timeout,
	                   conn->ctl->timeout_ms + ctl_proto_ping_budget_ms(req), 0) < 0) {
		conn_fail(conn, ctl_proto_strerror(-EIO));
		return;
	}
	reply = calloc(1, sizeof(*reply));
	if (!reply) {
		conn_fail(conn, ctl_proto_strerror(-ENOMEM));
		return;
	}
	reply->conn = conn;
	conn->reply = reply;
	conn->state = CONN_WAITING;
	r = call_async(h, req, fqdn, reply);
	if (r >= 0)
		return;
	/* Refused without touching the reply: it is still ours. */
	if (conn->reply == reply)
		conn->reply = NULL;
	free(reply);
	if (conn->state == CONN_WAITING)
		conn_fail(conn, ctl_proto_strerror(r));
}

static void hold_until_exit(struct ctl_conn *conn)
{
	uv_os_fd_t fd;
	int dup_fd;

	if (uv_fileno((uv_handle_t *)&conn->pipe, &fd) < 0)
		return;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (dup_fd < 0) {
		log_errno(LOG_DEBUG, -errno, "control: keeping the shutdown connection");
		return;
	}
	if (held_fd >= 0)
		close(held_fd);
	held_fd = dup_fd;
}

/* Answered by the server itself; the daemon stops once the answer is out. */
static void dispatch_shutdown(struct ctl_conn *conn)
{
	if (!conn->ctl->h.shutdown) {
		conn_fail(conn, ctl_proto_strerror(-ENOTSUP));
		return;
	}
	hold_until_exit(conn);
	conn->then_shutdown = true;
	conn_answer(conn, NULL);
}

static bool conn_privileged(const struct ctl_conn *conn)
{
	return conn->have_cred && (conn->uid == 0 || conn->uid == conn->ctl->admin_uid);
}

static void conn_request(struct ctl_conn *conn, size_t len)
{
	char err[CTL_ERROR_MAX];
	struct ctl_request req;
	int (*fn)(void *, json_t *);

	uv_read_stop((uv_stream_t *)&conn->pipe);
	if (ctl_proto_parse_request(conn->buf, len, &req, err, sizeof(err)) < 0) {
		log_msg(LOG_DEBUG, "control: bad request: %s", err);
		conn_fail(conn, err);
		return;
	}
	if (ctl_proto_cmd_privileged(req.cmd) && !conn_privileged(conn)) {
		log_msg(LOG_NOTICE, "control: '%s' refused to uid %ld", ctl_proto_cmd_name(req.cmd),
		        conn->have_cred ? (long)conn->uid : -1L);
		conn_fail(conn, ctl_proto_strerror(-EPERM));
		return;
	}
	log_msg(LOG_DEBUG, "control: '%s' from uid %ld", ctl_proto_cmd_name(req.cmd),
	        conn->have_cred ? (long)conn->uid : -1L);
	if (req.cmd == CTL_CMD_SHUTDOWN) {
		log_msg(LOG_NOTICE, "control: shutdown asked by uid %ld", (long)conn->uid);
		dispatch_shutdown(conn);
		return;
	}
	fn = sync_handler(&conn->ctl->h, req.cmd);
	if (fn)
		dispatch_sync(conn, fn);
	else if (req.cmd == CTL_CMD_STATUS || req.cmd == CTL_CMD_PEERS || req.cmd == CTL_CMD_ID)
		conn_fail(conn, ctl_proto_strerror(-ENOTSUP));
	else
		dispatch_async(conn, &req);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	struct ctl_conn *conn = h->data;

	*b = uv_buf_init(conn->buf + conn->len, (unsigned)(sizeof(conn->buf) - conn->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
	struct ctl_conn *conn = s->data;
	char msg[64];
	ssize_t line;

	if (conn->state == CONN_STREAMING) {
		/* Anything the client sends is ignored; its end ends the stream. */
		if (nread < 0)
			conn_close(conn);
		conn->len = 0;
		return;
	}
	if (conn->state != CONN_READING || nread == 0)
		return;
	if (nread == UV_EOF) {
		if (conn->len == 0)
			conn_close(conn); /* connected and left: nothing to answer */
		else
			conn_fail(conn, "incomplete request: no newline before the end");
		return;
	}
	if (nread < 0) {
		log_msg(LOG_DEBUG, "control: read: %s", uv_strerror((int)nread));
		conn_close(conn);
		return;
	}
	conn->len += (size_t)nread;
	line = ctl_proto_frame(conn->buf, conn->len, sizeof(conn->buf));
	if (line == -EAGAIN)
		return;
	uv_read_stop(s);
	if (line < 0) {
		snprintf(msg, sizeof(msg), "request longer than %d bytes", CTL_REQUEST_MAX - 1);
		conn_fail(conn, msg);
	} else if ((size_t)line + 1 < conn->len) {
		conn_fail(conn, "data after the request: one request per connection");
	} else {
		conn_request(conn, (size_t)line);
	}
}

static void peer_cred(struct ctl_conn *conn)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uv_os_fd_t fd;

	if (uv_fileno((uv_handle_t *)&conn->pipe, &fd) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || len != sizeof(cred))
		return;
	conn->have_cred = true;
	conn->uid = cred.uid;
}

static void on_refused_closed(uv_handle_t *h)
{
	free(h);
}

/* Over the limit: accept, say so in one non-blocking write, close. */
static void refuse(struct ctl *c)
{
	static const char busy[] = "{\"ok\":false,\"error\":\"busy, try again\"}\n";
	uv_pipe_t *p = malloc(sizeof(*p));
	uv_buf_t b = uv_buf_init((char *)busy, sizeof(busy) - 1);

	if (!p) {
		log_msg(LOG_ERR, "control: out of memory");
		return;
	}
	uv_pipe_init(c->loop, p, 0);
	if (uv_accept((uv_stream_t *)&c->listener, (uv_stream_t *)p) == 0)
		(void)uv_try_write((uv_stream_t *)p, &b, 1);
	uv_close((uv_handle_t *)p, on_refused_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *c = server->data;
	struct ctl_conn *conn;
	int r;

	if (status < 0) {
		log_msg(LOG_WARNING, "control: accept: %s", uv_strerror(status));
		return;
	}
	if (c->n_conns >= c->max_conns) {
		log_msg(LOG_DEBUG, "control: %u connections open, refusing one", c->n_conns);
		refuse(c);
		return;
	}
	conn = calloc(1, sizeof(*conn));
	if (!conn) {
		log_msg(LOG_ERR, "control: out of memory");
		return;
	}
	conn->ctl = c;
	conn->state = CONN_READING;
	uv_pipe_init(c->loop, &conn->pipe, 0);
	uv_timer_init(c->loop, &conn->timer);
	conn->pipe.data = conn;
	conn->timer.data = conn;
	conn->open_handles = 2;
	conn->next = c->conns;
	if (c->conns)
		c->conns->prev = conn;
	c->conns = conn;
	c->n_conns++;
	c->refs++;
	r = uv_accept(server, (uv_stream_t *)&conn->pipe);
	if (r == 0) {
		peer_cred(conn);
		r = uv_read_start((uv_stream_t *)&conn->pipe, on_alloc, on_read);
	}
	if (r == 0)
		r = uv_timer_start(&conn->timer, on_timeout, c->timeout_ms, 0);
	if (r < 0) {
		log_msg(LOG_WARNING, "control: accept: %s", uv_strerror(r));
		conn_close(conn);
	}
}

/* ---- the listening socket ---- */

void ctl_options_init(struct ctl_options *opt, const char *path)
{
	*opt = (struct ctl_options){
	        .path = path,
	        .admin_uid = geteuid(),
	        .max_conns = CTL_MAX_CONNS,
	        .timeout_ms = CTL_TIMEOUT_MS,
	};
}

/* mkdir -p of path's directory; directories we create get 0755 whatever the
 * umask, so the group the socket is shared with can reach it. */
static int make_parent(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1;; p++) {
		bool last = *p == '\0';
		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(dir, 0755) == 0) {
			if (chmod(dir, 0755) < 0)
				return log_errno(LOG_ERR, -errno, "control socket directory '%s'",
				                 dir);
		} else if (errno != EEXIST) {
			return log_errno(LOG_ERR, -errno, "control socket directory '%s'", dir);
		}
		if (last)
			return 0;
		*p = '/';
	}
}

static int sockaddr_of(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	strcpy(sa->sun_path, path);
	return 0;
}

/* A socket file left at path: stale when nobody answers on it. */
static int clear_stale(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0
		                       : log_errno(LOG_ERR, -errno, "control socket '%s'", path);
	if (!S_ISSOCK(st.st_mode))
		return log_errno(LOG_ERR, -EEXIST,
		                 "control socket '%s': exists and is not a socket", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "control socket");
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	close(fd);
	if (r == 0)
		return log_errno(LOG_ERR, -EADDRINUSE,
		                 "control socket '%s': another daemon answers on it", path);
	if (r != -ECONNREFUSED)
		return log_errno(LOG_ERR, r, "control socket '%s'", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return log_errno(LOG_ERR, -errno, "control socket '%s': removing the stale socket",
		                 path);
	log_msg(LOG_INFO, "control socket '%s': removed a stale socket", path);
	return 0;
}

/* The bound, listening socket. The umask covers the moment between bind and
 * chmod, when the socket would otherwise be open to everyone. */
static int listen_fd(const char *path, const struct sockaddr_un *sa, struct stat *st)
{
	mode_t old;
	int fd, r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return log_errno(LOG_ERR, -errno, "control socket");
	old = umask(0177);
	r = bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ? 0 : -errno;
	umask(old);
	if (r < 0) {
		close(fd);
		return log_errno(LOG_ERR, r, "control socket '%s': bind", path);
	}
	if (chmod(path, 0660) < 0 || lstat(path, st) < 0 || listen(fd, CTL_BACKLOG) < 0) {
		r = log_errno(LOG_ERR, -errno, "control socket '%s'", path);
		close(fd);
		unlink(path);
		return r;
	}
	return fd;
}

static void on_listener_closed(uv_handle_t *h)
{
	ctl_unref(h->data);
}

int ctl_start(uv_loop_t *loop, const struct ctl_options *opt, const struct ctl_handlers *handlers,
              struct ctl **ret)
{
	struct sockaddr_un sa;
	struct stat st;
	struct ctl *c;
	int fd, r;

	if (!opt->path || opt->path[0] != '/' || opt->max_conns == 0 || opt->timeout_ms == 0 ||
	    (opt->domain && strlen(opt->domain) > CTL_NAME_MAX))
		return -EINVAL;
	if (sockaddr_of(opt->path, &sa) < 0)
		return log_errno(LOG_ERR, -ENAMETOOLONG, "control socket '%s'", opt->path);
	if ((r = make_parent(opt->path)) < 0 || (r = clear_stale(opt->path, &sa)) < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	/* libuv writes without MSG_NOSIGNAL: a client that hangs up before its
	 * answer must cost an EPIPE, not the daemon. */
	signal(SIGPIPE, SIG_IGN);
	fd = listen_fd(opt->path, &sa, &st);
	if (fd < 0) {
		free(c);
		return fd;
	}
	c->loop = loop;
	c->h = *handlers;
	c->admin_uid = opt->admin_uid;
	c->max_conns = opt->max_conns;
	c->timeout_ms = opt->timeout_ms;
	strcpy(c->path, opt->path);
	if (opt->domain)
		strcpy(c->domain, opt->domain);
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->refs = 1;
	uv_pipe_init(loop, &c->listener, 0);
	c->listener.data = c;
	r = uv_pipe_open(&c->listener, fd);
	if (r < 0)
		close(fd);
	else
		r = uv_listen((uv_stream_t *)&c->listener, CTL_BACKLOG, on_connection);
	if (r < 0) {
		log_errno(LOG_ERR, r, "control socket '%s': listen", opt->path);
		unlink(opt->path);
		uv_close((uv_handle_t *)&c->listener, on_listener_closed);
		return r;
	}
	log_msg(LOG_INFO, "control socket '%s'", opt->path);
	*ret = c;
	return 0;
}

/* A stream's last line, if the socket takes it now: nothing waits for a
 * client that does not read. */
static void stream_say_end(struct ctl_conn *conn)
{
	static const char end[] =
	        "{\"event\":\"end\",\"reason\":\"the daemon is shutting down\"}\n";
	uv_buf_t b = uv_buf_init((char *)end, sizeof(end) - 1);

	if (uv_stream_get_write_queue_size((uv_stream_t *)&conn->pipe) == 0)
		(void)uv_try_write((uv_stream_t *)&conn->pipe, &b, 1);
}

void ctl_stop(struct ctl *c)
{
	struct stat st;

	if (!c)
		return;
	/* Someone may have replaced the file since; theirs stays. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	for (struct ctl_conn *conn = c->conns; conn; conn = conn->next)
		if (conn->state == CONN_STREAMING)
			stream_say_end(conn);
	while (c->conns)
		conn_close(c->conns);
	uv_close((uv_handle_t *)&c->listener, on_listener_closed);
}

unsigned ctl_connections(const struct ctl *c)
{
	return c->n_conns;
}
