/* libvouch: the connection: connect with a timeout, send and receive frames
 * with poll() against a deadline, one request in flight per handle. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "vouch_internal.h"

int64_t vch_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until the deadline.  1 ready, else a code. */
static int wait_fd(int fd, short events, int64_t deadline) {
    for (;;) {
        int64_t left = deadline - vch_now_ms();
        if (left <= 0) return VOUCH_ERR_TIMEOUT;
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0) return 1; /* errors and hangups are reported by the next read/write */
        if (n == 0) continue;
        if (errno == EINTR) continue;
        return VOUCH_ERR_IO;
    }
}

void vch_disconnect(vouch_client *c) {
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
}

/* Whether the peer of a connected socket is a daemon this handle trusts:
 * root, the configured daemon user or the caller itself. */
static int trusted_peer(const vouch_client *c, int fd) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) return 0;
    return cred.uid == 0 || cred.uid == geteuid() || (int64_t)cred.uid == c->server_uid;
}

int vch_ensure_connected(vouch_client *c, int64_t deadline) {
    if (c->fd >= 0) return VOUCH_OK;
    if (c->path == NULL) return VOUCH_ERR_CLOSED;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t n = strlen(c->path);
    if (n == 0 || n >= sizeof sa.sun_path) return VOUCH_ERR_INVALID_ARGUMENT;
    memcpy(sa.sun_path, c->path, n);

    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return errno == ENOMEM || errno == ENOBUFS ? VOUCH_ERR_NOMEM : VOUCH_ERR_CONNECT;
    for (;;) {
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) break;
        int e = errno;
        if (e == EINTR) continue;
        if (e == EAGAIN) {
            /* the listen backlog is full: retry until the deadline */
            int64_t left = deadline - vch_now_ms();
            if (left <= 0) {
                close(fd);
                return VOUCH_ERR_TIMEOUT;
            }
            struct timespec ts = {0, (left < 10 ? left : 10) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        if (e == EINPROGRESS) {
            int w = wait_fd(fd, POLLOUT, deadline);
            if (w < 0) {
                close(fd);
                return w;
            }
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
                close(fd);
                errno = soerr;
                return VOUCH_ERR_CONNECT;
            }
            break;
        }
        close(fd);
        errno = e;
        return VOUCH_ERR_CONNECT;
    }
    if (!trusted_peer(c, fd)) { /* before any password is sent */
        close(fd);
        return VOUCH_ERR_UNTRUSTED_SERVER;
    }
    c->fd = fd;
    return VOUCH_OK;
}

static int send_all(vouch_client *c, const uint8_t *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR) continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int r = wait_fd(c->fd, POLLOUT, deadline);
            if (r < 0) return r;
            continue;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) return VOUCH_ERR_CLOSED;
        return VOUCH_ERR_IO;
    }
    return VOUCH_OK;
}

static int recv_all(vouch_client *c, uint8_t *p, size_t n, int64_t deadline) {
    while (n > 0) {
        ssize_t r = recv(c->fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0) return VOUCH_ERR_CLOSED;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            int w = wait_fd(c->fd, POLLIN, deadline);
            if (w < 0) return w;
            continue;
        }
        if (errno == ECONNRESET) return VOUCH_ERR_CLOSED;
        return VOUCH_ERR_IO;
    }
    return VOUCH_OK;
}

/* Reads one frame: the prefix is checked against the cap before anything
 * is allocated or read (OpenSSH authfd.c style). */
static int read_frame(vouch_client *c, vch_buf *out, int64_t deadline) {
    uint8_t prefix[4];
    int rc = recv_all(c, prefix, 4, deadline);
    if (rc) return rc;
    uint32_t n = (uint32_t)prefix[0] << 24 | (uint32_t)prefix[1] << 16 |
                 (uint32_t)prefix[2] << 8 | prefix[3];
    rc = vch_check_reply_length(n, c->max_reply);
    if (rc) return rc;
    out->data = malloc(n);
    if (out->data == NULL) return VOUCH_ERR_NOMEM;
    out->cap = n;
    rc = recv_all(c, out->data, n, deadline);
    if (rc) return rc;
    out->len = n;
    return VOUCH_OK;
}

static int drops_connection(int rc) {
    return rc == VOUCH_ERR_TIMEOUT || rc == VOUCH_ERR_PROTOCOL || rc == VOUCH_ERR_CLOSED ||
           rc == VOUCH_ERR_IO || rc == VOUCH_ERR_FRAME_TOO_LARGE || rc == VOUCH_ERR_NOMEM ||
           rc == VOUCH_ERR_BAD_REQUEST || rc == VOUCH_ERR_REFUSED;
}

int vch_roundtrip(vouch_client *c, vch_buf *req, uint8_t opcode, uint32_t id, vch_buf *reply,
                  uint16_t *status, vch_reader *r) {
    int64_t deadline = vch_now_ms() + c->timeout_ms;
    c->last_message[0] = '\0';
    vch_buf_init(reply);
    int rc = vch_finish_frame(req);
    if (rc) return rc;
    if (req->len - VCH_LENGTH_PREFIX > c->max_request) return VOUCH_ERR_TOO_LONG;
    errno = 0; /* an end of file sets none: last_errno is then 0 */
    int reused = c->fd >= 0;
    rc = vch_ensure_connected(c, deadline);
    if (rc == VOUCH_OK) rc = send_all(c, req->data, req->len, deadline);
    if (rc == VOUCH_ERR_CLOSED && reused && c->path != NULL) {
        /* The daemon had closed the connection (idle timeout, restart) before
         * the whole request reached it: it cannot have acted on it.  Once
         * more, on a new connection (a handle made from an fd has no path to
         * reconnect to: it keeps the old connection, to read a refusal). */
        vch_disconnect(c);
        rc = vch_ensure_connected(c, deadline);
        if (rc == VOUCH_OK) rc = send_all(c, req->data, req->len, deadline);
    }
    /* A daemon that refused the connection may have closed it before the
     * request went out: its refusal frame is still there to read. */
    if (rc == VOUCH_OK || (rc == VOUCH_ERR_CLOSED && c->fd >= 0)) {
        int sent = rc;
        rc = read_frame(c, reply, deadline);
        if (rc == VOUCH_OK && sent != VOUCH_OK) {
            uint16_t st = 0;
            vch_reader rr;
            rc = vch_parse_response(reply->data, reply->len, opcode, 0, &st, &rr, c->last_message,
                                    sizeof c->last_message) == VOUCH_ERR_REFUSED
                     ? VOUCH_ERR_REFUSED
                     : sent;
        }
    }
    if (rc == VOUCH_OK)
        rc = vch_parse_response(reply->data, reply->len, opcode, id, status, r, c->last_message,
                                sizeof c->last_message);
    c->last_errno = rc == VOUCH_ERR_CONNECT || rc == VOUCH_ERR_IO || rc == VOUCH_ERR_CLOSED ? errno : 0;
    /* A connection-level refusal arrives as a status code with id 0. */
    if (rc != VOUCH_OK) {
        if (drops_connection(rc)) vch_disconnect(c);
        vch_buf_free(reply);
    }
    return rc;
}

vouch_client *vch_client_from_fd(int fd, int timeout_ms) {
    vouch_client *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->fd = fd;
    c->timeout_ms = timeout_ms > 0 ? timeout_ms : VOUCH_DEFAULT_TIMEOUT_MS;
    c->next_id = 1;
    c->max_request = VOUCH_DEFAULT_MAX_REQUEST_BYTES;
    c->max_reply = VOUCH_MAX_REPLY_BYTES;
    c->path = NULL;
    c->server_uid = -1;
    return c;
}
