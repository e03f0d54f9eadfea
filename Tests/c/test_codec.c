/* Unit tests of libvouch's framing and codec, against the normative hex
 * examples of docs/PROTOCOL.md (parsed at run time from the ```hex
 * example=NAME blocks), plus canned replies over a socketpair: truncated,
 * oversized and mismatched replies, timeouts, a closed peer.
 *
 * Usage: test_codec path/to/PROTOCOL.md */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vouch_internal.h"

static int failures, checks;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        checks++;                                                          \
        if (!(cond)) {                                                     \
            failures++;                                                    \
            fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_RC(got, want) \
    CHECK((got) == (want), "got %d (%s), want %d (%s)", (got), vouch_strerror(got), (want), \
          vouch_strerror(want))

/* ---- examples from the document ---------------------------------------- */

typedef struct example {
    char name[64];
    uint8_t bytes[512];
    size_t len;
} example;

static example examples[64];
static size_t n_examples;

static void load_examples(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(2);
    }
    char line[4096];
    example *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        if (cur == NULL) {
            const char *tag = "```hex example=";
            if (strncmp(line, tag, strlen(tag)) == 0 && n_examples < 64) {
                cur = &examples[n_examples++];
                memset(cur, 0, sizeof *cur);
                sscanf(line + strlen(tag), "%63s", cur->name);
            }
            continue;
        }
        if (strncmp(line, "```", 3) == 0) {
            cur = NULL;
            continue;
        }
        for (char *p = strtok(line, " \t\r\n"); p; p = strtok(NULL, " \t\r\n")) {
            unsigned v;
            if (sscanf(p, "%2x", &v) != 1 || cur->len >= sizeof cur->bytes) {
                fprintf(stderr, "bad hex in example %s\n", cur->name);
                exit(2);
            }
            cur->bytes[cur->len++] = (uint8_t)v;
        }
    }
    fclose(f);
}

static const example *ex(const char *name) {
    for (size_t i = 0; i < n_examples; i++)
        if (strcmp(examples[i].name, name) == 0) return &examples[i];
    fprintf(stderr, "FAIL: example %s missing from the document\n", name);
    exit(1);
}

static void dump(const char *what, const uint8_t *p, size_t n) {
    fprintf(stderr, "  %s:", what);
    for (size_t i = 0; i < n; i++) fprintf(stderr, " %02x", p[i]);
    fputc('\n', stderr);
}

static void check_bytes(const char *name, const uint8_t *got, size_t got_len) {
    const example *e = ex(name);
    int same = got_len == e->len && memcmp(got, e->bytes, e->len) == 0;
    CHECK(same, "encoding differs from example %s", name);
    if (!same) {
        dump("got ", got, got_len);
        dump("want", e->bytes, e->len);
    }
}

/* ---- encoding ---------------------------------------------------------- */

static void test_encode_examples(void) {
    vch_buf b;

    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_HELLO, 1);
    vch_put_str(&b, "vouchctl");
    CHECK_RC(vch_finish_frame(&b), VOUCH_OK);
    check_bytes("hello-request", b.data, b.len);
    vch_buf_free(&b);

    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_PING, 7);
    CHECK_RC(vch_finish_frame(&b), VOUCH_OK);
    check_bytes("ping-request", b.data, b.len);
    vch_buf_free(&b);

    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_LOGIN, 42);
    vch_put_str(&b, "bob");
    vch_put_str(&b, "correct horse 1");
    vch_put_u8(&b, 0);
    vch_put_str(&b, "");
    vch_put_str(&b, NULL);
    vch_put_str(&b, "");
    CHECK_RC(vch_finish_frame(&b), VOUCH_OK);
    check_bytes("login-request", b.data, b.len);
    vch_buf_free(&b);

    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_GET_USER, 3);
    vch_put_u8(&b, 4);
    vch_put_str(&b, "bob");
    CHECK_RC(vch_finish_frame(&b), VOUCH_OK);
    check_bytes("get-user-request", b.data, b.len);
    vch_buf_free(&b);

    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_VERIFY_TOKEN, 9);
    vch_put_str(&b, "vch_abc");
    CHECK_RC(vch_finish_frame(&b), VOUCH_OK);
    check_bytes("verify-token-request", b.data, b.len);
    vch_buf_free(&b);

    /* a str longer than 65535 bytes is refused, sticky */
    char *big = malloc(70000);
    memset(big, 'a', 69999);
    big[69999] = 0;
    vch_buf_init(&b);
    vch_begin_request(&b, VCH_OP_PING, 1);
    vch_put_str(&b, big);
    vch_put_u8(&b, 1);
    CHECK_RC(vch_finish_frame(&b), VOUCH_ERR_TOO_LONG);
    vch_buf_free(&b);
    CHECK(b.data == NULL && b.len == 0, "buffer not reset");
    free(big);

    /* i64 is two's complement big-endian */
    vch_buf_init(&b);
    vch_put_i64(&b, -2);
    CHECK(b.len == 8 && b.data[0] == 0xff && b.data[7] == 0xfe, "i64 -2");
    vch_buf_free(&b);
}

