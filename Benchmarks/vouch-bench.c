/*
 * vouch-bench: a load generator for vouchd, and the same machinery against
 * Redis (the reference), plus an argon2id hashing loop and a start-up probe.
 *
 *   vouch-bench MODE [options]
 *
 * Modes against vouchd (--socket):
 *   ping        ping requests
 *   verify      verify_token of the seeded tokens (vouch-seed's derivation)
 *   get_user    get_user by username (user<i>)
 *   login       login user<i> with the seeded password (argon2id in the daemon)
 *   churn       connect, one login, close: a new connection per check (like a PAM module)
 * Against Redis (--socket is Redis's unix socket):
 *   redis-get   GET of one existing key (SET first by the tool)
 * Others:
 *   hashloop    argon2id_hash_raw in a tight loop on --threads threads (default nproc)
 *   startup     starts a command with a NOTIFY_SOCKET of its own, measures the time to
 *               READY=1 and the child's VmRSS; the child is left running (--pidfile)
 *
 * Every connection is a thread with a blocking socket; --depth requests are kept in
 * flight per connection (written together, answers read in batches).  Responses are
 * checked (status, request id, opcode, and for verify/get_user the user id); any
 * error marks the run failed.  Latency (send to receive) goes into a log-bucketed
 * histogram (~1.6% resolution).  Throughput counts answers received in the measured
 * window, after the warm-up.  CPU time of this process and of --server-pid comes
 * from /proc/PID/stat (utime+stime) over the window.
 *
 * Output: a human line on stderr, and one line on stdout:
 *   RESULT scenario=... mode=... conns=... depth=... rps=... p50_us=... ... status=ok|failed
 */
#define _GNU_SOURCE
#include <argon2.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- options ------------------------------------------------------------ */

enum mode { M_PING, M_VERIFY, M_GET_USER, M_LOGIN, M_CHURN, M_REDIS, M_HASHLOOP, M_STARTUP };

static struct {
    enum mode mode;
    const char *mode_name;
    const char *socket_path;
    const char *label;
    int conns;
    int depth;
    double warmup;
    double duration;
    pid_t server_pid;
    long users;
    long tokens;
    long token_users;
    const char *password;
    const char *redis_key;
    int redis_value_size;
    /* hashloop */
    uint32_t m_kib, t_cost, parallelism;
    int threads;
    /* startup */
    const char *notify_socket;
    const char *pidfile;
    const char *logfile;
    int settle_ms;
    double timeout;
} opt = {
    .conns = 16, .depth = 1, .warmup = 1.0, .duration = 5.0, .users = 100000, .tokens = 100000,
    .password = "bench password 1", .redis_key = "vouch:bench:key", .redis_value_size = 64,
    .m_kib = 19456, .t_cost = 2, .parallelism = 1, .settle_ms = 300, .timeout = 10.0,
};

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("vouch-bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- histogram: 64 sub-buckets per power of two (values in ns) ---------- */

#define SUB_BITS 6
#define SUB (1 << SUB_BITS)
#define NBUCKETS ((64 - SUB_BITS + 1) * SUB)

typedef struct {
    uint64_t counts[NBUCKETS];
    uint64_t total;
    uint64_t max;
} hist_t;

static int hist_index(uint64_t v) {
    if (v < SUB) return (int)v;
    int e = 63 - __builtin_clzll(v); /* >= SUB_BITS */
    int sub = (int)((v >> (e - SUB_BITS)) & (SUB - 1));
    return (e - SUB_BITS + 1) * SUB + sub;
}

static uint64_t hist_value(int idx) {
    if (idx < SUB) return (uint64_t)idx;
    int e = idx / SUB + SUB_BITS - 1;
    uint64_t sub = (uint64_t)(idx % SUB);
    uint64_t width = 1ull << (e - SUB_BITS);
    return ((SUB + sub) << (e - SUB_BITS)) + width / 2;
}

static void hist_add(hist_t *h, uint64_t v) {
    h->counts[hist_index(v)]++;
    h->total++;
    if (v > h->max) h->max = v;
}

static void hist_merge(hist_t *into, const hist_t *from) {
    for (int i = 0; i < NBUCKETS; i++) into->counts[i] += from->counts[i];
    into->total += from->total;
    if (from->max > into->max) into->max = from->max;
}

static double hist_pct_us(const hist_t *h, double q) {
    if (h->total == 0) return 0;
    uint64_t want = (uint64_t)(q * (double)h->total + 0.999999);
    if (want < 1) want = 1;
    uint64_t seen = 0;
    for (int i = 0; i < NBUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want) {
            uint64_t v = hist_value(i);
            if (v > h->max) v = h->max;
            return (double)v / 1000.0;
        }
    }
    return (double)h->max / 1000.0;
}

