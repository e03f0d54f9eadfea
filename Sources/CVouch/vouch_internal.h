/* Internal to libvouch: the codec, the connection and the handle.  Nothing
 * here is exported from libvouch.so (hidden visibility + version script). */
#ifndef VOUCH_INTERNAL_H
#define VOUCH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "vouch.h"

/* Opcodes (docs/PROTOCOL.md). */
enum {
    VCH_OP_HELLO = 0x01,
    VCH_OP_PING = 0x02,
    VCH_OP_LOGIN = 0x11,
    VCH_OP_CHANGE_PASSWORD = 0x12,
    VCH_OP_GET_USER = 0x14,
    VCH_OP_ACCOUNT_STATUS = 0x18, /* proposed; see docs/LIBVOUCH.md */
    VCH_OP_VERIFY_TOKEN = 0x20,
    VCH_OP_REVOKE_TOKEN = 0x21,
};

#define VCH_LENGTH_PREFIX 4
#define VCH_REQUEST_HEADER 6
#define VCH_RESPONSE_HEADER 8

/* ---- codec.c: a growable output buffer, always wiped ---------------- */

typedef struct vch_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    int err; /* first error (VOUCH_ERR_NOMEM / _TOO_LONG), sticky */
} vch_buf;

void vch_buf_init(vch_buf *b);
/* Wipes (explicit_bzero) and frees. */
void vch_buf_free(vch_buf *b);
void vch_put_u8(vch_buf *b, uint8_t v);
void vch_put_u16(vch_buf *b, uint16_t v);
void vch_put_u32(vch_buf *b, uint32_t v);
void vch_put_i64(vch_buf *b, int64_t v);
/* str / secret: u16 length then the bytes; NULL is "", longer than 65535
 * bytes sets VOUCH_ERR_TOO_LONG. */
void vch_put_str(vch_buf *b, const char *s);
/* Starts a frame: length placeholder, version, opcode, request id. */
void vch_begin_request(vch_buf *b, uint8_t opcode, uint32_t id);
/* Fills in the length prefix; returns b->err. */
int vch_finish_frame(vch_buf *b);

/* ---- codec.c: a bounds-checked reader ---------------------------------- */

typedef struct vch_reader {
    const uint8_t *p;
    size_t len;
    size_t off;
    int err; /* VOUCH_ERR_PROTOCOL once a read ran past the end, sticky */
} vch_reader;

void vch_reader_init(vch_reader *r, const uint8_t *p, size_t len);
uint8_t vch_get_u8(vch_reader *r);
uint16_t vch_get_u16(vch_reader *r);
uint32_t vch_get_u32(vch_reader *r);
int64_t vch_get_i64(vch_reader *r);
/* A bool: 0 or 1, anything else is a protocol error. */
int vch_get_bool(vch_reader *r);
/* A str into out (NUL-terminated).  Too long for out_len, an embedded NUL
 * or invalid UTF-8: protocol error (out is "" then). */
void vch_get_str(vch_reader *r, char *out, size_t out_len);
/* A str truncated to out_len - 1 bytes (for human messages). */
void vch_get_str_truncated(vch_reader *r, char *out, size_t out_len);
/* Skips a str. */
void vch_skip_str(vch_reader *r);
/* A user record. */
void vch_get_user(vch_reader *r, vouch_user *u);
/* Protocol error unless every byte was read. */
int vch_reader_finish(vch_reader *r);

/* Parses a response payload's header and checks version, opcode and id.
 * On success returns VOUCH_OK with *status set and r positioned at the body.
 * A mismatch is VOUCH_ERR_PROTOCOL, except that a connection-level refusal
 * (request id 0 with status frame too large or bad request) returns the
 * status's code.  For a non-ok status, message (may be NULL) gets the
 * message (truncated). */
int vch_parse_response(const uint8_t *payload, size_t len, uint8_t opcode, uint32_t id,
                       uint16_t *status, vch_reader *r, char *message, size_t message_len);

/* Maps a status to a return code (0 -> VOUCH_OK). */
int vch_status_code(uint16_t status);

/* Checks a reply length prefix: 0 and > max are VOUCH_ERR_PROTOCOL. */
int vch_check_reply_length(uint32_t n, uint32_t max);

int vch_utf8_valid(const uint8_t *p, size_t n);

/* ---- connection.c ------------------------------------------------------ */

struct vouch_client {
    pthread_mutex_t lock;
    int fd;                 /* -1 when disconnected */
    int timeout_ms;
    uint32_t next_id;
    uint32_t max_request;   /* request frame cap (hello updates it) */
    uint32_t max_reply;     /* reply frame cap */
    char *path;             /* NULL for a handle made from an fd (tests) */
    int64_t server_uid;     /* the daemon user's uid trusted besides 0 and euid; -1: none */
    char last_message[VOUCH_REASON_SIZE];
    int last_errno;         /* errno of the last VOUCH_ERR_CONNECT, _IO or _CLOSED; 0 if none */
};

/* A monotonic deadline in milliseconds. */
int64_t vch_now_ms(void);

/* Connects c->path (before deadline) if c->fd is -1. */
int vch_ensure_connected(vouch_client *c, int64_t deadline);
/* Drops the connection. */
void vch_disconnect(vouch_client *c);

/* One round trip under the handle's lock-holder: sends req (a finished frame),
 * reads the matching reply into *reply (caller wipes and frees with
 * vch_buf_free), parses its header.  Returns VOUCH_OK with *status and r set,
 * or a negative code (connection dropped where documented). */
int vch_roundtrip(vouch_client *c, vch_buf *req, uint8_t opcode, uint32_t id, vch_buf *reply,
                  uint16_t *status, vch_reader *r);

/* For tests: a handle around an already connected socket (no reconnects). */
vouch_client *vch_client_from_fd(int fd, int timeout_ms);

/* Wipes memory (explicit_bzero). */
void vch_wipe(void *p, size_t n);

#endif