/* ---- decoding ---------------------------------------------------------- */

static const uint8_t *payload(const char *name, size_t *len) {
    const example *e = ex(name);
    uint32_t n = (uint32_t)e->bytes[0] << 24 | (uint32_t)e->bytes[1] << 16 |
                 (uint32_t)e->bytes[2] << 8 | e->bytes[3];
    CHECK(n == e->len - 4, "example %s: length prefix %u vs %zu payload bytes", name, n,
          e->len - 4);
    CHECK_RC(vch_check_reply_length(n, VOUCH_MAX_REPLY_BYTES), VOUCH_OK);
    *len = e->len - 4;
    return e->bytes + 4;
}

static void test_decode_examples(void) {
    size_t n;
    const uint8_t *p;
    uint16_t status;
    vch_reader r;
    char msg[256];

    p = payload("hello-reply", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_HELLO, 1, &status, &r, msg, sizeof msg), VOUCH_OK);
    CHECK(status == 0, "status %u", status);
    CHECK(vch_get_u8(&r) == 1 && vch_get_u8(&r) == 1, "versions");
    CHECK(vch_get_u32(&r) == 65536, "max frame");
    char ver[32];
    vch_get_str(&r, ver, sizeof ver);
    CHECK(strcmp(ver, "0.1.0") == 0, "server version '%s'", ver);
    CHECK_RC(vch_reader_finish(&r), VOUCH_OK);

    p = payload("ping-reply", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_PING, 7, &status, &r, msg, sizeof msg), VOUCH_OK);
    CHECK(status == 0, "status");
    CHECK_RC(vch_reader_finish(&r), VOUCH_OK);
    /* the same reply for another id or opcode is refused */
    CHECK_RC(vch_parse_response(p, n, VCH_OP_PING, 8, &status, &r, msg, sizeof msg),
             VOUCH_ERR_PROTOCOL);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_HELLO, 7, &status, &r, msg, sizeof msg),
             VOUCH_ERR_PROTOCOL);
    /* truncated header */
    CHECK_RC(vch_parse_response(p, 7, VCH_OP_PING, 7, &status, &r, msg, sizeof msg),
             VOUCH_ERR_PROTOCOL);

    p = payload("login-reply", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_LOGIN, 42, &status, &r, msg, sizeof msg), VOUCH_OK);
    vouch_user u;
    vch_get_user(&r, &u);
    CHECK(u.id == 1, "id %lld", (long long)u.id);
    CHECK(strcmp(u.uuid, "00112233-4455-6677-8899-aabbccddeeff") == 0, "uuid %s", u.uuid);
    CHECK(strcmp(u.username, "bob") == 0, "username %s", u.username);
    CHECK(!u.has_email && u.email[0] == 0, "email");
    CHECK(u.flags == VOUCH_FLAG_ACTIVE, "flags %u", u.flags);
    CHECK(u.created_at == 1700000000000LL && u.updated_at == 1700000000000LL, "times");
    CHECK(u.has_last_login && u.last_login == 1700000001000LL, "last login");
    CHECK(u.failed_logins == 0 && !u.is_locked, "failures/locked");
    CHECK(vch_get_bool(&r) == 0, "no token");
    CHECK_RC(vch_reader_finish(&r), VOUCH_OK);

    /* every truncation of the login reply body fails cleanly */
    for (size_t cut = 8; cut < n; cut++) {
        CHECK_RC(vch_parse_response(p, cut, VCH_OP_LOGIN, 42, &status, &r, msg, sizeof msg),
                 VOUCH_OK);
        vch_get_user(&r, &u);
        (void)vch_get_bool(&r);
        CHECK_RC(vch_reader_finish(&r), VOUCH_ERR_PROTOCOL);
    }

    p = payload("login-refused", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_LOGIN, 42, &status, &r, msg, sizeof msg), VOUCH_OK);
    CHECK(status == 1, "status %u", status);
    CHECK_RC(vch_status_code(status), VOUCH_ERR_INVALID_CREDENTIALS);
    CHECK(strcmp(msg, "Invalid username or password") == 0, "message '%s'", msg);
    /* a truncated message buffer keeps a prefix */
    char small[8];
    CHECK_RC(vch_parse_response(p, n, VCH_OP_LOGIN, 42, &status, &r, small, sizeof small),
             VOUCH_OK);
    CHECK(strcmp(small, "Invalid") == 0, "truncated '%s'", small);

    p = payload("unsupported-version-reply", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_PING, 5, &status, &r, msg, sizeof msg), VOUCH_OK);
    CHECK(status == 9, "status %u", status);
    CHECK_RC(vch_status_code(status), VOUCH_ERR_UNSUPPORTED_VERSION);
    CHECK(strstr(msg, "protocol version 2") != NULL, "message '%s'", msg);

    /* the request examples are not valid replies (too short / wrong shape) */
    p = payload("version-2-request", &n);
    CHECK_RC(vch_parse_response(p, n, VCH_OP_PING, 5, &status, &r, msg, sizeof msg),
             VOUCH_ERR_PROTOCOL);

    /* reply length checks */
    CHECK_RC(vch_check_reply_length(0, VOUCH_MAX_REPLY_BYTES), VOUCH_ERR_PROTOCOL);
    CHECK_RC(vch_check_reply_length(VOUCH_MAX_REPLY_BYTES + 1, VOUCH_MAX_REPLY_BYTES),
             VOUCH_ERR_PROTOCOL);
    CHECK_RC(vch_check_reply_length(0xFFFFFFFFu, VOUCH_MAX_REPLY_BYTES), VOUCH_ERR_PROTOCOL);
    CHECK_RC(vch_check_reply_length(VOUCH_MAX_REPLY_BYTES, VOUCH_MAX_REPLY_BYTES), VOUCH_OK);

    /* strings: embedded NUL, invalid UTF-8, too long for the buffer, bool 2 */
    const uint8_t nul[] = {0, 3, 'a', 0, 'b'};
    const uint8_t bad[] = {0, 2, 0xc3, 0x28};
    const uint8_t ok[] = {0, 3, 0xc3, 0xa9, 'x'};
    const uint8_t two[] = {2};
    char s[8];
    vch_reader_init(&r, nul, sizeof nul);
    vch_get_str(&r, s, sizeof s);
    CHECK_RC(r.err, VOUCH_ERR_PROTOCOL);
    vch_reader_init(&r, bad, sizeof bad);
    vch_get_str(&r, s, sizeof s);
    CHECK_RC(r.err, VOUCH_ERR_PROTOCOL);
    vch_reader_init(&r, ok, sizeof ok);
    vch_get_str(&r, s, sizeof s);
    CHECK(r.err == 0 && strcmp(s, "\xc3\xa9x") == 0, "utf-8 str");
    vch_reader_init(&r, ok, sizeof ok);
    vch_get_str(&r, s, 3);
    CHECK_RC(r.err, VOUCH_ERR_PROTOCOL);
    vch_reader_init(&r, two, sizeof two);
    (void)vch_get_bool(&r);
    CHECK_RC(r.err, VOUCH_ERR_PROTOCOL);
    CHECK(!vch_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3), "surrogate accepted");
    CHECK(!vch_utf8_valid((const uint8_t *)"\xc0\xaf", 2), "overlong accepted");
    CHECK(vch_utf8_valid((const uint8_t *)"\xf0\x9f\x98\x80", 4), "emoji refused");
}

