/* libvouch: return codes as text, and the library's version. */
#include "vouch_internal.h"

VOUCH_API const char *vouch_strerror(int code) {
    switch (code) {
    case VOUCH_OK: return "ok";
    case VOUCH_ERR_INVALID_CREDENTIALS: return "invalid credentials";
    case VOUCH_ERR_INACTIVE: return "account inactive";
    case VOUCH_ERR_NOT_FOUND: return "no such user";
    case VOUCH_ERR_USERNAME_TAKEN: return "username taken";
    case VOUCH_ERR_EMAIL_TAKEN: return "email taken";
    case VOUCH_ERR_PASSWORD_REJECTED: return "password rejected by the policy";
    case VOUCH_ERR_PERMISSION_DENIED: return "permission denied";
    case VOUCH_ERR_BAD_REQUEST: return "bad request";
    case VOUCH_ERR_UNSUPPORTED_VERSION: return "unsupported protocol version";
    case VOUCH_ERR_UNKNOWN_OPCODE: return "operation not supported by the daemon";
    case VOUCH_ERR_BUSY: return "daemon busy, retry later";
    case VOUCH_ERR_INTERNAL: return "daemon internal error";
    case VOUCH_ERR_FRAME_TOO_LARGE: return "request too large for the daemon";
    case VOUCH_ERR_INVALID_TOKEN: return "invalid token";
    case VOUCH_ERR_LOCKED: return "account locked";
    case VOUCH_ERR_RATE_LIMITED: return "rate limited";
    case VOUCH_ERR_ALREADY_VERIFIED: return "already verified";
    case VOUCH_ERR_STORAGE_UNAVAILABLE: return "daemon storage unavailable";
    case VOUCH_ERR_VETOED: return "vetoed by a hook";
    case VOUCH_ERR_INVALID_INPUT: return "invalid input";
    case VOUCH_ERR_LIMIT_EXCEEDED: return "limit exceeded";
    case VOUCH_ERR_PASSWORD_EXPIRED: return "password expired";
    case VOUCH_ERR_CONNECT: return "cannot connect to vouchd";
    case VOUCH_ERR_TIMEOUT: return "timed out";
    case VOUCH_ERR_PROTOCOL: return "protocol error";
    case VOUCH_ERR_TOO_LONG: return "argument or request too long";
    case VOUCH_ERR_NOMEM: return "out of memory";
    case VOUCH_ERR_INVALID_ARGUMENT: return "invalid argument";
    case VOUCH_ERR_CLOSED: return "connection closed by vouchd";
    case VOUCH_ERR_UNKNOWN_STATUS: return "unknown daemon status";
    case VOUCH_ERR_IO: return "socket error";
    case VOUCH_ERR_UNTRUSTED_SERVER: return "the socket is not served by a trusted vouchd (peer uid)";
    case VOUCH_ERR_REFUSED: return "vouchd refused the connection";
    default:
        return VOUCH_IS_STATUS(code) ? "unknown daemon status" : "unknown error code";
    }
}

VOUCH_API const char *vouch_version(void) { return VOUCH_VERSION_STRING; }
