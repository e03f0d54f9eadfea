/*
 * vouch.h: libvouch, the C client library of vouchd (protocol version 1,
 * docs/PROTOCOL.md).  Link with -lvouch (pkg-config --libs vouch).
 *
 * Every call is blocking and bounded by the handle's timeout: the whole call
 * (reconnecting if needed, sending the request, reading the reply) finishes
 * within timeout_ms or fails with VOUCH_ERR_TIMEOUT.
 *
 * Thread safety: a handle holds a mutex; calls on one handle from several
 * threads are serialized.  Different handles are independent.  The library
 * has no global state.  vouch_close must not race with other calls on the
 * same handle.
 *
 * Return codes: 0 (VOUCH_OK) on success, else a negative code.  A status the
 * daemon answered is returned as its negation (VOUCH_ERR_INVALID_CREDENTIALS
 * is -1, the daemon's status 1); VOUCH_IS_STATUS(code) tells such codes from
 * local ones (<= -1000).  vouch_strerror(code) describes any code.
 *
 * Secrets: passwords and tokens are copied only into request and reply
 * buffers that are wiped (explicit_bzero) before they are freed.  Buffers the
 * caller owns (e.g. the token written by vouch_login_token) are the caller's
 * to wipe.
 *
 * SIGPIPE: the library sends with MSG_NOSIGNAL; a closed daemon socket is
 * VOUCH_ERR_CLOSED, never a signal.
 */
#ifndef VOUCH_H
#define VOUCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(VOUCH_BUILDING)
#define VOUCH_API __attribute__((visibility("default")))
#else
#define VOUCH_API
#endif

/* The library's own version (not the protocol's). */
#define VOUCH_VERSION_STRING "1.0.0"
/* The protocol version spoken. */
#define VOUCH_PROTOCOL_VERSION 1

/* Used when vouch_open gets a NULL path and $VOUCH_SOCKET is unset. */
#define VOUCH_DEFAULT_SOCKET "/run/vouch/vouchd.sock"
/* The daemon's user (systemd/vouchd.service User=): vouch_open trusts a
 * socket whose peer (SO_PEERCRED) runs as root, as this user or as the
 * caller's own effective uid. */
#define VOUCH_DEFAULT_SERVER_USER "vouch"
/* Used when vouch_open gets timeout_ms == 0. */
#define VOUCH_DEFAULT_TIMEOUT_MS 10000
/* A reply frame whose length prefix exceeds this is refused unread. */
#define VOUCH_MAX_REPLY_BYTES (1024 * 1024)
/* A request frame larger than this is refused locally (the daemon's default
 * cap); vouch_hello raises or lowers it to the cap the daemon announces. */
#define VOUCH_DEFAULT_MAX_REQUEST_BYTES 65536

/* ---- return codes ------------------------------------------------------ */

#define VOUCH_OK 0

/* Statuses answered by the daemon: -(status), see docs/PROTOCOL.md. */
#define VOUCH_ERR_INVALID_CREDENTIALS  -1  /* wrong password, unknown user or over-long input */
#define VOUCH_ERR_INACTIVE             -2  /* right password, inactive account */
#define VOUCH_ERR_NOT_FOUND            -3  /* no such user */
#define VOUCH_ERR_USERNAME_TAKEN       -4
#define VOUCH_ERR_EMAIL_TAKEN          -5
#define VOUCH_ERR_PASSWORD_REJECTED    -6  /* new password breaks the policy; see the reason */
#define VOUCH_ERR_PERMISSION_DENIED    -7  /* this peer may not use the operation */
#define VOUCH_ERR_BAD_REQUEST          -8  /* the daemon could not decode the request */
#define VOUCH_ERR_UNSUPPORTED_VERSION  -9
#define VOUCH_ERR_UNKNOWN_OPCODE      -10  /* the daemon does not know the operation */
#define VOUCH_ERR_BUSY                -11  /* worker queue full; retry later */
#define VOUCH_ERR_INTERNAL            -12  /* daemon-side failure */
#define VOUCH_ERR_FRAME_TOO_LARGE     -13  /* the daemon refused the request's size; connection closed */
#define VOUCH_ERR_INVALID_TOKEN       -14
#define VOUCH_ERR_LOCKED              -15  /* account locked after too many failures */
#define VOUCH_ERR_RATE_LIMITED        -16  /* too many failures from this peer uid */
#define VOUCH_ERR_ALREADY_VERIFIED    -17
#define VOUCH_ERR_STORAGE_UNAVAILABLE -18
#define VOUCH_ERR_VETOED              -19
#define VOUCH_ERR_INVALID_INPUT       -20
#define VOUCH_ERR_LIMIT_EXCEEDED      -21
#define VOUCH_ERR_PASSWORD_EXPIRED    -22  /* right password, but it must be changed first (change_password) */
/* A status this library does not name is returned as -(status) when it is
 * below 1000, else as VOUCH_ERR_UNKNOWN_STATUS. */