/* ---- /proc -------------------------------------------------------------- */

static double proc_cpu_seconds(pid_t pid) {
    char path[64], buf[2048];
    if (pid <= 0) return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    /* after ") ": field 3 is state; utime is field 14, stime 15 */
    unsigned long utime = 0, stime = 0;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 14) utime = strtoul(tok, NULL, 10);
        if (field == 15) {
            stime = strtoul(tok, NULL, 10);
            break;
        }
    }
    return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

static long proc_rss_bytes(pid_t pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
    fclose(f);
    return kb < 0 ? -1 : kb * 1024;
}

/* ---- socket helpers ----------------------------------------------------- */

static int connect_unix(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        close(fd);
        errno = ENAMETOOLONG;
        return -1;
    }
    strcpy(sa.sun_path, path);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    struct timeval tv = {.tv_sec = (time_t)opt.timeout, .tv_usec = 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* ---- tokens (same derivation as vouch-seed) ----------------------------- */

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* token i: "vch_" + base64url(SHA-256("vouch-bench-token-<i>")), 47 bytes, no NUL */
static void bench_token(long i, char out[47]) {
    char seed[64];
    int n = snprintf(seed, sizeof seed, "vouch-bench-token-%ld", i);
    uint8_t d[32];
    SHA256((const uint8_t *)seed, (size_t)n, d);
    memcpy(out, "vch_", 4);
    char *o = out + 4;
    int j = 0;
    for (; j + 3 <= 32; j += 3) {
        uint32_t v = (uint32_t)d[j] << 16 | (uint32_t)d[j + 1] << 8 | d[j + 2];
        *o++ = b64url[(v >> 18) & 63];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
        *o++ = b64url[v & 63];
    }
    uint32_t v = (uint32_t)d[30] << 16 | (uint32_t)d[31] << 8;
    *o++ = b64url[(v >> 18) & 63];
    *o++ = b64url[(v >> 12) & 63];
    *o++ = b64url[(v >> 6) & 63];
}

/* ---- request encoding --------------------------------------------------- */

static uint8_t *put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}
static uint8_t *put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
    return p + 4;
}
static uint8_t *put_str(uint8_t *p, const char *s, size_t n) {
    p = put_u16(p, (uint16_t)n);
    memcpy(p, s, n);
    return p + n;
}
static uint32_t get_u32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static int64_t get_i64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

enum { OP_PING = 0x02, OP_LOGIN = 0x11, OP_GET_USER = 0x14, OP_VERIFY = 0x20 };

static uint8_t mode_opcode(void) {
    switch (opt.mode) {
    case M_PING: return OP_PING;
    case M_VERIFY: return OP_VERIFY;
    case M_GET_USER: return OP_GET_USER;
    default: return OP_LOGIN;
    }
}

/* Writes request `seq` of this connection into p; returns its length and the
 * user id the answer must carry (0: not checked). */
