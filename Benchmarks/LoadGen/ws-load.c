/*
 * ws-load: a WebSocket echo load generator in C, a drop-in for the plain-echo subset of
 * `switchboard bench` (Sources/SwitchboardBench) that costs less CPU than the servers it
 * measures.
 *
 *   ws-load [bench] ws://127.0.0.1:8080/echo [-c N] [-s SIZE] [--mode pingpong|pipelined]
 *           [-k K] [-d SECONDS] [--warmup SECONDS] [--binary|--text] [--json] [--server-pid PID]
 *
 * One thread, non-blocking sockets, one level-triggered epoll set, Linux only. C connections
 * each keep 1 (pingpong) or K (pipelined) messages in flight; every echo is compared byte for
 * byte with the message sent, and is immediately replaced by the next one. The messages are
 * switchboard bench's: 16 payload variants of the same size (text: printable ASCII),
 * connection c sending variant (n + c) % 16 as its nth message, each kept as one complete
 * client frame masked once: sending a message is an iovec pointing at a shared frame. The
 * echoes are parsed as they stream in (no reassembly buffer): a frame header may be split over
 * reads, a payload is compared chunk by chunk against the expected payload at its offset, an
 * echo may come back fragmented (continuation frames). Everything written while handling one
 * read goes out in one write()/writev().
 *
 * Latency is from queuing a message to reading its echo, CLOCK_MONOTONIC, in a log-linear
 * histogram (256 linear sub-buckets per power of two: within 0.4%). The --json line has
 * switchboard bench's keys and meanings, plus "generator":"ws-load".
 *
 * Exit status 1 (with the reason on stderr) when a handshake fails, an echo differs from what
 * was sent, or a connection fails or closes before the end; 2 for a bad command line.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define VARIANTS 16
#define CLOSE_ENTRY VARIANTS        /* write-queue entry of the close frame */
#define HANDSHAKES_AT_ONCE 64       /* as switchboard bench: at most 64 handshakes pending */
#define HANDSHAKE_TIMEOUT_NS 10000000000ull
#define DRAIN_TIMEOUT_NS 5000000000ull
#define READ_BUFFER (256 * 1024)
#define MAX_HEAD (16 * 1024)
#define MAX_IOV 256
#define MAX_SIZE (16 << 20)

/* ---- small helpers ------------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void usage_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("ws-load: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs("\n(ws-load --help for usage)\n", stderr);
	va_end(ap);
	exit(2);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory (%zu bytes)", n);
	return p;
}

static void random_bytes(void *buf, size_t n)
{
	uint8_t *p = buf;
	while (n > 0) {
		ssize_t r = getrandom(p, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("getrandom: %s", strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
}

/* ---- SHA-1 (FIPS 180-4) and base64, for Sec-WebSocket-Accept --------------------------------- */

static uint32_t rol32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (int i = 0; i < 80; i++) {
		uint32_t f, k;
		if (i < 20) {
			f = (b & c) | (~b & d);
			k = 0x5A827999;
		} else if (i < 40) {
			f = b ^ c ^ d;
			k = 0x6ED9EBA1;
		} else if (i < 60) {
			f = (b & c) | (b & d) | (c & d);
			k = 0x8F1BBCDC;
		} else {
			f = b ^ c ^ d;
			k = 0xCA62C1D6;
		}
		uint32_t t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
}

static void sha1(const void *data, size_t len, uint8_t out[20])
{
	uint32_t h[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
	const uint8_t *p = data;
	size_t left = len;
	for (; left >= 64; left -= 64, p += 64)
		sha1_block(h, p);
	uint8_t tail[128] = {0};
	memcpy(tail, p, left);
	tail[left] = 0x80;
	size_t tail_len = left + 1 + 8 <= 64 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;
	for (int i = 0; i < 8; i++)
		tail[tail_len - 1 - i] = (uint8_t)(bits >> (8 * i));
	sha1_block(h, tail);
	if (tail_len == 128)
		sha1_block(h, tail + 64);
	for (int i = 0; i < 5; i++) {
		out[4 * i] = (uint8_t)(h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(h[i] >> 8);
		out[4 * i + 3] = (uint8_t)h[i];
	}
}

static void base64(const uint8_t *in, size_t n, char *out)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) | (i + 2 < n ? in[i + 2] : 0);
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? alphabet[v & 63] : '=';
	}
	out[o] = 0;
}

/* ---- latency histogram ------------------------------------------------------------------------
 * Values below 2*SUB are exact; above, each power of two is split into SUB linear buckets, so a
 * bucket is at most 1/SUB (0.4%) of its values wide. Percentiles report a bucket's highest value,
 * as HdrHistogram does. */

#define SUB_BITS 8
#define SUB (1u << SUB_BITS)
#define BUCKETS ((65 - SUB_BITS) * SUB)

static uint64_t hist[BUCKETS];
static uint64_t hist_count, hist_max;

static unsigned hist_index(uint64_t v)
{
	if (v < 2 * SUB)
		return (unsigned)v;
	unsigned shift = (unsigned)(63 - __builtin_clzll(v)) - SUB_BITS;
	return shift * SUB + (unsigned)(v >> shift);
}

static uint64_t hist_highest(unsigned index)
{
	if (index < 2 * SUB)
		return index;
	unsigned shift = index / SUB - 1;
	uint64_t low = (uint64_t)(index - shift * SUB) << shift;
	return low + ((uint64_t)1 << shift) - 1;
}

static inline void hist_record(uint64_t v)
{
	hist[hist_index(v)]++;
	hist_count++;
	if (v > hist_max)
		hist_max = v;
}

static void hist_reset(void)
{
	memset(hist, 0, sizeof hist);
	hist_count = hist_max = 0;
}