#define VOUCH_IS_STATUS(code) ((code) < 0 && (code) > -1000)

/* Local errors. */
#define VOUCH_ERR_CONNECT          -1001 /* cannot connect to the socket (errno tells why) */
#define VOUCH_ERR_TIMEOUT          -1002 /* the call did not finish within the timeout */
#define VOUCH_ERR_PROTOCOL         -1003 /* malformed, oversized or mismatched reply */
#define VOUCH_ERR_TOO_LONG         -1004 /* an argument or the request exceeds a wire limit */
#define VOUCH_ERR_NOMEM            -1005
#define VOUCH_ERR_INVALID_ARGUMENT -1006 /* NULL where a value is needed, bad timeout, ... */
#define VOUCH_ERR_CLOSED           -1007 /* the daemon closed the connection */
#define VOUCH_ERR_UNKNOWN_STATUS   -1008 /* the daemon answered a status >= 1000 */
#define VOUCH_ERR_IO               -1009 /* another socket error (errno tells why) */
#define VOUCH_ERR_UNTRUSTED_SERVER -1010 /* the socket's owner is not root, the configured
                                            daemon user or the caller: nothing was sent */
#define VOUCH_ERR_REFUSED          -1011 /* the daemon refused the connection (too many
                                            connections); vouch_last_message says why */

/* After VOUCH_ERR_TIMEOUT, VOUCH_ERR_PROTOCOL, VOUCH_ERR_CLOSED,
 * VOUCH_ERR_IO, VOUCH_ERR_REFUSED, VOUCH_ERR_UNTRUSTED_SERVER and
 * VOUCH_ERR_FRAME_TOO_LARGE the connection is dropped; the
 * next call on the handle reconnects.  A request is never sent twice. */

/* ---- types ------------------------------------------------------------- */

typedef struct vouch_client vouch_client;

/* Account flags (vouch_user.flags). */
#define VOUCH_FLAG_ACTIVE    0x01
#define VOUCH_FLAG_ADMIN     0x02
#define VOUCH_FLAG_SUPERUSER 0x04
#define VOUCH_FLAG_VERIFIED  0x08

/* Buffer sizes, terminating NUL included. */
#define VOUCH_UUID_SIZE      37   /* 8-4-4-4-12 lowercase hex */
#define VOUCH_USERNAME_SIZE  401  /* 100 Unicode scalars, up to 4 UTF-8 bytes each */
#define VOUCH_EMAIL_SIZE     1021 /* 254 Unicode scalars (+ slack) */
#define VOUCH_TOKEN_SIZE     128  /* session tokens are 47 bytes: "vch_" + 43 */
#define VOUCH_REASON_SIZE    1025 /* daemon messages are capped at 1024 bytes */
#define VOUCH_SERVER_VERSION_SIZE 256

/* A user record (never a password hash).  Times are Unix milliseconds. */
typedef struct vouch_user {
    int64_t id;
    char uuid[VOUCH_UUID_SIZE];
    char username[VOUCH_USERNAME_SIZE];
    char email[VOUCH_EMAIL_SIZE];   /* "" when has_email is 0 */
    int has_email;
    unsigned flags;                 /* VOUCH_FLAG_* */
    int64_t created_at;
    int64_t updated_at;
    int has_last_login;
    int64_t last_login;             /* 0 when has_last_login is 0 */
    uint32_t failed_logins;
    int is_locked;
    int64_t locked_until;           /* INT64_MAX: until an admin unlocks; 0 when not locked */
} vouch_user;

/* The daemon's hello answer. */
typedef struct vouch_server_info {
    unsigned min_version;
    unsigned max_version;
    uint32_t max_frame;
    char server_version[VOUCH_SERVER_VERSION_SIZE];
} vouch_server_info;

/* Account states (vouch_account_status). */
#define VOUCH_ACCOUNT_ACTIVE   0
#define VOUCH_ACCOUNT_INACTIVE 1
#define VOUCH_ACCOUNT_LOCKED   2

/* ---- connection -------------------------------------------------------- */

/* Connects to vouchd.  socket_path NULL: $VOUCH_SOCKET when set and non-empty
 * (read with secure_getenv, so ignored in setuid/setgid programs), else
 * VOUCH_DEFAULT_SOCKET.  timeout_ms: bound of every call (and of this
 * connect); 0 means VOUCH_DEFAULT_TIMEOUT_MS, negative is invalid.
 * Returns NULL on failure with *err (if err is not NULL) set to a code. */
VOUCH_API vouch_client *vouch_open(const char *socket_path, int timeout_ms, int *err);