static size_t encode_vouch(uint8_t *p, uint32_t id, long k, int64_t *expect) {
    uint8_t *start = p;
    p += 4;
    *p++ = 1;
    *p++ = mode_opcode();
    p = put_u32(p, id);
    *expect = 0;
    char name[32];
    switch (opt.mode) {
    case M_PING: break;
    case M_VERIFY: {
        long i = k % opt.tokens;
        char tok[47];
        bench_token(i, tok);
        p = put_str(p, tok, 47);
        *expect = i % opt.token_users + 1;
        break;
    }
    case M_GET_USER: {
        long u = k % opt.users + 1;
        int n = snprintf(name, sizeof name, "user%ld", u);
        *p++ = 3; /* by username */
        p = put_str(p, name, (size_t)n);
        *expect = u;
        break;
    }
    default: { /* login, churn */
        long u = k % opt.users + 1;
        int n = snprintf(name, sizeof name, "user%ld", u);
        p = put_str(p, name, (size_t)n);
        p = put_str(p, opt.password, strlen(opt.password));
        *p++ = 0;             /* options: no token */
        p = put_u16(p, 0);    /* service */
        p = put_u16(p, 0);    /* rhost */
        p = put_u16(p, 0);    /* tty */
        *expect = u;
        break;
    }
    }
    put_u32(start, (uint32_t)(p - start - 4));
    return (size_t)(p - start);
}

/* ---- the connection threads --------------------------------------------- */

#define RING 4096

typedef struct {
    uint64_t t_send;
    int64_t expect;
    uint32_t id;
    uint8_t busy;
} slot_t;

typedef struct {
    int index;
    pthread_t thread;
    hist_t hist;
    uint64_t done; /* answers received inside the window */
    uint64_t errors, busy_answers;
    char first_error[160];
    slot_t ring[RING];
} worker_t;

static _Atomic int phase; /* 0 warm-up, 1 measuring, 2 stop */
static char redis_get_cmd[256];
static size_t redis_get_len;