/* ---- canned replies over a socketpair ----------------------------------- */

typedef struct pair {
    vouch_client *c;
    int peer;
} pair;

static pair mkpair(int timeout_ms) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) {
        perror("socketpair");
        exit(2);
    }
    pair p = {vch_client_from_fd(sv[0], timeout_ms), sv[1]};
    return p;
}

static void unpair(pair *p) {
    vouch_close(p->c);
    if (p->peer >= 0) close(p->peer);
}

static void feed(pair *p, const void *bytes, size_t n) {
    if (write(p->peer, bytes, n) != (ssize_t)n) {
        perror("write");
        exit(2);
    }
}

static void feed_example(pair *p, const char *name) {
    const example *e = ex(name);
    feed(p, e->bytes, e->len);
}

/* Reads what the client sent (everything available). */
static size_t drain(pair *p, uint8_t *buf, size_t cap) {
    ssize_t n = read(p->peer, buf, cap);
    return n > 0 ? (size_t)n : 0;
}

static void test_roundtrips(void) {
    uint8_t sent[1024];
    size_t n;
    int rc;
    char msg[VOUCH_REASON_SIZE];

    /* login as in the document: request bytes, then the ok reply */
    pair p = mkpair(1000);
    p.c->next_id = 42;
    feed_example(&p, "login-reply");
    vouch_user u;
    rc = vouch_login_ctx(p.c, "bob", "correct horse 1", NULL, "", NULL, &u);
    CHECK_RC(rc, VOUCH_OK);
    CHECK(u.id == 1 && strcmp(u.username, "bob") == 0, "user");
    n = drain(&p, sent, sizeof sent);
    check_bytes("login-request", sent, n);
    unpair(&p);

    /* refused login: code and message */
    p = mkpair(1000);
    p.c->next_id = 42;
    feed_example(&p, "login-refused");
    int64_t uid = 77;
    CHECK_RC(vouch_login(p.c, "bob", "correct horse 1", &uid), VOUCH_ERR_INVALID_CREDENTIALS);
    CHECK(uid == 77, "user_id touched on failure");
    vouch_last_message(p.c, msg, sizeof msg);
    CHECK(strcmp(msg, "Invalid username or password") == 0, "last message '%s'", msg);
    CHECK(p.c->fd >= 0, "a status answer must keep the connection");
    unpair(&p);

    /* right password that must be changed first (status 22) */
    p = mkpair(1000);
    p.c->next_id = 42;
    feed_example(&p, "login-password-expired");
    CHECK_RC(vouch_login(p.c, "bob", "correct horse 1", &uid), VOUCH_ERR_PASSWORD_EXPIRED);
    vouch_last_message(p.c, msg, sizeof msg);
    CHECK(strcmp(msg, "The password has expired and must be changed") == 0, "last message '%s'", msg);
    unpair(&p);

    /* ping: ok; then a reply with the wrong id drops the connection */
    p = mkpair(1000);
    p.c->next_id = 7;
    feed_example(&p, "ping-reply");
    CHECK_RC(vouch_ping(p.c), VOUCH_OK);
    n = drain(&p, sent, sizeof sent);
    check_bytes("ping-request", sent, n);
    feed_example(&p, "ping-reply"); /* id 7 again, but the client now expects 8 */
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_PROTOCOL);
    CHECK(p.c->fd < 0, "connection kept after a wrong id");
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_CLOSED); /* an fd handle cannot reconnect */
    unpair(&p);

    /* wrong opcode */
    p = mkpair(1000);
    p.c->next_id = 7;
    feed_example(&p, "ping-reply");
    CHECK_RC(vouch_hello(p.c, "x", NULL), VOUCH_ERR_PROTOCOL);
    unpair(&p);

    /* oversized prefix: refused before reading (nothing else was sent) */
    p = mkpair(1000);
    const uint8_t huge[] = {0x00, 0x10, 0x00, 0x01};
    feed(&p, huge, 4);
    int64_t t0 = vch_now_ms();
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_PROTOCOL);
    CHECK(vch_now_ms() - t0 < 500, "oversized prefix waited for its payload");
    unpair(&p);

    /* zero-length frame */
    p = mkpair(1000);
    const uint8_t zero[] = {0, 0, 0, 0};
    feed(&p, zero, 4);
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_PROTOCOL);
    unpair(&p);

    /* truncated frame, then the daemon closes */
    p = mkpair(1000);
    const uint8_t trunc[] = {0, 0, 0, 8, 1, 2, 0, 0, 0};
    feed(&p, trunc, sizeof trunc);
    shutdown(p.peer, SHUT_WR);
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_CLOSED);
    unpair(&p);

    /* a complete frame whose body is short: protocol error */
    p = mkpair(1000);
    const uint8_t shorthello[] = {0, 0, 0, 10, 1, 1, 0, 0, 0, 1, 0, 0, 1, 1};
    feed(&p, shorthello, sizeof shorthello);
    CHECK_RC(vouch_hello(p.c, "t", NULL), VOUCH_ERR_PROTOCOL);
    CHECK(p.c->fd < 0, "connection kept after a bad body");
    unpair(&p);

    /* trailing bytes after an ok ping */
    p = mkpair(1000);
    const uint8_t trailing[] = {0, 0, 0, 9, 1, 2, 0, 0, 0, 1, 0, 0, 0xAA};
    feed(&p, trailing, sizeof trailing);
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_PROTOCOL);
    unpair(&p);

    /* the daemon's connection-level refusal: id 0, frame too large */
    p = mkpair(1000);
    const uint8_t toolarge[] = {0, 0, 0, 10, 1, 0, 0, 0, 0, 0, 0, 13, 0, 0};
    feed(&p, toolarge, sizeof toolarge);
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_FRAME_TOO_LARGE);
    CHECK(p.c->fd < 0, "connection kept after frame too large");
    unpair(&p);

    /* the daemon's connection-level refusal: id 0, limit exceeded, then closed
     * (issue 12 item 13: its own code, not a protocol error) */
    p = mkpair(1000);
    const char why_refused[] = "too many connections (max 1024)";
    uint8_t refused[64] = {0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 21, 0, (uint8_t)(sizeof why_refused - 1)};
    memcpy(refused + 14, why_refused, sizeof why_refused - 1);
    refused[3] = (uint8_t)(10 + sizeof why_refused - 1);
    feed(&p, refused, 14 + sizeof why_refused - 1);
    close(p.peer);
    p.peer = -1;
    CHECK_RC(vouch_login(p.c, "bob", "a password", NULL), VOUCH_ERR_REFUSED);
    char refusal[VOUCH_REASON_SIZE];
    vouch_last_message(p.c, refusal, sizeof refusal);
    CHECK(strcmp(refusal, why_refused) == 0, "refusal message '%s'", refusal);
    CHECK(p.c->fd < 0, "connection kept after a refusal");
    CHECK(strcmp(vouch_strerror(VOUCH_ERR_REFUSED), vouch_strerror(VOUCH_ERR_PROTOCOL)) != 0,
          "refusal described as a protocol error");
    unpair(&p);

    /* a failure status with an empty body; an unknown status */
    p = mkpair(1000);
    const uint8_t busy[] = {0, 0, 0, 8, 1, 2, 0, 0, 0, 1, 0, 11};
    const uint8_t odd[] = {0, 0, 0, 8, 1, 2, 0, 0, 0, 2, 0, 99};
    const uint8_t odder[] = {0, 0, 0, 8, 1, 2, 0, 0, 0, 3, 0x40, 0};
    feed(&p, busy, sizeof busy);
    feed(&p, odd, sizeof odd);
    feed(&p, odder, sizeof odder);
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_BUSY);
    CHECK_RC(vouch_ping(p.c), -99);
    CHECK(VOUCH_IS_STATUS(-99), "status range");
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_UNKNOWN_STATUS);
    unpair(&p);

    /* change_password refused by the policy: the reason comes back */
    p = mkpair(1000);
    const char reason[] = "The password is too short. (min 12)";
    uint8_t rej[64] = {0, 0, 0, 0, 1, VCH_OP_CHANGE_PASSWORD, 0, 0, 0, 1, 0, 6, 0,
                       (uint8_t)(sizeof reason - 1)};
    memcpy(rej + 14, reason, sizeof reason - 1);
    rej[3] = (uint8_t)(10 + sizeof reason - 1);
    feed(&p, rej, 14 + sizeof reason - 1);
    char why[VOUCH_REASON_SIZE];
    CHECK_RC(vouch_change_password(p.c, "bob", "old", "new", why, sizeof why),
             VOUCH_ERR_PASSWORD_REJECTED);
    CHECK(strcmp(why, reason) == 0, "reason '%s'", why);
    unpair(&p);

    /* account_status: a state, and an out-of-range state */
    p = mkpair(1000);
    const uint8_t st1[] = {0, 0, 0, 9, 1, VCH_OP_ACCOUNT_STATUS, 0, 0, 0, 1, 0, 0, 1};
    const uint8_t st7[] = {0, 0, 0, 9, 1, VCH_OP_ACCOUNT_STATUS, 0, 0, 0, 2, 0, 0, 7};
    feed(&p, st1, sizeof st1);
    feed(&p, st7, sizeof st7);
    int state = -1;
    CHECK_RC(vouch_account_status(p.c, "bob", &state), VOUCH_OK);
    CHECK(state == VOUCH_ACCOUNT_INACTIVE, "state %d", state);
    CHECK_RC(vouch_account_status(p.c, "bob", &state), VOUCH_ERR_PROTOCOL);
    n = drain(&p, sent, sizeof sent);
    const uint8_t want_as[] = {0, 0, 0, 11, 1, 0x18, 0, 0, 0, 1, 0, 3, 'b', 'o', 'b'};
    CHECK(n >= sizeof want_as && memcmp(sent, want_as, sizeof want_as) == 0,
          "account_status request bytes");
    unpair(&p);

    /* timeouts: no answer */
    p = mkpair(300);
    t0 = vch_now_ms();
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_TIMEOUT);
    int64_t took = vch_now_ms() - t0;
    CHECK(took >= 290 && took < 1000, "timeout took %lld ms", (long long)took);
    unpair(&p);

    /* a peer that closed: no SIGPIPE, VOUCH_ERR_CLOSED */
    p = mkpair(1000);
    close(p.peer);
    p.peer = -1;
    CHECK_RC(vouch_ping(p.c), VOUCH_ERR_CLOSED);
    unpair(&p);

    /* arguments: too long for a str, too large a frame, NULLs */
    p = mkpair(1000);
    char *big = malloc(70000);
    memset(big, 'x', 69999);
    big[69999] = 0;
    CHECK_RC(vouch_login(p.c, big, "pw", NULL), VOUCH_ERR_TOO_LONG);
    big[30000] = 0;
    CHECK_RC(vouch_change_password(p.c, big, big, big, NULL, 0), VOUCH_ERR_TOO_LONG);
    CHECK(drain(&p, sent, sizeof sent) == 0, "an over-long request was sent");
    CHECK(p.c->fd >= 0, "a local refusal dropped the connection");
    free(big);
    CHECK_RC(vouch_login(p.c, NULL, "pw", NULL), VOUCH_ERR_INVALID_ARGUMENT);
    CHECK_RC(vouch_get_user(p.c, "bob", NULL), VOUCH_ERR_INVALID_ARGUMENT);
    char tok[16];
    CHECK_RC(vouch_login_token(p.c, "bob", "pw", tok, sizeof tok, NULL, NULL),
             VOUCH_ERR_INVALID_ARGUMENT);
    CHECK_RC(vouch_ping(NULL), VOUCH_ERR_INVALID_ARGUMENT);
    unpair(&p);

    /* vouch_open: bad arguments, a missing socket */
    int err = 0;
    CHECK(vouch_open("/nonexistent/vouch.sock", 500, &err) == NULL && err == VOUCH_ERR_CONNECT,
          "open missing socket: %d", err);
    CHECK(vouch_open("/tmp/x", -1, &err) == NULL && err == VOUCH_ERR_INVALID_ARGUMENT, "neg timeout");
    char longpath[200];
    memset(longpath, 'a', sizeof longpath - 1);
    longpath[sizeof longpath - 1] = 0;
    CHECK(vouch_open(longpath, 100, &err) == NULL && err == VOUCH_ERR_INVALID_ARGUMENT,
          "long path");
    vouch_close(NULL);
}