static uint64_t hist_percentile(double percentile)
{
	if (hist_count == 0)
		return 0;
	uint64_t target = (uint64_t)(percentile / 100.0 * (double)hist_count + 0.5);
	if (target < 1)
		target = 1;
	uint64_t seen = 0;
	for (unsigned i = 0; i < BUCKETS; i++) {
		seen += hist[i];
		if (seen >= target) {
			uint64_t v = hist_highest(i);
			return v < hist_max ? v : hist_max;
		}
	}
	return hist_max;
}

/* ---- options ---------------------------------------------------------------------------------- */

static struct {
	const char *url;
	char host[256];
	char host_header[300];
	char target[2048];
	int port;
	int connections;
	long size;
	const char *message, *reply;   /* --message/--reply: a fixed request and the answer it must get */
	int pipelined;
	int in_flight_option;
	double duration, warmup;
	int text;
	int json;
	long server_pid; /* 0: none */
} opt = {.connections = 1, .size = 128, .in_flight_option = 16, .duration = 5.0, .warmup = 1.0};

static int in_flight; /* 1 or K */

static const char usage[] =
    "usage: ws-load [bench] URL [options]\n"
    "  A WebSocket echo load generator: C connections, ping-pong or pipelined, every echoed byte\n"
    "  checked; the plain-echo subset of `switchboard bench`, with the same --json line.\n"
    "  URL                    ws://HOST[:PORT][/PATH] of an echo endpoint (no wss)\n"
    "  -c, --connections N    connections (default 1)\n"
    "  -s, --size BYTES       message size, 0 to 16 MiB (default 128)\n"
    "  --message TEXT         send this text message instead (every time), and with\n"
    "  --reply TEXT           expect this text answer to it instead of an echo (e.g. a JSON-RPC call\n"
    "                         and its result: a subprotocol's cost against the echo floor)\n"
    "  --mode pingpong|pipelined   1 message in flight per connection, or K (default pingpong)\n"
    "  -k, --in-flight K      messages in flight per connection when pipelined (default 16)\n"
    "  -d, --duration S       seconds measured (default 5)\n"
    "  --warmup S             seconds of load before measuring (default 1)\n"
    "  --binary | --text      message type (default binary; text is printable ASCII)\n"
    "  --json                 print one JSON line instead of the table\n"
    "  --server-pid PID       also report that process's CPU use over the measured window\n"
    "  --threads 1, --channels 1   accepted for compatibility (one thread, plain connections)\n";

static long parse_long(const char *name, const char *v)
{
	char *end;
	errno = 0;
	long x = strtol(v, &end, 10);
	if (errno || end == v || *end)
		usage_error("%s wants an integer, not '%s'", name, v);
	return x;
}

static double parse_double(const char *name, const char *v)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (errno || end == v || *end || x != x)
		usage_error("%s wants a number, not '%s'", name, v);
	return x;
}

static void parse_url(const char *url)
{
	if (strncasecmp(url, "wss://", 6) == 0)
		usage_error("wss:// is not supported: %s", url);
	if (strncasecmp(url, "ws://", 5) != 0)
		usage_error("not a ws:// URL: %s", url);
	const char *rest = url + 5;
	if (strchr(rest, '#'))
		usage_error("a ws:// URL has no fragment: %s", url);
	size_t alen = strcspn(rest, "/?");
	const char *path = rest + alen;
	char authority[512];
	if (alen == 0 || alen >= sizeof authority)
		usage_error("no host in %s", url);
	memcpy(authority, rest, alen);
	authority[alen] = 0;
	char *a = strrchr(authority, '@');
	a = a ? a + 1 : authority;
	char *colon = strrchr(a, ':');
	opt.port = 80;
	if (a[0] == '[')
		usage_error("IPv6 hosts are not supported: %s", url);
	if (colon) {
		*colon = 0;
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || end == colon + 1 || p < 1 || p > 65535)
			usage_error("bad port in %s", url);
		opt.port = (int)p;
	}
	if (!*a || strlen(a) >= sizeof opt.host)
		usage_error("no host in %s", url);
	strcpy(opt.host, a);
	if (opt.port == 80)
		snprintf(opt.host_header, sizeof opt.host_header, "%s", opt.host);
	else
		snprintf(opt.host_header, sizeof opt.host_header, "%s:%d", opt.host, opt.port);
	if (strlen(path) + 2 > sizeof opt.target)
		usage_error("path too long in %s", url);
	snprintf(opt.target, sizeof opt.target, "%s%s", *path == '/' ? "" : "/", path);
}

