/*
 * lws-echo-server: a WebSocket echo server over libwebsockets 4.x, the C
 * reference of scripts/bench-compare.sh (issue 20).
 *
 *   lws-echo-server [--host 127.0.0.1] [--port 9001] [--max-message 16777216]
 *                   [--writes-per-callback 16]
 *
 * One lws service thread (count_threads = 1) on lws' own poll() loop, no TLS,
 * no extension (so no permessage-deflate), any path. Every message is
 * reassembled (fragmented or not) and echoed as one frame with the opcode it
 * came with (text or binary). Messages may be pipelined: each connection keeps
 * a FIFO of complete messages; reading from the connection is paused
 * (lws_rx_flow_control) while more than QUEUE_MAX_MSGS messages or
 * QUEUE_MAX_BYTES bytes wait, and resumed once the queue is down to half.
 * lws answers pings and closes itself.
 *
 * Writes happen only in LWS_CALLBACK_SERVER_WRITEABLE. One callback writes up
 * to --writes-per-callback messages, stopping early as soon as lws had to
 * buffer part of a write (lws_partial_buffered(), as lws-ws-state.h asks of
 * code that writes more than once per callback); lws then finishes that write
 * itself and calls back when the socket can take more. --writes-per-callback 1
 * is the stricter one-write-per-callback rule of lws' README.coding.md.
 *
 * Prints "lws-echo-server listening on HOST:PORT" on standard error once
 * listening (--port 0 picks a free port); logs errors only.
 */
#include <libwebsockets.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef QUEUE_MAX_MSGS
#define QUEUE_MAX_MSGS 256
#endif
#ifndef QUEUE_MAX_BYTES
#define QUEUE_MAX_BYTES (8u * 1024 * 1024)
#endif
/* Read and send sizes: one recv() of up to this much, one ws rx callback per
 * up to this much payload, and one send() of a whole frame up to TX_CHUNK
 * (lws' default splits every send into 4 KiB pieces and buffers the rest). */
#define RX_CHUNK (64u * 1024)
#define TX_CHUNK (1024u * 1024)

struct message {
	struct message *next;
	size_t len;
	size_t cap;            /* payload capacity, after the LWS_PRE bytes */
	int binary;
	unsigned char buf[];   /* LWS_PRE bytes for lws' frame header, then payload */
};

struct session {
	struct message *head, *tail; /* complete messages waiting to be echoed */
	size_t queued_msgs, queued_bytes;
	struct message *partial;     /* the message being reassembled */
	int rx_paused;
};

static size_t max_message = 16u * 1024 * 1024;
static int writes_per_callback = 16;
static volatile sig_atomic_t interrupted;
static struct lws_context *context;

static struct message *
message_new(size_t cap, int binary)
{
	struct message *m = malloc(sizeof(*m) + LWS_PRE + cap);

	if (!m)
		return NULL;
	m->next = NULL;
	m->len = 0;
	m->cap = cap;
	m->binary = binary;
	return m;
}

/* Appends len bytes to *pm, growing it (geometrically) when needed. */
static int
message_append(struct message **pm, const void *in, size_t len)
{
	struct message *m = *pm;

	if (m->len + len > m->cap) {
		size_t cap = m->cap * 2;

		if (cap < m->len + len)
			cap = m->len + len;
		m = realloc(m, sizeof(*m) + LWS_PRE + cap);
		if (!m)
			return -1;
		m->cap = cap;
		*pm = m;
	}
	memcpy(m->buf + LWS_PRE + m->len, in, len);
	m->len += len;
	return 0;
}

static void
session_free(struct session *s)
{
	struct message *m = s->head, *n;

	while (m) {
		n = m->next;
		free(m);
		m = n;
	}
	free(s->partial);
	memset(s, 0, sizeof(*s));
}