static void test_strerror(void) {
    int codes[] = {0,     -1,    -2,    -3,    -4,    -5,    -6,    -7,    -8,    -9,   -10,
                   -11,   -12,   -13,   -14,   -15,   -16,   -17,   -18,   -19,   -20,  -21,   -22,
                   -1001, -1002, -1003, -1004, -1005, -1006, -1007, -1008, -1009};
    size_t k = sizeof codes / sizeof codes[0];
    for (size_t i = 0; i < k; i++) {
        const char *s = vouch_strerror(codes[i]);
        CHECK(s && *s && strcmp(s, "unknown error code") != 0, "strerror(%d)", codes[i]);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, vouch_strerror(codes[j])) != 0, "strerror(%d) == strerror(%d)",
                  codes[i], codes[j]);
    }
    CHECK(vouch_strerror(12345) != NULL, "strerror(unknown)");
    CHECK(strcmp(vouch_version(), VOUCH_VERSION_STRING) == 0, "version");
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s docs/PROTOCOL.md\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill us: MSG_NOSIGNAL must prevent it */
    load_examples(argv[1]);
    CHECK(n_examples >= 10, "only %zu examples found", n_examples);
    test_encode_examples();
    test_decode_examples();
    test_roundtrips();
    test_strerror();
    printf("test_codec: %d checks, %d failures (%zu document examples)\n", checks, failures,
           n_examples);
    return failures ? 1 : 0;
}