static void parse_args(int argc, char **argv)
{
	int i = 1;
	if (i < argc && strcmp(argv[i], "bench") == 0)
		i++; /* `ws-load bench URL ...`, so that it can stand where `switchboard` did */
	for (; i < argc; i++) {
		char *a = argv[i];
		char name[64];
		const char *value = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (a[0] != '-' || a[1] == 0) {
			if (opt.url)
				usage_error("unexpected argument '%s'", a);
			opt.url = a;
			continue;
		}
		/* --name=value */
		const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
		if (eq) {
			size_t n = (size_t)(eq - a);
			if (n >= sizeof name)
				usage_error("unknown option %s", a);
			memcpy(name, a, n);
			name[n] = 0;
			value = eq + 1;
		} else {
			snprintf(name, sizeof name, "%s", a);
		}
#define IS(x) (strcmp(name, x) == 0)
#define VALUE() (value ? value : (i + 1 < argc ? argv[++i] : (usage_error("%s needs a value", name), "")))
		if (IS("--binary") || IS("--text") || IS("--json") || IS("--deflate") || IS("--handshakes")) {
			if (value)
				usage_error("%s takes no value", name);
			if (IS("--binary"))
				opt.text = 0;
			else if (IS("--text"))
				opt.text = 1;
			else if (IS("--json"))
				opt.json = 1;
			else
				usage_error("%s is not supported by ws-load (plain echo only): use switchboard bench", name);
		} else if (IS("-c") || IS("--connections")) {
			opt.connections = (int)parse_long(name, VALUE());
		} else if (IS("-s") || IS("--size")) {
			opt.size = parse_long(name, VALUE());
		} else if (IS("--message")) {
			opt.message = VALUE();
		} else if (IS("--reply")) {
			opt.reply = VALUE();
		} else if (IS("--mode")) {
			const char *m = VALUE();
			if (strcmp(m, "pingpong") == 0)
				opt.pipelined = 0;
			else if (strcmp(m, "pipelined") == 0)
				opt.pipelined = 1;
			else
				usage_error("--mode is pingpong or pipelined, not '%s'", m);
		} else if (IS("-k") || IS("--in-flight")) {
			opt.in_flight_option = (int)parse_long(name, VALUE());
		} else if (IS("-d") || IS("--duration")) {
			opt.duration = parse_double(name, VALUE());
		} else if (IS("--warmup")) {
			opt.warmup = parse_double(name, VALUE());
		} else if (IS("--server-pid")) {
			opt.server_pid = parse_long(name, VALUE());
		} else if (IS("--threads") || IS("--channels")) {
			if (parse_long(name, VALUE()) != 1)
				usage_error("ws-load has one thread and plain connections: %s must be 1", name);
		} else if (IS("--deflate-level")) {
			usage_error("%s is not supported by ws-load (plain echo only): use switchboard bench", name);
		} else {
			usage_error("unknown option %s", a);
		}
#undef IS
#undef VALUE
	}
	if (!opt.url)
		usage_error("no URL given");
	if (opt.connections < 1)
		usage_error("--connections must be at least 1");
	if (opt.size < 0 || opt.size > MAX_SIZE)
		usage_error("--size must be between 0 and 16 MiB");
	if (opt.in_flight_option < 1 || opt.in_flight_option > 1 << 20)
		usage_error("--in-flight must be at least 1");
	if (!(opt.duration > 0))
		usage_error("--duration must be positive");
	if (!(opt.warmup >= 0))
		usage_error("--warmup must not be negative");
	if (opt.server_pid < 0)
		usage_error("--server-pid must be a process id");
	if ((opt.message == NULL) != (opt.reply == NULL))
		usage_error("--message and --reply go together");
	if (opt.message) {
		opt.text = 1;
		opt.size = (long)strlen(opt.message);
	}
	parse_url(opt.url);
	in_flight = opt.pipelined ? opt.in_flight_option : 1;
}

/* ---- the messages --------------------------------------------------------------------------- */

static size_t size;                    /* message size */
static uint8_t *payloads[VARIANTS];    /* what is sent */
static const uint8_t *expected_payloads[VARIANTS]; /* what each answer must equal: the payload, or --reply */
static size_t expect_size;             /* the answer's size */
static uint8_t *frames[VARIANTS];      /* the same, as complete masked client frames */
static size_t frame_len;
static uint8_t close_frame[8];         /* masked close, status 1000 */

/* Byte i of payload `variant`, as BenchPayloads.byte(at:variant:kind:). */
static uint8_t payload_byte(size_t i, int variant, int text)
{
	uint64_t mixed = (uint64_t)i * 131 + (uint64_t)variant * 29 + (uint64_t)(i >> 7) * 7;
	return text ? (uint8_t)(0x20 + mixed % 95) : (uint8_t)(mixed ^ (mixed >> 8));
}

static size_t write_header(uint8_t *out, int opcode, uint64_t len, const uint8_t mask[4])
{
	size_t n = 0;
	out[n++] = (uint8_t)(0x80 | opcode);
	if (len < 126) {
		out[n++] = (uint8_t)(0x80 | len);
	} else if (len <= 0xFFFF) {
		out[n++] = 0x80 | 126;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x80 | 127;
		for (int s = 56; s >= 0; s -= 8)
			out[n++] = (uint8_t)(len >> s);
	}
	memcpy(out + n, mask, 4);
	return n + 4;
}

static void build_messages(void)
{
	size = (size_t)opt.size;
	int opcode = opt.text ? 1 : 2;
	for (int v = 0; v < VARIANTS; v++) {
		uint8_t mask[4];
		random_bytes(mask, 4);
		payloads[v] = xmalloc(size);
		frames[v] = xmalloc(size + 14);
		size_t h = write_header(frames[v], opcode, size, mask);
		for (size_t i = 0; i < size; i++) {
			payloads[v][i] = opt.message ? (uint8_t)opt.message[i] : payload_byte(i, v, opt.text);
			frames[v][h + i] = payloads[v][i] ^ mask[i & 3];
		}
		frame_len = h + size;
		expected_payloads[v] = opt.reply ? (const uint8_t *)opt.reply : payloads[v];
	}
	expect_size = opt.reply ? strlen(opt.reply) : size;
	uint8_t mask[4];
	random_bytes(mask, 4);
	size_t h = write_header(close_frame, 8, 2, mask);
	close_frame[h] = 0x03 ^ mask[0]; /* 1000 */
	close_frame[h + 1] = 0xE8 ^ mask[1];
}

/* ---- run state -------------------------------------------------------------------------------- */

enum phase { CONNECTING, HANDSHAKING, RUNNING, DRAINING, CLOSING, DONE };