static void record_error(worker_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void record_error(worker_t *w, const char *fmt, ...) {
    w->errors++;
    if (w->first_error[0] == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(w->first_error, sizeof w->first_error, fmt, ap);
        va_end(ap);
    }
}

static void complete(worker_t *w, slot_t *s, uint64_t t) {
    s->busy = 0;
    if (atomic_load_explicit(&phase, memory_order_relaxed) == 1) {
        hist_add(&w->hist, t - s->t_send);
        w->done++;
    }
}

/* Checks one vouch answer frame (without its length prefix); 0 when good. */
static int check_vouch(worker_t *w, const uint8_t *f, size_t n, uint64_t t) {
    if (n < 8) {
        record_error(w, "short answer (%zu bytes)", n);
        return -1;
    }
    uint32_t id = get_u32(f + 2);
    slot_t *s = &w->ring[id % RING];
    if (!s->busy || s->id != id) {
        record_error(w, "answer for request id %u not in flight", id);
        return -1;
    }
    uint16_t status = (uint16_t)(f[6] << 8 | f[7]);
    if (f[0] != 1 || f[1] != mode_opcode()) {
        record_error(w, "bad version/opcode %u/%u", f[0], f[1]);
        s->busy = 0;
        return -1;
    }
    if (status != 0) {
        if (status == 11) w->busy_answers++;
        record_error(w, "status %u for request %u", status, id);
        s->busy = 0;
        return -1;
    }
    if (s->expect != 0) {
        if (n < 16 || get_i64(f + 8) != s->expect) {
            record_error(w, "answer %u names user %" PRId64 ", expected %" PRId64, id,
                         n >= 16 ? get_i64(f + 8) : -1, s->expect);
            s->busy = 0;
            return -1;
        }
    }
    complete(w, s, t);
    return 0;
}

/* Parses one RESP bulk-string answer at p (n bytes available); returns bytes
 * consumed, 0 if incomplete, -1 if not a bulk string of the expected size. */
static ssize_t parse_resp(const uint8_t *p, size_t n) {
    if (n < 1) return 0;
    const uint8_t *nl = memchr(p, '\n', n);
    if (!nl) return 0;
    if (p[0] != '$') return -1;
    long len = strtol((const char *)p + 1, NULL, 10);
    if (len != opt.redis_value_size) return -1;
    size_t need = (size_t)(nl - p + 1) + (size_t)len + 2;
    return n >= need ? (ssize_t)need : 0;
}

static void *conn_thread(void *arg) {
    worker_t *w = arg;
    int redis = opt.mode == M_REDIS;
    int fd = connect_unix(opt.socket_path);
    if (fd < 0) {
        record_error(w, "connect %s: %s", opt.socket_path, strerror(errno));
        return NULL;
    }
    size_t rcap = 1 << 16;
    uint8_t *rbuf = malloc(rcap);
    uint8_t *wbuf = malloc((size_t)opt.depth * 600 + 1024);
    size_t rlen = 0;
    uint32_t next_id = 1, oldest = 1; /* redis answers come in order */
    int outstanding = 0;
    /* spread the keys: each connection starts elsewhere */
    long k = (long)w->index * 7919;
    while (atomic_load_explicit(&phase, memory_order_relaxed) != 2) {
        size_t wlen = 0;
        uint64_t t = now_ns();
        while (outstanding < opt.depth) {
            uint32_t id = next_id++;
            slot_t *s = &w->ring[id % RING];
            if (s->busy) {
                /* vouch answers come in any order: a slow answer (a login
                 * behind fast `busy` refusals) may still hold this slot */
                if (!redis) continue;
                record_error(w, "request ring overflow");
                goto out;
            }
            if (redis) {
                memcpy(wbuf + wlen, redis_get_cmd, redis_get_len);
                wlen += redis_get_len;
                s->expect = 0;
            } else {
                wlen += encode_vouch(wbuf + wlen, id, k++, &s->expect);
            }
            s->id = id;
            s->busy = 1;
            s->t_send = t;
            outstanding++;
        }
        if (wlen && write_all(fd, wbuf, wlen) != 0) {
            record_error(w, "write: %s", strerror(errno));
            goto out;
        }
        ssize_t r = read(fd, rbuf + rlen, rcap - rlen);
        if (r <= 0) {
            if (r < 0 && errno == EINTR) continue;
            record_error(w, r == 0 ? "connection closed by the server" : "read: %s",
                         r == 0 ? "" : strerror(errno));
            goto out;
        }
        rlen += (size_t)r;
        t = now_ns();
        size_t off = 0;
        for (;;) {
            if (redis) {
                ssize_t used = parse_resp(rbuf + off, rlen - off);
                if (used == 0) break;
                if (used < 0) {
                    record_error(w, "unexpected redis answer '%.20s'", (const char *)rbuf + off);
                    goto out;
                }
                slot_t *s = &w->ring[oldest % RING];
                oldest++;
                complete(w, s, t);
                off += (size_t)used;
            } else {
                if (rlen - off < 4) break;
                uint32_t len = get_u32(rbuf + off);
                if (len > rcap - 4) {
                    record_error(w, "answer frame of %u bytes", len);
                    goto out;
                }
                if (rlen - off < 4 + (size_t)len) break;
                check_vouch(w, rbuf + off + 4, len, t);
                off += 4 + (size_t)len;
            }
            outstanding--;
        }
        memmove(rbuf, rbuf + off, rlen - off);
        rlen -= off;
    }
out:
    close(fd);
    free(rbuf);
    free(wbuf);
    return NULL;
}

/* churn: connect, one login, close, again */
static void *churn_thread(void *arg) {
    worker_t *w = arg;
    uint8_t buf[1024];
    long k = (long)w->index * 7919;
    uint32_t id = 1;
    while (atomic_load_explicit(&phase, memory_order_relaxed) != 2) {
        uint64_t t0 = now_ns();
        int fd = connect_unix(opt.socket_path);
        if (fd < 0) {
            record_error(w, "connect: %s", strerror(errno));
            usleep(10000);
            continue;
        }
        slot_t *s = &w->ring[id % RING];
        size_t n = encode_vouch(buf, id, k++, &s->expect);
        s->id = id;
        s->busy = 1;
        s->t_send = t0;
        id++;
        if (write_all(fd, buf, n) != 0) {
            record_error(w, "write: %s", strerror(errno));
            close(fd);
            continue;
        }
        size_t got = 0;
        for (;;) {
            ssize_t r = read(fd, buf + got, sizeof buf - got);
            if (r <= 0) {
                if (r < 0 && errno == EINTR) continue;
                record_error(w, "read: %s", r == 0 ? "closed" : strerror(errno));
                break;
            }
            got += (size_t)r;
            if (got >= 4 && got >= 4 + (size_t)get_u32(buf)) {
                check_vouch(w, buf + 4, get_u32(buf), now_ns());
                break;
            }
            if (got == sizeof buf) {
                record_error(w, "answer too large");
                break;
            }
        }
        close(fd);
    }
    return NULL;
}

/* hashloop: the daemon's argon2id work, without the daemon */
static void *hash_thread(void *arg) {
    worker_t *w = arg;
    uint8_t salt[16], out[32];
    memset(salt, 0x5a, sizeof salt);
    salt[0] = (uint8_t)w->index;
    while (atomic_load_explicit(&phase, memory_order_relaxed) != 2) {
        uint64_t t0 = now_ns();
        int rc = argon2id_hash_raw(opt.t_cost, opt.m_kib, opt.parallelism, opt.password, strlen(opt.password),
                                   salt, sizeof salt, out, sizeof out);
        if (rc != ARGON2_OK) {
            record_error(w, "argon2: %s", argon2_error_message(rc));
            break;
        }
        if (atomic_load_explicit(&phase, memory_order_relaxed) == 1) {
            hist_add(&w->hist, now_ns() - t0);
            w->done++;
        }
        salt[1]++;
    }
    return NULL;
}

static void redis_prepare(void) {
    char value[4096];
    if (opt.redis_value_size <= 0 || opt.redis_value_size >= (int)sizeof value) die("bad --value-size");
    memset(value, 'v', (size_t)opt.redis_value_size);
    size_t kl = strlen(opt.redis_key);
    char set[8192];
    int n = snprintf(set, sizeof set, "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$%d\r\n%.*s\r\n", kl, opt.redis_key,
                     opt.redis_value_size, opt.redis_value_size, value);
    redis_get_len = (size_t)snprintf(redis_get_cmd, sizeof redis_get_cmd, "*2\r\n$3\r\nGET\r\n$%zu\r\n%s\r\n", kl,
                                     opt.redis_key);
    int fd = connect_unix(opt.socket_path);
    if (fd < 0) die("connect %s: %s", opt.socket_path, strerror(errno));
    char reply[64] = {0};
    if (write_all(fd, (uint8_t *)set, (size_t)n) != 0 || read(fd, reply, sizeof reply - 1) <= 0 ||
        strncmp(reply, "+OK", 3) != 0)
        die("redis SET failed: %s", reply);
    close(fd);
}

static void sleep_seconds(double s) {
    struct timespec ts = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static int run_load(void) {
    int n = opt.mode == M_HASHLOOP ? opt.threads : opt.conns;
    void *(*fn)(void *) = opt.mode == M_HASHLOOP ? hash_thread : opt.mode == M_CHURN ? churn_thread : conn_thread;
    if (opt.mode == M_REDIS) redis_prepare();
    if (opt.mode == M_VERIFY && (opt.tokens <= 0 || opt.token_users <= 0)) die("verify needs --tokens and --token-users");
    worker_t **ws = calloc((size_t)n, sizeof *ws);
    for (int i = 0; i < n; i++) {
        ws[i] = calloc(1, sizeof **ws);
        ws[i]->index = i;
        if (pthread_create(&ws[i]->thread, NULL, fn, ws[i]) != 0) die("pthread_create failed");
    }
    sleep_seconds(opt.warmup);
    double c0 = proc_cpu_seconds(getpid()), s0 = proc_cpu_seconds(opt.server_pid);
    uint64_t t0 = now_ns();
    atomic_store(&phase, 1);
    sleep_seconds(opt.duration);
    atomic_store(&phase, 2);
    uint64_t t1 = now_ns();
    double c1 = proc_cpu_seconds(getpid()), s1 = proc_cpu_seconds(opt.server_pid);
    hist_t *h = calloc(1, sizeof *h);
    uint64_t done = 0, errors = 0, busy = 0;
    const char *first = NULL;
    for (int i = 0; i < n; i++) {
        pthread_join(ws[i]->thread, NULL);
        hist_merge(h, &ws[i]->hist);
        done += ws[i]->done;
        errors += ws[i]->errors;
        busy += ws[i]->busy_answers;
        if (!first && ws[i]->first_error[0]) first = ws[i]->first_error;
    }
    double secs = (double)(t1 - t0) / 1e9;
    double rps = (double)done / secs;
    double ccpu = c1 - c0, scpu = (opt.server_pid > 0 && s0 >= 0 && s1 >= 0) ? s1 - s0 : -1;
    const char *status = errors == 0 && done > 0 ? "ok" : "failed";
    printf("RESULT scenario=%s mode=%s conns=%d depth=%d threads=%d seconds=%.2f requests=%" PRIu64
           " rps=%.0f p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f errors=%" PRIu64
           " busy=%" PRIu64 " client_cpu=%.2f server_cpu=%.2f server_us_per_req=%.2f status=%s\n",
           opt.label ? opt.label : opt.mode_name, opt.mode_name, opt.mode == M_HASHLOOP ? 0 : opt.conns,
           opt.mode == M_HASHLOOP ? 0 : opt.depth, opt.mode == M_HASHLOOP ? opt.threads : opt.conns, secs, done,
           rps, hist_pct_us(h, 0.50), hist_pct_us(h, 0.90), hist_pct_us(h, 0.99), hist_pct_us(h, 0.999),
           (double)h->max / 1000.0, errors, busy, ccpu / secs, scpu >= 0 ? scpu / secs : -1,
           scpu >= 0 && done ? scpu * 1e6 / (double)done : -1, status);
    fprintf(stderr, "%s %s: %.0f req/s, p50 %.1f us, p99 %.1f us, %" PRIu64 " errors%s%s\n",
            opt.label ? opt.label : "", opt.mode_name, rps, hist_pct_us(h, 0.5), hist_pct_us(h, 0.99), errors,
            first ? ": first: " : "", first ? first : "");
    return errors == 0 && done > 0 ? 0 : 1;
}

/* ---- startup ------------------------------------------------------------ */

static int run_startup(char **argv) {
    if (!opt.notify_socket) die("startup needs --notify-socket");
    unlink(opt.notify_socket);
    int ns = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(opt.notify_socket) >= sizeof sa.sun_path) die("notify socket path too long");
    strcpy(sa.sun_path, opt.notify_socket);
    if (ns < 0 || bind(ns, (struct sockaddr *)&sa, sizeof sa) != 0) die("notify socket: %s", strerror(errno));
    struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
    setsockopt(ns, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    uint64_t t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) die("fork: %s", strerror(errno));
    if (pid == 0) {
        setenv("NOTIFY_SOCKET", opt.notify_socket, 1);
        /* never the bench's own stdout: a pipe reading it would wait for the daemon */
        int lf = open(opt.logfile ? opt.logfile : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (lf >= 0) {
            dup2(lf, 1);
            dup2(lf, 2);
        }
        setsid();
        execvp(argv[0], argv);
        _exit(127);
    }
    char msg[4096];
    uint64_t ready = 0;
    while (!ready) {
        ssize_t r = recv(ns, msg, sizeof msg - 1, 0);
        if (r > 0) {
            msg[r] = 0;
            if (strstr(msg, "READY=1")) ready = now_ns();
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) die("%s exited before READY=1 (status %d)", argv[0], st);
        if ((double)(now_ns() - t0) / 1e9 > 300) {
            kill(pid, SIGTERM);
            die("no READY=1 within 300 s");
        }
    }
    close(ns);
    unlink(opt.notify_socket);
    double ms = (double)(ready - t0) / 1e6;
    usleep((useconds_t)opt.settle_ms * 1000);
    long rss = proc_rss_bytes(pid);
    if (opt.pidfile) {
        FILE *f = fopen(opt.pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)pid);
            fclose(f);
        }
    }
    printf("RESULT scenario=%s mode=startup pid=%d ready_ms=%.1f rss_bytes=%ld status=ok\n",
           opt.label ? opt.label : "startup", (int)pid, ms, rss);
    fprintf(stderr, "%s: READY after %.1f ms, VmRSS %.1f MiB (pid %d)\n", opt.label ? opt.label : "startup", ms,
            (double)rss / 1048576.0, (int)pid);
    return 0;
}

