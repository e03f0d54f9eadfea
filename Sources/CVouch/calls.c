/* libvouch: handles (open/close) and the calls. */
#include <errno.h>
#include <pwd.h>
#include <sys/un.h>
#include <stdlib.h>
#include <string.h>

#include "vouch_internal.h"

/* The uid of server_user (NULL: VOUCH_DEFAULT_SERVER_USER); -1 when a
 * default user does not exist, -2 when a named one does not. */
static int64_t server_uid_of(const char *server_user) {
    const char *name = server_user ? server_user : VOUCH_DEFAULT_SERVER_USER;
    struct passwd pw, *found = NULL;
    char buf[4096];
    if (getpwnam_r(name, &pw, buf, sizeof buf, &found) != 0 || found == NULL)
        return server_user ? -2 : -1;
    return (int64_t)pw.pw_uid;
}

VOUCH_API vouch_client *vouch_open_server(const char *socket_path, int timeout_ms,
                                          const char *server_user, int *err) {
    int dummy;
    if (err == NULL) err = &dummy;
    *err = VOUCH_OK;
    if (timeout_ms < 0) {
        *err = VOUCH_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    if (socket_path == NULL) {
        const char *env = secure_getenv("VOUCH_SOCKET");
        socket_path = (env && *env) ? env : VOUCH_DEFAULT_SOCKET;
    }
    if (*socket_path == '\0' || strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        *err = VOUCH_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    int64_t server_uid = server_uid_of(server_user);
    if (server_uid == -2) {
        *err = VOUCH_ERR_INVALID_ARGUMENT;
        return NULL;
    }
    vouch_client *c = vch_client_from_fd(-1, timeout_ms);
    if (c == NULL || (c->path = strdup(socket_path)) == NULL) {
        vouch_close(c);
        *err = VOUCH_ERR_NOMEM;
        return NULL;
    }
    c->server_uid = server_uid;
    int rc = vch_ensure_connected(c, vch_now_ms() + c->timeout_ms);
    if (rc != VOUCH_OK) {
        int e = errno;
        vouch_close(c);
        errno = e;
        *err = rc;
        return NULL;
    }
    return c;
}

VOUCH_API vouch_client *vouch_open(const char *socket_path, int timeout_ms, int *err) {
    return vouch_open_server(socket_path, timeout_ms, NULL, err);
}

VOUCH_API void vouch_close(vouch_client *c) {
    if (c == NULL) return;
    vch_disconnect(c);
    pthread_mutex_destroy(&c->lock);
    free(c->path);
    vch_wipe(c, sizeof *c);
    free(c);
}

VOUCH_API int vouch_set_timeout(vouch_client *c, int timeout_ms) {
    if (c == NULL || timeout_ms < 0) return VOUCH_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&c->lock);
    c->timeout_ms = timeout_ms ? timeout_ms : VOUCH_DEFAULT_TIMEOUT_MS;
    pthread_mutex_unlock(&c->lock);
    return VOUCH_OK;
}

static void copy_out(char *dst, size_t len, const char *src) {
    if (dst == NULL || len == 0) return;
    size_t n = strlen(src);
    if (n >= len) {
        n = len - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80) n--; /* whole UTF-8 sequences */
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

VOUCH_API int vouch_last_message(vouch_client *c, char *buf, size_t len) {
    if (c == NULL || buf == NULL || len == 0) return VOUCH_ERR_INVALID_ARGUMENT;
    pthread_mutex_lock(&c->lock);
    copy_out(buf, len, c->last_message);
    pthread_mutex_unlock(&c->lock);
    return VOUCH_OK;
}

VOUCH_API int vouch_last_errno(vouch_client *c) {
    if (c == NULL) return EINVAL;
    pthread_mutex_lock(&c->lock);
    int e = c->last_errno;
    pthread_mutex_unlock(&c->lock);
    return e;
}

/* ---- the call skeleton ------------------------------------------------- */

typedef struct call {
    vouch_client *c;
    uint8_t opcode;
    uint32_t id;
    vch_buf req;
    vch_buf reply;
    vch_reader r;
    uint16_t status;
} call;

/* Locks the handle and starts the request frame. */
static void call_begin(call *k, vouch_client *c, uint8_t opcode) {
    pthread_mutex_lock(&c->lock);
    k->c = c;
    k->opcode = opcode;
    k->id = c->next_id++;
    if (c->next_id == 0) c->next_id = 1; /* id 0 is the daemon's "no request" */
    k->status = 0;
    vch_buf_init(&k->req);
    vch_buf_init(&k->reply);
    vch_begin_request(&k->req, opcode, k->id);
}

/* Sends and receives.  VOUCH_OK: an ok status, body in k->r. */
static int call_run(call *k) {
    int rc = vch_roundtrip(k->c, &k->req, k->opcode, k->id, &k->reply, &k->status, &k->r);
    if (rc != VOUCH_OK) return rc;
    return vch_status_code(k->status);
}

/* A body decode failure means the connection's contents are suspect. */
static int call_body_done(call *k) {
    int rc = vch_reader_finish(&k->r);
    if (rc != VOUCH_OK) vch_disconnect(k->c);
    return rc;
}

/* Wipes both buffers and unlocks. */
static int call_end(call *k, int rc) {
    vch_buf_free(&k->req);
    vch_buf_free(&k->reply);
    pthread_mutex_unlock(&k->c->lock);
    return rc;
}

/* ---- calls ------------------------------------------------------------- */

VOUCH_API int vouch_hello(vouch_client *c, const char *client_name, vouch_server_info *out) {
    if (c == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_HELLO);
    vch_put_str(&k.req, client_name ? client_name : "libvouch");
    int rc = call_run(&k);
    if (rc == VOUCH_OK) {
        vouch_server_info info;
        memset(&info, 0, sizeof info);
        info.min_version = vch_get_u8(&k.r);
        info.max_version = vch_get_u8(&k.r);
        info.max_frame = vch_get_u32(&k.r);
        vch_get_str_truncated(&k.r, info.server_version, sizeof info.server_version);
        rc = call_body_done(&k);
        if (rc == VOUCH_OK) {
            if (info.max_frame >= VCH_REQUEST_HEADER) c->max_request = info.max_frame;
            if (out) *out = info;
        }
    }
    return call_end(&k, rc);
}

VOUCH_API int vouch_ping(vouch_client *c) {
    if (c == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_PING);
    int rc = call_run(&k);
    if (rc == VOUCH_OK) rc = call_body_done(&k);
    return call_end(&k, rc);
}

static int login_common(vouch_client *c, const char *username, const char *password,
                        int want_token, const char *service, const char *rhost, const char *tty,
                        vouch_user *user, char *token, size_t token_len, int64_t *expires_at) {
    if (c == NULL || username == NULL || password == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    if (want_token && (token == NULL || token_len < VOUCH_TOKEN_SIZE))
        return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_LOGIN);
    vch_put_str(&k.req, username);
    vch_put_str(&k.req, password);
    vch_put_u8(&k.req, want_token ? 1 : 0);
    vch_put_str(&k.req, service);
    vch_put_str(&k.req, rhost);
    vch_put_str(&k.req, tty);
    int rc = call_run(&k);
    if (rc == VOUCH_OK) {
        vouch_user u;
        vch_get_user(&k.r, &u);
        char tok[VOUCH_TOKEN_SIZE];
        tok[0] = '\0';
        int64_t exp = 0;
        int has_token = vch_get_bool(&k.r);
        if (has_token) {
            vch_get_str(&k.r, tok, sizeof tok);
            exp = vch_get_i64(&k.r);
        }
        rc = call_body_done(&k);
        if (rc == VOUCH_OK && want_token && !has_token) rc = VOUCH_ERR_PROTOCOL;
        if (rc == VOUCH_OK) {
            if (user) *user = u;
            if (want_token) {
                copy_out(token, token_len, tok);
                if (expires_at) *expires_at = exp;
            }
        }
        vch_wipe(tok, sizeof tok);
        vch_wipe(&u, sizeof u);
    }
    return call_end(&k, rc);
}

VOUCH_API int vouch_login(vouch_client *c, const char *username, const char *password,
                          int64_t *user_id) {
    vouch_user u;
    int rc = login_common(c, username, password, 0, "", "", "", &u, NULL, 0, NULL);
    if (rc == VOUCH_OK && user_id) *user_id = u.id;
    return rc;
}

VOUCH_API int vouch_login_ctx(vouch_client *c, const char *username, const char *password,
                              const char *service, const char *rhost, const char *tty,
                              vouch_user *user) {
    return login_common(c, username, password, 0, service, rhost, tty, user, NULL, 0, NULL);
}

VOUCH_API int vouch_login_token(vouch_client *c, const char *username, const char *password,
                                char *token, size_t token_len, int64_t *expires_at,
                                vouch_user *user) {
    return login_common(c, username, password, 1, "", "", "", user, token, token_len, expires_at);
}

VOUCH_API int vouch_change_password(vouch_client *c, const char *username,
                                    const char *old_password, const char *new_password,
                                    char *reason, size_t reason_len) {
    if (reason && reason_len) reason[0] = '\0';
    if (c == NULL || username == NULL || old_password == NULL || new_password == NULL)
        return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_CHANGE_PASSWORD);
    vch_put_str(&k.req, username);
    vch_put_str(&k.req, old_password);
    vch_put_str(&k.req, new_password);
    int rc = call_run(&k);
    if (rc == VOUCH_OK)
        rc = call_body_done(&k);
    else if (VOUCH_IS_STATUS(rc) || rc == VOUCH_ERR_UNKNOWN_STATUS)
        copy_out(reason, reason_len, c->last_message);
    return call_end(&k, rc);
}

static int token_call(vouch_client *c, uint8_t opcode, const char *token, vouch_user *out,
                      int64_t *expires_at) {
    if (c == NULL || token == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, opcode);
    vch_put_str(&k.req, token);
    int rc = call_run(&k);
    if (rc == VOUCH_OK) {
        if (opcode == VCH_OP_VERIFY_TOKEN) {
            vouch_user u;
            vch_get_user(&k.r, &u);
            int64_t exp = vch_get_i64(&k.r);
            rc = call_body_done(&k);
            if (rc == VOUCH_OK) {
                if (out) *out = u;
                if (expires_at) *expires_at = exp;
            }
        } else {
            rc = call_body_done(&k);
        }
    }
    return call_end(&k, rc);
}

VOUCH_API int vouch_verify_token(vouch_client *c, const char *token, vouch_user *out) {
    return token_call(c, VCH_OP_VERIFY_TOKEN, token, out, NULL);
}

VOUCH_API int vouch_verify_token_expiry(vouch_client *c, const char *token, vouch_user *out,
                                        int64_t *expires_at) {
    return token_call(c, VCH_OP_VERIFY_TOKEN, token, out, expires_at);
}

VOUCH_API int vouch_revoke_token(vouch_client *c, const char *token) {
    return token_call(c, VCH_OP_REVOKE_TOKEN, token, NULL, NULL);
}

VOUCH_API int vouch_get_user(vouch_client *c, const char *user, vouch_user *out) {
    if (c == NULL || user == NULL || out == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_GET_USER);
    vch_put_u8(&k.req, 4); /* user_sel kind 4: typed by a person */
    vch_put_str(&k.req, user);
    int rc = call_run(&k);
    if (rc == VOUCH_OK) {
        vouch_user u;
        vch_get_user(&k.r, &u);
        rc = call_body_done(&k);
        if (rc == VOUCH_OK) *out = u;
    }
    return call_end(&k, rc);
}

VOUCH_API int vouch_account_status(vouch_client *c, const char *username, int *state) {
    if (c == NULL || username == NULL || state == NULL) return VOUCH_ERR_INVALID_ARGUMENT;
    call k;
    call_begin(&k, c, VCH_OP_ACCOUNT_STATUS);
    vch_put_str(&k.req, username);
    int rc = call_run(&k);
    if (rc == VOUCH_OK) {
        uint8_t s = vch_get_u8(&k.r);
        rc = call_body_done(&k);
        if (rc == VOUCH_OK && s > VOUCH_ACCOUNT_LOCKED) {
            vch_disconnect(c);
            rc = VOUCH_ERR_PROTOCOL;
        }
        if (rc == VOUCH_OK) *state = s;
    }
    return call_end(&k, rc);
}