static int
on_receive(struct lws *wsi, struct session *s, const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi) || !s->partial) {
		/* A new message: size it for what this frame still announces. */
		size_t want = len + lws_remaining_packet_payload(wsi);

		free(s->partial);
		s->partial = message_new(want ? want : 64, lws_frame_is_binary(wsi));
		if (!s->partial)
			return -1;
	}
	if (s->partial->len + len > max_message) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, NULL, 0);
		return -1;
	}
	if (len && message_append(&s->partial, in, len))
		return -1;
	if (!lws_is_final_fragment(wsi))
		return 0;

	/* Complete: onto the queue. */
	struct message *m = s->partial;

	s->partial = NULL;
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	s->queued_msgs++;
	s->queued_bytes += m->len;
	if (!s->rx_paused && (s->queued_msgs > QUEUE_MAX_MSGS ||
			      s->queued_bytes > QUEUE_MAX_BYTES)) {
		s->rx_paused = 1;
		lws_rx_flow_control(wsi, 0);
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int
on_writeable(struct lws *wsi, struct session *s)
{
	int n;

	for (n = 0; s->head && n < writes_per_callback; n++) {
		struct message *m = s->head;

		if (lws_write(wsi, m->buf + LWS_PRE, m->len,
			      m->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT) < 0)
			return -1;
		s->head = m->next;
		if (!s->head)
			s->tail = NULL;
		s->queued_msgs--;
		s->queued_bytes -= m->len;
		free(m);
		/* lws keeps what the socket did not take and sends it itself;
		 * no further write until it calls back. */
		if (lws_partial_buffered(wsi))
			break;
	}
	if (s->rx_paused && s->queued_msgs <= QUEUE_MAX_MSGS / 2 &&
	    s->queued_bytes <= QUEUE_MAX_BYTES / 2) {
		s->rx_paused = 0;
		lws_rx_flow_control(wsi, 1);
	}
	if (s->head)
		lws_callback_on_writable(wsi);
	return 0;
}

static int
callback_echo(struct lws *wsi, enum lws_callback_reasons reason, void *user,
	      void *in, size_t len)
{
	struct session *s = user;

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(s, 0, sizeof(*s));
		break;
	case LWS_CALLBACK_RECEIVE:
		return on_receive(wsi, s, in, len);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(wsi, s);
	case LWS_CALLBACK_CLOSED:
		session_free(s);
		break;
	default:
		break;
	}
	/* Plain HTTP requests (no upgrade) get lws' default handling. */
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols protocols[] = {
	/* The first protocol serves connections that ask for no subprotocol. */
	{
		.name = "echo",
		.callback = callback_echo,
		.per_session_data_size = sizeof(struct session),
		.rx_buffer_size = RX_CHUNK,
		.tx_packet_size = TX_CHUNK,
	},
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	if (context)
		lws_cancel_service(context);
}

static void
usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--host 127.0.0.1] [--port 9001] "
		"[--max-message BYTES] [--writes-per-callback N]\n", argv0);
}

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	const char *host = "127.0.0.1";
	struct lws_vhost *vhost;
	int port = 9001, i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(argv[0]);
			return 0;
		}
		if (!v) {
			usage(argv[0]);
			return 2;
		}
		if (!strcmp(a, "--host"))
			host = v;
		else if (!strcmp(a, "--port"))
			port = atoi(v);
		else if (!strcmp(a, "--max-message"))
			max_message = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--writes-per-callback"))
			writes_per_callback = atoi(v);
		else {
			usage(argv[0]);
			return 2;
		}
		i++;
	}
	if (port < 0 || port > 65535 || writes_per_callback < 1) {
		usage(argv[0]);
		return 2;
	}

	lws_set_log_level(LLL_ERR, NULL);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	memset(&info, 0, sizeof(info));
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS |
		       LWS_SERVER_OPTION_DISABLE_IPV6;
	info.count_threads = 1;
	info.pt_serv_buf_size = RX_CHUNK;
	context = lws_create_context(&info);
	if (!context) {
		fprintf(stderr, "lws-echo-server: lws_create_context failed\n");
		return 1;
	}

	info.iface = host;
	info.port = port;
	info.protocols = protocols;
	info.extensions = NULL; /* no permessage-deflate */
	info.vhost_name = "default";
	vhost = lws_create_vhost(context, &info);
	if (!vhost) {
		fprintf(stderr, "lws-echo-server: cannot listen on %s:%d\n", host, port);
		lws_context_destroy(context);
		return 1;
	}
	fprintf(stderr, "lws-echo-server listening on %s:%d, libwebsockets %s, 1 service thread\n",
		host, lws_get_vhost_listen_port(vhost), lws_get_library_version());

	while (!interrupted)
		if (lws_service(context, 0) < 0)
			break;

	lws_context_destroy(context);
	return 0;
}