struct conn {
	int fd;
	int index;
	enum phase phase;
	uint64_t sent, received;
	uint64_t *send_times;           /* by sequence number modulo in_flight */
	/* write queue: a ring of frame numbers (variants, or CLOSE_ENTRY), the first written up to woff */
	uint32_t *wq;
	uint32_t wq_head, wq_len, wq_cap;
	size_t woff;
	int watching_out;               /* EPOLLOUT asked for */
	/* handshake */
	uint64_t deadline;
	char accept[32];
	char *head;
	size_t head_len;
	/* echo parser: frame header being read, frame in progress, message in progress */
	uint8_t hdr[14];
	uint8_t hdr_len;
	uint8_t in_frame, frame_opcode, frame_fin;
	uint64_t frame_left;
	uint8_t control[125];
	uint8_t control_len;
	uint8_t in_message, faulted;
	uint64_t message_offset;
	char fault[200];
};

static struct conn *conns;
static int epfd;
static uint8_t rbuf[READ_BUFFER];
static uint64_t frame_limit;             /* longest echo frame accepted, as switchboard bench */

static int measuring;
static uint64_t messages, payload_bytes, mismatches;
static char samples[5][300];
static int sample_count;
static char errors[20][300];
static int error_count, error_total;
static int handshaking, done_count; /* connections with a handshake pending; closed ones */

static void record_mismatch(const char *fmt, ...)
{
	mismatches++;
	if (sample_count < 5) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(samples[sample_count++], sizeof samples[0], fmt, ap);
		va_end(ap);
	}
}

static void record_error(const char *fmt, ...)
{
	error_total++;
	if (error_count < 20) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(errors[error_count++], sizeof errors[0], fmt, ap);
		va_end(ap);
	}
}

static void close_conn(struct conn *c)
{
	if (c->phase == DONE)
		return;
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->phase = DONE;
	free(c->head);
	c->head = NULL;
	done_count++;
}

/* A connection that failed after its handshake: noted, closed; the run goes on and fails at the end. */
static void fail(struct conn *c, const char *fmt, ...)
{
	if (c->phase == DONE)
		return;
	char text[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	record_error("connection %d: %s", c->index, text);
	close_conn(c);
}

static void watch(struct conn *c, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

/* ---- sending ---------------------------------------------------------------------------------- */

static inline void enqueue(struct conn *c, uint32_t entry)
{
	c->wq[(c->wq_head + c->wq_len) % c->wq_cap] = entry;
	c->wq_len++;
}

static inline void send_message(struct conn *c, uint64_t now)
{
	c->send_times[c->sent % (uint64_t)in_flight] = now;
	enqueue(c, (uint32_t)((c->sent + (uint64_t)c->index) % VARIANTS));
	c->sent++;
}

static inline const uint8_t *entry_bytes(uint32_t e, size_t *len)
{
	if (e == CLOSE_ENTRY) {
		*len = sizeof close_frame;
		return close_frame;
	}
	*len = frame_len;
	return frames[e];
}

/* Writes the queue, in one writev() when it all fits; asks for EPOLLOUT when the socket is full. */
static void flush(struct conn *c)
{
	while (c->wq_len > 0 && c->phase != DONE) {
		struct iovec iov[MAX_IOV];
		int n = 0;
		size_t total = 0;
		for (uint32_t i = 0; i < c->wq_len && n < MAX_IOV; i++) {
			size_t len;
			const uint8_t *p = entry_bytes(c->wq[(c->wq_head + i) % c->wq_cap], &len);
			if (i == 0) {
				p += c->woff;
				len -= c->woff;
			}
			iov[n].iov_base = (void *)p;
			iov[n].iov_len = len;
			total += len;
			n++;
		}
		ssize_t w = n == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) : writev(c->fd, iov, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			fail(c, "write failed after %" PRIu64 " echoes: %s", c->received, strerror(errno));
			return;
		}
		size_t left = (size_t)w;
		while (left > 0) {
			size_t len;
			entry_bytes(c->wq[c->wq_head], &len);
			size_t rest = len - c->woff;
			if (left < rest) {
				c->woff += left;
				break;
			}
			left -= rest;
			c->woff = 0;
			c->wq_head = (c->wq_head + 1) % c->wq_cap;
			c->wq_len--;
		}
		if ((size_t)w < total)
			break; /* the socket is full: wait for EPOLLOUT rather than try again now */
	}
	if (c->phase == DONE)
		return;
	int want = c->wq_len > 0;
	if (want != c->watching_out) {
		c->watching_out = want;
		watch(c, EPOLLIN | (want ? EPOLLOUT : 0));
	}
}

static void send_close(struct conn *c)
{
	c->phase = CLOSING;
	enqueue(c, CLOSE_ENTRY);
}

/* ---- reading echoes --------------------------------------------------------------------------- */

/* Header length of the frame at h when all of it is there, else 0. */
static inline size_t header_length(const uint8_t *h, size_t avail)
{
	if (avail < 2)
		return 0;
	uint8_t l = h[1] & 0x7F;
	size_t n = 2 + (l == 126 ? 2 : l == 127 ? 8 : 0) + (h[1] & 0x80 ? 4 : 0);
	return avail >= n ? n : 0;
}

static void describe_difference(struct conn *c, const uint8_t *got, const uint8_t *expected, size_t n, uint64_t offset)
{
	for (size_t i = 0; i < n; i++) {
		if (got[i] != expected[i]) {
			snprintf(c->fault, sizeof c->fault, "byte %" PRIu64 " is 0x%x where 0x%x was due", offset + i, got[i], expected[i]);
			return;
		}
	}
	snprintf(c->fault, sizeof c->fault, "differs");
}

static void set_fault(struct conn *c, const char *fmt, ...)
{
	if (c->faulted)
		return;
	c->faulted = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->fault, sizeof c->fault, fmt, ap);
	va_end(ap);
}