/* ---- main --------------------------------------------------------------- */

static void usage(void) {
    fputs("usage: vouch-bench ping|verify|get_user|login|churn|redis-get|hashloop [options]\n"
          "       vouch-bench startup --notify-socket PATH [--pidfile F] [--log F] -- COMMAND...\n"
          "  --socket PATH  --conns N (16)  --depth P (1)  --warmup S (1)  --duration S (5)\n"
          "  --server-pid PID  --label NAME  --users N (100000)  --tokens M (100000)\n"
          "  --token-users K (= users)  --password P  --key K  --value-size B (64)\n"
          "  --m KiB (19456)  --t N (2)  --p N (1)  --threads N (nproc)  --timeout S (10)\n",
          stderr);
    exit(2);
}

int main(int argc, char **argv) {
    if (argc < 2) usage();
    signal(SIGPIPE, SIG_IGN);
    const char *m = argv[1];
    static const struct { const char *name; enum mode mode; } modes[] = {
        {"ping", M_PING}, {"verify", M_VERIFY}, {"get_user", M_GET_USER}, {"login", M_LOGIN},
        {"churn", M_CHURN}, {"redis-get", M_REDIS}, {"hashloop", M_HASHLOOP}, {"startup", M_STARTUP},
    };
    int found = 0;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        if (strcmp(m, modes[i].name) == 0) {
            opt.mode = modes[i].mode;
            opt.mode_name = modes[i].name;
            found = 1;
        }
    if (!found) usage();
    opt.threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
    opt.token_users = -1;
    static struct option longopts[] = {
        {"socket", 1, 0, 's'}, {"conns", 1, 0, 'c'}, {"depth", 1, 0, 'd'}, {"warmup", 1, 0, 'w'},
        {"duration", 1, 0, 'D'}, {"server-pid", 1, 0, 'P'}, {"label", 1, 0, 'l'}, {"users", 1, 0, 'u'},
        {"tokens", 1, 0, 'T'}, {"token-users", 1, 0, 'U'}, {"password", 1, 0, 'p'}, {"key", 1, 0, 'k'},
        {"value-size", 1, 0, 'V'}, {"m", 1, 0, 'M'}, {"t", 1, 0, 't'}, {"p", 1, 0, 'q'},
        {"threads", 1, 0, 'n'}, {"notify-socket", 1, 0, 'N'}, {"pidfile", 1, 0, 'f'}, {"log", 1, 0, 'L'},
        {"settle-ms", 1, 0, 'S'}, {"timeout", 1, 0, 'o'}, {0, 0, 0, 0},
    };
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': opt.socket_path = optarg; break;
        case 'c': opt.conns = atoi(optarg); break;
        case 'd': opt.depth = atoi(optarg); break;
        case 'w': opt.warmup = atof(optarg); break;
        case 'D': opt.duration = atof(optarg); break;
        case 'P': opt.server_pid = atoi(optarg); break;
        case 'l': opt.label = optarg; break;
        case 'u': opt.users = atol(optarg); break;
        case 'T': opt.tokens = atol(optarg); break;
        case 'U': opt.token_users = atol(optarg); break;
        case 'p': opt.password = optarg; break;
        case 'k': opt.redis_key = optarg; break;
        case 'V': opt.redis_value_size = atoi(optarg); break;
        case 'M': opt.m_kib = (uint32_t)atol(optarg); break;
        case 't': opt.t_cost = (uint32_t)atol(optarg); break;
        case 'q': opt.parallelism = (uint32_t)atol(optarg); break;
        case 'n': opt.threads = atoi(optarg); break;
        case 'N': opt.notify_socket = optarg; break;
        case 'f': opt.pidfile = optarg; break;
        case 'L': opt.logfile = optarg; break;
        case 'S': opt.settle_ms = atoi(optarg); break;
        case 'o': opt.timeout = atof(optarg); break;
        default: usage();
        }
    }
    if (opt.token_users < 0) opt.token_users = opt.users;
    if (opt.mode == M_STARTUP) {
        if (optind >= argc) usage();
        return run_startup(argv + optind);
    }
    if (opt.mode != M_HASHLOOP && !opt.socket_path) die("--socket is required");
    if (opt.conns < 1 || opt.depth < 1 || opt.depth > RING / 2 || opt.threads < 1) die("bad --conns/--depth/--threads");
    return run_load();
}