/* vouch_open for a daemon running as another user: server_user (NULL means
 * VOUCH_DEFAULT_SERVER_USER) names the user vouchd runs as.  Every connect
 * (and reconnect) checks the peer's uid (SO_PEERCRED) before anything is
 * sent: root, server_user and the caller's effective uid are trusted; any
 * other owner of the socket is VOUCH_ERR_UNTRUSTED_SERVER.  A server_user
 * that does not exist is VOUCH_ERR_INVALID_ARGUMENT. */
VOUCH_API vouch_client *vouch_open_server(const char *socket_path, int timeout_ms,
                                          const char *server_user, int *err);

/* Closes the connection and frees the handle.  NULL is allowed. */
VOUCH_API void vouch_close(vouch_client *client);

/* Changes the timeout of later calls (0: default; negative: invalid). */
VOUCH_API int vouch_set_timeout(vouch_client *client, int timeout_ms);

/* Copies the message of the last failed status answer on this handle (the
 * daemon's reason, e.g. "password too short"; "" if none) into buf. */
VOUCH_API int vouch_last_message(vouch_client *client, char *buf, size_t len);

/* Why the last call on this handle failed with VOUCH_ERR_CONNECT,
 * VOUCH_ERR_IO or VOUCH_ERR_CLOSED: the errno of the failing connect, send,
 * recv or poll (e.g. ENOENT: no socket there; ECONNREFUSED: no daemon
 * listening; EACCES: no permission on the socket; EPIPE: the daemon closed
 * the connection), 0 when the daemon just closed it (end of file) or the
 * last call failed otherwise.  EINVAL for a NULL handle.  (When vouch_open
 * fails with VOUCH_ERR_CONNECT there is no handle: errno tells why.) */
VOUCH_API int vouch_last_errno(vouch_client *client);

/* ---- calls (each returns VOUCH_OK or a negative code) ------------------ */

/* hello: exchanges versions; remembers the daemon's frame cap.  out may be NULL. */
VOUCH_API int vouch_hello(vouch_client *client, const char *client_name, vouch_server_info *out);

/* ping: a round trip. */
VOUCH_API int vouch_ping(vouch_client *client);

/* login without PAM context.  user_id may be NULL. */
VOUCH_API int vouch_login(vouch_client *client, const char *username, const char *password,
                          int64_t *user_id);

/* login with PAM context (PAM_SERVICE, PAM_RHOST, PAM_TTY; NULL means "").
 * user (may be NULL) receives the user record. */
VOUCH_API int vouch_login_ctx(vouch_client *client, const char *username, const char *password,
                              const char *service, const char *rhost, const char *tty,
                              vouch_user *user);

/* login asking for a session token: token (token_len >= VOUCH_TOKEN_SIZE)
 * receives it NUL-terminated (wipe it when done), expires_at (may be NULL)
 * its expiry, user (may be NULL) the user record. */
VOUCH_API int vouch_login_token(vouch_client *client, const char *username, const char *password,
                                char *token, size_t token_len, int64_t *expires_at,
                                vouch_user *user);

/* change_password: on VOUCH_ERR_PASSWORD_REJECTED (and any other refusal)
 * reason (may be NULL; VOUCH_REASON_SIZE is always enough) receives the
 * daemon's message, truncated to reason_len - 1 bytes. */
VOUCH_API int vouch_change_password(vouch_client *client, const char *username,
                                    const char *old_password, const char *new_password,
                                    char *reason, size_t reason_len);

/* verify_token: out (may be NULL) receives the token's owner. */
VOUCH_API int vouch_verify_token(vouch_client *client, const char *token, vouch_user *out);
/* The same, also giving the token's expiry (may be NULL). */
VOUCH_API int vouch_verify_token_expiry(vouch_client *client, const char *token, vouch_user *out,
                                        int64_t *expires_at);

/* revoke_token. */
VOUCH_API int vouch_revoke_token(vouch_client *client, const char *token);

/* get_user with selector kind 4 (username, else decimal id, else uuid).
 * Admin-only on the daemon: other peers get VOUCH_ERR_PERMISSION_DENIED. */
VOUCH_API int vouch_get_user(vouch_client *client, const char *user, vouch_user *out);

/* account_status (opcode 0x18, open to every peer): *state receives
 * VOUCH_ACCOUNT_ACTIVE, _INACTIVE or _LOCKED; an unknown user is
 * VOUCH_ERR_NOT_FOUND.  A daemon without the opcode answers
 * VOUCH_ERR_UNKNOWN_OPCODE. */
VOUCH_API int vouch_account_status(vouch_client *client, const char *username, int *state);

/* ---- misc -------------------------------------------------------------- */

/* A static English description of any code (never NULL). */
VOUCH_API const char *vouch_strerror(int code);

/* The library's version, VOUCH_VERSION_STRING. */
VOUCH_API const char *vouch_version(void);

#ifdef __cplusplus
}
#endif

#endif /* VOUCH_H */