static void peer_closed(struct conn *c)
{
	if (c->phase != CLOSING) {
		char code[16] = "none";
		if (c->control_len >= 2)
			snprintf(code, sizeof code, "%u", (unsigned)c->control[0] << 8 | c->control[1]);
		record_error("connection %d: the server closed the connection (code %s) after %" PRIu64 " echoes, %" PRIu64 " in flight",
			     c->index, code, c->received, c->sent - c->received);
	}
	close_conn(c);
}

/* A whole echo has been read (its last frame). */
static inline void message_done(struct conn *c, uint64_t now)
{
	if (!c->faulted && c->message_offset != expect_size)
		set_fault(c, "%" PRIu64 " bytes where %zu were due", c->message_offset, expect_size);
	if (c->faulted) {
		record_mismatch("connection %d, message %" PRIu64 ": %s", c->index, c->received, c->fault);
		c->faulted = 0;
	} else if (measuring) {
		messages++;
		payload_bytes += size;
		hist_record(now - c->send_times[c->received % (uint64_t)in_flight]);
	}
	c->received++;
	c->in_message = 0;
	c->message_offset = 0;
	if (c->phase == RUNNING)
		send_message(c, now);
	else if (c->phase == DRAINING && c->received == c->sent)
		send_close(c);
}

/* The frame in progress has all its payload. */
static inline void frame_done(struct conn *c, uint64_t now)
{
	c->in_frame = 0;
	switch (c->frame_opcode) {
	case 0:
	case 1:
	case 2:
		if (c->frame_fin)
			message_done(c, now);
		break;
	case 8:
		peer_closed(c);
		break;
	case 9:
		fail(c, "the server sent a ping (ws-load does not answer pings: turn the server's heartbeat off)");
		break;
	default: /* 10: an unsolicited pong, ignored as switchboard bench does */
		break;
	}
}

