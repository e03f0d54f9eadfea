/* libvouch: framing and field codec (docs/PROTOCOL.md, "Frames" and "Field types"). */
#include <stdlib.h>
#include <string.h>

#include "vouch_internal.h"

void vch_wipe(void *p, size_t n) {
    if (p != NULL && n > 0) explicit_bzero(p, n);
}

/* ---- output buffer ---------------------------------------------------- */

void vch_buf_init(vch_buf *b) {
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->err = 0;
}

void vch_buf_free(vch_buf *b) {
    if (b->data != NULL) {
        vch_wipe(b->data, b->cap);
        free(b->data);
    }
    vch_buf_init(b);
}

/* Grows without realloc, so an old copy of a secret is never left unwiped. */
static int reserve(vch_buf *b, size_t extra) {
    if (b->err) return 0;
    if (extra > SIZE_MAX / 2 - b->len) {
        b->err = VOUCH_ERR_TOO_LONG;
        return 0;
    }
    if (b->len + extra <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 128;
    while (cap < b->len + extra) cap *= 2;
    uint8_t *n = malloc(cap);
    if (n == NULL) {
        b->err = VOUCH_ERR_NOMEM;
        return 0;
    }
    if (b->data != NULL) {
        memcpy(n, b->data, b->len);
        vch_wipe(b->data, b->cap);
        free(b->data);
    }
    b->data = n;
    b->cap = cap;
    return 1;
}

static void put(vch_buf *b, const void *p, size_t n) {
    if (n == 0 || !reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void vch_put_u8(vch_buf *b, uint8_t v) { put(b, &v, 1); }

void vch_put_u16(vch_buf *b, uint16_t v) {
    uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 2);
}

void vch_put_u32(vch_buf *b, uint32_t v) {
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    put(b, x, 4);
}

void vch_put_i64(vch_buf *b, int64_t v) {
    uint64_t u = (uint64_t)v;
    uint8_t x[8];
    for (int i = 0; i < 8; i++) x[i] = (uint8_t)(u >> (56 - 8 * i));
    put(b, x, 8);
}

void vch_put_str(vch_buf *b, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n > 0xFFFF) {
        if (!b->err) b->err = VOUCH_ERR_TOO_LONG;
        return;
    }
    vch_put_u16(b, (uint16_t)n);
    put(b, s, n);
}

void vch_begin_request(vch_buf *b, uint8_t opcode, uint32_t id) {
    vch_put_u32(b, 0);
    vch_put_u8(b, VOUCH_PROTOCOL_VERSION);
    vch_put_u8(b, opcode);
    vch_put_u32(b, id);
}

int vch_finish_frame(vch_buf *b) {
    if (b->err) return b->err;
    if (b->len < VCH_LENGTH_PREFIX || b->len - VCH_LENGTH_PREFIX > 0xFFFFFFFFu)
        return VOUCH_ERR_TOO_LONG;
    uint32_t n = (uint32_t)(b->len - VCH_LENGTH_PREFIX);
    b->data[0] = (uint8_t)(n >> 24);
    b->data[1] = (uint8_t)(n >> 16);
    b->data[2] = (uint8_t)(n >> 8);
    b->data[3] = (uint8_t)n;
    return VOUCH_OK;
}

/* ---- reader ------------------------------------------------------------ */

void vch_reader_init(vch_reader *r, const uint8_t *p, size_t len) {
    r->p = p;
    r->len = len;
    r->off = 0;
    r->err = 0;
}

static const uint8_t *take(vch_reader *r, size_t n) {
    if (r->err || r->len - r->off < n) {
        r->err = VOUCH_ERR_PROTOCOL;
        return NULL;
    }
    const uint8_t *p = r->p + r->off;
    r->off += n;
    return p;
}

uint8_t vch_get_u8(vch_reader *r) {
    const uint8_t *p = take(r, 1);
    return p ? p[0] : 0;
}

uint16_t vch_get_u16(vch_reader *r) {
    const uint8_t *p = take(r, 2);
    return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t vch_get_u32(vch_reader *r) {
    const uint8_t *p = take(r, 4);
    return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

int64_t vch_get_i64(vch_reader *r) {
    const uint8_t *p = take(r, 8);
    if (!p) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v = v << 8 | p[i];
    return (int64_t)v;
}

int vch_get_bool(vch_reader *r) {
    uint8_t v = vch_get_u8(r);
    if (v > 1) r->err = VOUCH_ERR_PROTOCOL;
    return v == 1;
}

int vch_utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 1;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            k = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (n - i <= k) return 0;
        for (size_t j = 1; j <= k; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        /* overlong, surrogates, beyond U+10FFFF */
        if ((k == 1 && cp < 0x80) || (k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            return 0;
        i += k + 1;
    }
    return 1;
}

void vch_get_str(vch_reader *r, char *out, size_t out_len) {
    if (out_len > 0) out[0] = '\0';
    uint16_t n = vch_get_u16(r);
    const uint8_t *p = take(r, n);
    if (!p) return;
    if ((size_t)n >= out_len || memchr(p, 0, n) != NULL || !vch_utf8_valid(p, n)) {
        r->err = VOUCH_ERR_PROTOCOL;
        return;
    }
    memcpy(out, p, n);
    out[n] = '\0';
}

void vch_get_str_truncated(vch_reader *r, char *out, size_t out_len) {
    uint16_t n = vch_get_u16(r);
    const uint8_t *p = take(r, n);
    if (out == NULL || out_len == 0) return;
    out[0] = '\0';
    if (!p) return;
    size_t m = n < out_len - 1 ? n : out_len - 1;
    const uint8_t *nul = memchr(p, 0, m);
    if (nul) m = (size_t)(nul - p);
    /* do not cut a UTF-8 sequence in half */
    while (m > 0 && m < n && (p[m] & 0xC0) == 0x80) m--;
    memcpy(out, p, m);
    out[m] = '\0';
}

void vch_skip_str(vch_reader *r) {
    uint16_t n = vch_get_u16(r);
    take(r, n);
}

static void format_uuid(const uint8_t *b, char out[VOUCH_UUID_SIZE]) {
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0xF];
    }
    out[o] = '\0';
}

void vch_get_user(vch_reader *r, vouch_user *u) {
    memset(u, 0, sizeof *u);
    u->id = vch_get_i64(r);
    const uint8_t *uuid = take(r, 16);
    if (uuid) format_uuid(uuid, u->uuid);
    vch_get_str(r, u->username, sizeof u->username);
    u->has_email = vch_get_bool(r);
    if (u->has_email) vch_get_str(r, u->email, sizeof u->email);
    u->flags = vch_get_u8(r);
    u->created_at = vch_get_i64(r);
    u->updated_at = vch_get_i64(r);
    u->has_last_login = vch_get_bool(r);
    if (u->has_last_login) u->last_login = vch_get_i64(r);
    u->failed_logins = vch_get_u32(r);
    u->is_locked = vch_get_bool(r);
    if (u->is_locked) u->locked_until = vch_get_i64(r);
}

int vch_reader_finish(vch_reader *r) {
    if (r->err) return r->err;
    if (r->off != r->len) return r->err = VOUCH_ERR_PROTOCOL;
    return VOUCH_OK;
}

/* ---- responses --------------------------------------------------------- */

int vch_status_code(uint16_t status) {
    if (status == 0) return VOUCH_OK;
    if (status < 1000) return -(int)status;
    return VOUCH_ERR_UNKNOWN_STATUS;
}

int vch_check_reply_length(uint32_t n, uint32_t max) {
    if (n == 0 || n > max) return VOUCH_ERR_PROTOCOL;
    return VOUCH_OK;
}

int vch_parse_response(const uint8_t *payload, size_t len, uint8_t opcode, uint32_t id,
                       uint16_t *status, vch_reader *r, char *message, size_t message_len) {
    if (message && message_len) message[0] = '\0';
    vch_reader_init(r, payload, len);
    uint8_t version = vch_get_u8(r);
    uint8_t op = vch_get_u8(r);
    uint32_t rid = vch_get_u32(r);
    uint16_t st = vch_get_u16(r);
    if (r->err || version != VOUCH_PROTOCOL_VERSION) return VOUCH_ERR_PROTOCOL;
    *status = st;
    if (st != 0) {
        /* a failure carries an optional str message and nothing else */
        if (r->off < r->len) {
            vch_get_str_truncated(r, message, message_len);
            if (vch_reader_finish(r)) return VOUCH_ERR_PROTOCOL;
        }
    }
    if (rid == id && op == opcode) return VOUCH_OK;
    /* The daemon answers a frame it cannot read with request id 0 and closes. */
    if (rid == 0 && (st == 13 || st == 8)) return vch_status_code(st);
    /* Any other status with request id 0 refuses the connection (limit exceeded). */
    if (rid == 0 && st != 0) return VOUCH_ERR_REFUSED;
    return VOUCH_ERR_PROTOCOL;
}