/* Starts the frame whose complete header is at h; 0, or -1 when the connection failed. */
static int frame_start(struct conn *c, const uint8_t *h, uint64_t now)
{
	uint8_t b0 = h[0], b1 = h[1];
	int opcode = b0 & 0x0F;
	uint64_t len = b1 & 0x7F;
	if (len == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (len == 127) {
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | h[i];
	}
	if (b0 & 0x70) {
		fail(c, "the server broke the protocol: reserved bits set (0x%02x)", b0);
		return -1;
	}
	if (b1 & 0x80) {
		fail(c, "the server broke the protocol: a masked frame");
		return -1;
	}
	c->frame_opcode = (uint8_t)opcode;
	c->frame_fin = b0 >> 7;
	c->frame_left = len;
	c->in_frame = 1;
	if (opcode >= 8) {
		if (opcode > 10) {
			fail(c, "the server broke the protocol: opcode %d", opcode);
			return -1;
		}
		if (!c->frame_fin || len > 125) {
			fail(c, "the server broke the protocol: a fragmented or long control frame");
			return -1;
		}
		c->control_len = 0;
	} else {
		if (opcode > 2) {
			fail(c, "the server broke the protocol: opcode %d", opcode);
			return -1;
		}
		if (len > frame_limit) {
			fail(c, "the server broke the protocol: a frame of %" PRIu64 " bytes", len);
			return -1;
		}
		int expected = c->in_message ? 0 : opt.text ? 1 : 2;
		if (!c->in_message) {
			if (c->received >= c->sent) {
				record_mismatch("connection %d: a message came back that was not sent (after %" PRIu64 " echoes)", c->index, c->received);
				fail(c, "the server sent more messages than it was sent");
				return -1;
			}
			c->in_message = 1;
		}
		if (opcode != expected)
			set_fault(c, "opcode %d where %d was due", opcode, expected);
		else if (c->message_offset + len > expect_size)
			set_fault(c, "longer than the %zu bytes due", expect_size);
	}
	if (len == 0)
		frame_done(c, now);
	return 0;
}

/* Bytes read from the server once the handshake is done. */
static void on_bytes(struct conn *c, const uint8_t *buf, size_t n, uint64_t now)
{
	size_t p = 0;
	while (p < n && c->phase != DONE) {
		if (!c->in_frame) {
			const uint8_t *h;
			if (c->hdr_len == 0) {
				size_t hl = header_length(buf + p, n - p);
				if (hl == 0) {
					memcpy(c->hdr, buf + p, n - p);
					c->hdr_len = (uint8_t)(n - p);
					return;
				}
				h = buf + p;
				p += hl;
			} else {
				size_t take = sizeof c->hdr - c->hdr_len;
				if (take > n - p)
					take = n - p;
				memcpy(c->hdr + c->hdr_len, buf + p, take);
				size_t hl = header_length(c->hdr, c->hdr_len + take);
				if (hl == 0) {
					c->hdr_len += (uint8_t)take;
					return;
				}
				p += hl - c->hdr_len;
				c->hdr_len = 0;
				h = c->hdr;
			}
			if (frame_start(c, h, now) < 0)
				return;
			continue;
		}
		size_t m = n - p;
		if (m > c->frame_left)
			m = (size_t)c->frame_left;
		if (c->frame_opcode >= 8) {
			memcpy(c->control + c->control_len, buf + p, m);
			c->control_len += (uint8_t)m;
		} else {
			if (!c->faulted) {
				const uint8_t *expected = expected_payloads[(c->received + (uint64_t)c->index) % VARIANTS] + c->message_offset;
				if (memcmp(buf + p, expected, m) != 0) {
					c->faulted = 1;
					describe_difference(c, buf + p, expected, m, c->message_offset);
				}
			}
			c->message_offset += m;
		}
		p += m;
		c->frame_left -= m;
		if (c->frame_left == 0)
			frame_done(c, now);
	}
}

/* ---- connecting and the handshake --------------------------------------------------------------- */

static struct sockaddr_in server_address;

static void handshake_failed(struct conn *c, const char *fmt, ...)
{
	char text[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	die("connection %d: handshake failed: %s", c->index, text);
}

static void start_connect(struct conn *c)
{
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket: %s", strerror(errno));
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->phase = CONNECTING;
	handshaking++;
	c->deadline = now_ns() + HANDSHAKE_TIMEOUT_NS;
	if (connect(c->fd, (struct sockaddr *)&server_address, sizeof server_address) < 0 && errno != EINPROGRESS)
		die("connection %d: connect to %s:%d: %s", c->index, opt.host, opt.port, strerror(errno));
	struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
}

static void connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
	if (err)
		die("connection %d: connect to %s:%d: %s", c->index, opt.host, opt.port, strerror(err));
	uint8_t key_bytes[16];
	char key[32], request[4096], joined[80];
	uint8_t digest[20];
	random_bytes(key_bytes, sizeof key_bytes);
	base64(key_bytes, sizeof key_bytes, key);
	snprintf(joined, sizeof joined, "%s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", key);
	sha1(joined, strlen(joined), digest);
	base64(digest, sizeof digest, c->accept);
	int n = snprintf(request, sizeof request,
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 opt.target, opt.host_header, key);
	if (n < 0 || (size_t)n >= sizeof request)
		die("the request head is too long");
	ssize_t w = write(c->fd, request, (size_t)n);
	if (w != n)
		handshake_failed(c, "could not write the request: %s", w < 0 ? strerror(errno) : "short write");
	c->phase = HANDSHAKING;
	c->head = xmalloc(MAX_HEAD);
	c->head_len = 0;
	watch(c, EPOLLIN);
}

static void trim(char **s, char **end)
{
	while (*s < *end && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*end > *s && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
}

/* Whether the comma-separated list [s, end) holds `token` (any case). */
static int list_contains(char *s, char *end, const char *token)
{
	size_t tl = strlen(token);
	while (s < end) {
		char *comma = memchr(s, ',', (size_t)(end - s));
		char *e = comma ? comma : end;
		char *a = s, *b = e;
		trim(&a, &b);
		if ((size_t)(b - a) == tl && strncasecmp(a, token, tl) == 0)
			return 1;
		s = comma ? comma + 1 : end;
	}
	return 0;
}

/* Checks the response head [0, len) of c->head (without its blank line) as a client must (RFC 6455 §4.1). */
static void check_head(struct conn *c, char *head, size_t len)
{
	char *end = head + len;
	char *line_end = memmem(head, len, "\r\n", 2);
	if (!line_end)
		line_end = end;
	int status = 0;
	if ((size_t)(line_end - head) < 12 || strncmp(head, "HTTP/1.", 7) != 0 || head[8] != ' ' ||
	    sscanf(head + 9, "%3d", &status) != 1) {
		*line_end = 0;
		handshake_failed(c, "malformed status line: %s", head);
	}
	if (status != 101) {
		*line_end = 0;
		handshake_failed(c, "the server refused the upgrade: %s", head);
	}
	int upgrade = 0, connection = 0, accepts = 0, accepted = 0;
	for (char *line = line_end + 2; line < end;) {
		char *e = memmem(line, (size_t)(end - line), "\r\n", 2);
		if (!e)
			e = end;
		char *colon = memchr(line, ':', (size_t)(e - line));
		if (!colon) {
			*e = 0;
			handshake_failed(c, "malformed header line: %s", line);
		}
		char *name = line, *name_end = colon, *value = colon + 1, *value_end = e;
		trim(&value, &value_end);
		size_t nl = (size_t)(name_end - name);
#define NAMED(x) (nl == strlen(x) && strncasecmp(name, x, nl) == 0)
		if (NAMED("Upgrade"))
			upgrade |= list_contains(value, value_end, "websocket");
		else if (NAMED("Connection"))
			connection |= list_contains(value, value_end, "upgrade");
		else if (NAMED("Sec-WebSocket-Accept")) {
			accepts++;
			accepted = (size_t)(value_end - value) == strlen(c->accept) && memcmp(value, c->accept, strlen(c->accept)) == 0;
		} else if (NAMED("Sec-WebSocket-Extensions") && value_end > value)
			handshake_failed(c, "the server accepted an extension that was not offered");
		else if (NAMED("Sec-WebSocket-Protocol") && value_end > value)
			handshake_failed(c, "the server chose a subprotocol that was not offered");
#undef NAMED
		line = e + 2;
	}
	if (!upgrade)
		handshake_failed(c, "response Upgrade is not websocket");
	if (!connection)
		handshake_failed(c, "response Connection does not include Upgrade");
	if (accepts != 1 || !accepted)
		handshake_failed(c, "Sec-WebSocket-Accept does not match the key");
}

static void read_head(struct conn *c, const uint8_t *buf, size_t n, uint64_t now)
{
	size_t take = MAX_HEAD - c->head_len;
	if (take > n)
		take = n;
	memcpy(c->head + c->head_len, buf, take);
	size_t old = c->head_len;
	c->head_len += take;
	/* Search from a little before the new bytes, in case the blank line straddles two reads. */
	size_t from = old >= 3 ? old - 3 : 0;
	char *blank = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
	if (!blank) {
		if (c->head_len >= MAX_HEAD)
			handshake_failed(c, "response head larger than 16 KiB");
		return;
	}
	size_t head_end = (size_t)(blank - c->head) + 4;
	check_head(c, c->head, head_end - 2);
	c->phase = RUNNING;
	handshaking--;
	for (int i = 0; i < in_flight; i++)
		send_message(c, now);
	/* Whatever followed the head: first from the head buffer, then the rest of this read. */
	size_t rest_in_head = c->head_len - head_end;
	char *head = c->head;
	c->head = NULL;
	if (rest_in_head > 0)
		on_bytes(c, (uint8_t *)head + head_end, rest_in_head, now);
	free(head);
	if (take < n && c->phase != DONE)
		on_bytes(c, buf + take, n - take, now);
	if (c->phase != DONE)
		flush(c);
}

/* ---- events ----------------------------------------------------------------------------------- */

static void on_readable(struct conn *c)
{
	ssize_t n = read(c->fd, rbuf, sizeof rbuf);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		if (c->phase == HANDSHAKING)
			handshake_failed(c, "read: %s", strerror(errno));
		if (c->phase == CLOSING) {
			close_conn(c);
			return;
		}
		fail(c, "read failed after %" PRIu64 " echoes, %" PRIu64 " in flight: %s", c->received, c->sent - c->received, strerror(errno));
		return;
	}
	if (n == 0) {
		if (c->phase == HANDSHAKING)
			handshake_failed(c, "the server closed the connection during the handshake");
		if (c->phase == CLOSING) {
			close_conn(c);
			return;
		}
		fail(c, "TCP closed after %" PRIu64 " echoes, %" PRIu64 " still in flight", c->received, c->sent - c->received);
		return;
	}
	uint64_t now = now_ns();
	if (c->phase == HANDSHAKING) {
		read_head(c, rbuf, (size_t)n, now);
		return;
	}
	on_bytes(c, rbuf, (size_t)n, now);
	if (c->phase != DONE && c->wq_len > 0 && !c->watching_out)
		flush(c);
}

static void on_event(struct conn *c, uint32_t events)
{
	if (c->phase == DONE)
		return;
	if (c->phase == CONNECTING) {
		if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
			connected(c);
		return;
	}
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
		on_readable(c);
	if (c->phase != DONE && (events & EPOLLOUT))
		flush(c);
}

/* ---- CPU -------------------------------------------------------------------------------------- */

static double own_cpu_seconds(void)
{
	struct rusage u;
	getrusage(RUSAGE_SELF, &u);
	return (double)u.ru_utime.tv_sec + (double)u.ru_utime.tv_usec / 1e6 + (double)u.ru_stime.tv_sec +
	       (double)u.ru_stime.tv_usec / 1e6;
}

/* utime + stime of every thread of pid (fields 14 and 15 of /proc/PID/stat), or -1. */
static double process_cpu_seconds(long pid)
{
	if (pid <= 0)
		return -1;
	char path[64], text[2048];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, text, sizeof text - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = 0;
	char *paren = strrchr(text, ')'); /* comm may hold spaces and parentheses */
	unsigned long long utime, stime;
	if (!paren || sscanf(paren + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

struct cpu_sample {
	uint64_t wall;
	double own, server;
};

static struct cpu_sample cpu_sample(void)
{
	struct cpu_sample s = {now_ns(), own_cpu_seconds(), process_cpu_seconds(opt.server_pid)};
	return s;
}

/* ---- output ----------------------------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", f);
		else if (ch == '\r')
			fputs("\\r", f);
		else if (ch == '\t')
			fputs("\\t", f);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* ---- main ------------------------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	parse_args(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);

	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt.connections + 64) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *ai;
	int gai = getaddrinfo(opt.host, NULL, &hints, &ai);
	if (gai != 0)
		die("cannot resolve %s (IPv4): %s", opt.host, gai_strerror(gai));
	server_address = *(struct sockaddr_in *)ai->ai_addr;
	server_address.sin_port = htons((uint16_t)opt.port);
	freeaddrinfo(ai);

	build_messages();
	frame_limit = size + 1024 > (1u << 20) ? size + 1024 : (1u << 20);

	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1: %s", strerror(errno));
	conns = calloc((size_t)opt.connections, sizeof *conns);
	if (!conns)
		die("out of memory");
	for (int i = 0; i < opt.connections; i++) {
		struct conn *c = &conns[i];
		c->fd = -1;
		c->index = i;
		c->send_times = xmalloc(sizeof(uint64_t) * (size_t)in_flight);
		c->wq_cap = (uint32_t)in_flight + 2;
		c->wq = xmalloc(sizeof(uint32_t) * c->wq_cap);
	}

	enum { OPENING, WARMING, MEASURING, DRAINING_ALL } stage = OPENING;
	uint64_t started = now_ns(), next_deadline = 0;
	int next_to_open = 0;
	struct cpu_sample cpu_start = {0}, cpu_end = {0};
	uint64_t window_start = 0, window_end = 0;
	struct epoll_event events[512];

	for (;;) {
		uint64_t now = now_ns();
		if (stage == OPENING) {
			while (next_to_open < opt.connections && handshaking < HANDSHAKES_AT_ONCE)
				start_connect(&conns[next_to_open++]);
			for (int i = 0; i < next_to_open; i++)
				if ((conns[i].phase == CONNECTING || conns[i].phase == HANDSHAKING) && now > conns[i].deadline)
					handshake_failed(&conns[i], "no handshake answer within 10 s");
			if (next_to_open == opt.connections && handshaking == 0) {
				if (!opt.json)
					fprintf(stderr, "%d connection(s) open in %.2f s; warming up %.1f s, then measuring %.1f s\n",
						opt.connections, (double)(now - started) / 1e9, opt.warmup, opt.duration);
				stage = WARMING;
				next_deadline = now + (uint64_t)(opt.warmup * 1e9);
			}
		}
		if (stage == WARMING && now >= next_deadline) {
			cpu_start = cpu_sample();
			hist_reset();
			messages = payload_bytes = 0;
			window_start = now_ns();
			measuring = 1;
			stage = MEASURING;
			next_deadline = window_start + (uint64_t)(opt.duration * 1e9);
		}
		if (stage == MEASURING && now >= next_deadline) {
			window_end = now_ns();
			measuring = 0;
			cpu_end = cpu_sample();
			stage = DRAINING_ALL;
			next_deadline = window_end + DRAIN_TIMEOUT_NS;
			/* Stop: each connection waits for its echoes in flight (checked too), then sends a close. */
			for (int i = 0; i < opt.connections; i++) {
				struct conn *c = &conns[i];
				if (c->phase != RUNNING)
					continue;
				c->phase = DRAINING;
				if (c->received == c->sent) {
					send_close(c);
					flush(c);
				}
			}
		}
		if (stage == DRAINING_ALL) {
			if (done_count == opt.connections)
				break;
			if (now >= next_deadline) {
				for (int i = 0; i < opt.connections; i++) {
					struct conn *c = &conns[i];
					if (c->phase == DRAINING)
						fail(c, "%" PRIu64 " echo(es) still missing 5 s after the end (%" PRIu64 " received)",
						     c->sent - c->received, c->received);
					else
						close_conn(c);
				}
				break;
			}
		}
		int timeout = 100;
		if (stage != OPENING) {
			uint64_t left = next_deadline > now ? next_deadline - now : 0;
			timeout = (int)((left + 999999) / 1000000);
			if (timeout > 100)
				timeout = 100;
		}
		int n = epoll_wait(epfd, events, (int)(sizeof events / sizeof events[0]), timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++)
			on_event(events[i].data.ptr, events[i].events);
	}

	double seconds = window_end > window_start ? (double)(window_end - window_start) / 1e9 : 0;
	double rate = seconds > 0 ? (double)messages / seconds : 0;
	double bytes_rate = seconds > 0 ? (double)payload_bytes / seconds : 0;
	double wall = (double)(cpu_end.wall - cpu_start.wall) / 1e9;
	double gen_cpu = wall > 0 ? (cpu_end.own - cpu_start.own) / wall : 0;
	int have_server = opt.server_pid > 0 && cpu_start.server >= 0 && cpu_end.server >= 0 && wall > 0;
	double server_cpu = have_server ? (cpu_end.server - cpu_start.server) / wall : 0;
	double p50 = (double)hist_percentile(50) / 1000, p99 = (double)hist_percentile(99) / 1000;
	double p999 = (double)hist_percentile(99.9) / 1000, max = (double)hist_max / 1000;
	const char *kind = opt.text ? "text" : "binary";
	const char *mode = opt.pipelined ? "pipelined" : "pingpong";

	if (opt.json) {
		printf("{\"url\":");
		json_string(stdout, opt.url);
		printf(",\"mode\":\"%s\",\"connections\":%d,\"channels\":1,\"size\":%zu,\"kind\":\"%s\",\"in_flight\":%d,"
		       "\"threads\":1,\"deflate_offered\":false,\"extensions\":[],\"warmup_s\":%.3f,\"duration_s\":%.3f,"
		       "\"messages\":%" PRIu64 ",\"msgs_per_s\":%.1f,\"mb_per_s\":%.3f,\"p50_us\":%.1f,\"p99_us\":%.1f,"
		       "\"p999_us\":%.1f,\"max_us\":%.1f,\"generator_cpu\":%.3f,",
		       mode, opt.connections, size, kind, in_flight, opt.warmup, seconds, messages, rate, bytes_rate / 1e6, p50,
		       p99, p999, max, gen_cpu);
		if (have_server)
			printf("\"server_cpu\":%.3f,", server_cpu);
		else
			printf("\"server_cpu\":null,");
		printf("\"mismatches\":%" PRIu64 ",\"errors\":%d,\"generator\":\"ws-load\"}\n", mismatches, error_total);
	} else {
		char load[160];
		if (opt.pipelined)
			snprintf(load, sizeof load, "pipelined, %d in flight per connection", in_flight);
		else
			snprintf(load, sizeof load, "ping-pong");
		printf("ws-load %s\n", opt.url);
		printf("  load        %d connection(s), %zu-byte %s messages, %s, 1 generator thread (C, epoll)\n", opt.connections,
		       size, kind, load);
		printf("  extensions  none\n");
		printf("  measured    %.2f s after %.1f s of warm-up\n", seconds, opt.warmup);
		printf("  messages/s  %.0f\n", rate);
		printf("  MB/s        %.1f  (echoed payload, one direction)\n", bytes_rate / 1e6);
		printf("  latency µs  p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n", p50, p99, p999, max);
		printf("  cpu         generator %.0f%% of one core", gen_cpu * 100);
		if (have_server)
			printf(", server %.0f%%", server_cpu * 100);
		printf("\n  checked     %" PRIu64 " echoes measured, every echo of the run compared byte for byte: ", messages);
		if (mismatches == 0)
			printf("all matched\n");
		else
			printf("%" PRIu64 " MISMATCHED\n", mismatches);
	}
	fflush(stdout);
	if (mismatches > 0 || error_total > 0) {
		fputs("\nERROR: the run is not valid:", stderr);
		if (mismatches > 0)
			fprintf(stderr, " %" PRIu64 " echo(es) differed from what was due;", mismatches);
		if (error_total > 0)
			fprintf(stderr, " %d connection(s) failed;", error_total);
		fputc('\n', stderr);
		for (int i = 0; i < sample_count; i++)
			fprintf(stderr, "  %s\n", samples[i]);
		for (int i = 0; i < error_count; i++)
			fprintf(stderr, "  %s\n", errors[i]);
		return 1;
	}
	return 0;
}
