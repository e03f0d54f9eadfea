/*
 * pam_vouch.so: authenticate, check accounts and change passwords through
 * vouchd.  The libvouch code is compiled in (hidden); only pam_sm_* are
 * exported.  See docs/LIBVOUCH.md for the options and the result mapping.
 *
 * Options: socket=PATH timeout=MS debug use_first_pass try_first_pass
 *          use_authtok unknown_is_user_unknown server_user=NAME ignore_case
 *          log_unknown_names
 *
 * Passwords are never logged; the ones this module reads from the
 * conversation are wiped before they are freed.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "vouch.h"

#define PAM_VOUCH_EXPORT __attribute__((visibility("default")))

typedef struct options {
    const char *socket;
    int timeout_ms;
    int debug;
    int use_first_pass;
    int try_first_pass;
    int use_authtok;
    int unknown_is_user_unknown;
    int silent;
    const char *server_user; /* NULL: libvouch's default (VOUCH_DEFAULT_SERVER_USER) */
    int ignore_case;         /* accept an ASCII-case variant of the name, set PAM_USER to it */
    int log_unknown_names;   /* log a name vouchd does not know as typed, not UNKNOWN */
} options;

static void parse_options(pam_handle_t *pamh, int flags, int argc, const char **argv,
                          options *o) {
    memset(o, 0, sizeof *o);
    o->socket = VOUCH_DEFAULT_SOCKET; /* never $VOUCH_SOCKET: the environment is not trusted here */
    o->timeout_ms = 5000;
    o->silent = (flags & PAM_SILENT) != 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "socket=", 7) == 0 && a[7] != '\0') {
            o->socket = a + 7;
        } else if (strncmp(a, "timeout=", 8) == 0) {
            char *end = NULL;
            errno = 0;
            long v = strtol(a + 8, &end, 10);
            if (errno || end == a + 8 || *end != '\0' || v < 1 || v > 600000)
                pam_syslog(pamh, LOG_ERR, "bad option %s (1-600000 ms); using %d", a,
                           o->timeout_ms);
            else
                o->timeout_ms = (int)v;
        } else if (strcmp(a, "debug") == 0) {
            o->debug = 1;
        } else if (strcmp(a, "use_first_pass") == 0) {
            o->use_first_pass = 1;
        } else if (strcmp(a, "try_first_pass") == 0) {
            o->try_first_pass = 1;
        } else if (strcmp(a, "use_authtok") == 0) {
            o->use_authtok = 1;
        } else if (strcmp(a, "unknown_is_user_unknown") == 0) {
            o->unknown_is_user_unknown = 1;
        } else if (strncmp(a, "server_user=", 12) == 0 && a[12] != '\0') {
            o->server_user = a + 12;
        } else if (strcmp(a, "ignore_case") == 0) {
            o->ignore_case = 1;
        } else if (strcmp(a, "log_unknown_names") == 0) {
            o->log_unknown_names = 1;
        } else {
            pam_syslog(pamh, LOG_ERR, "unknown option: %s", a);
        }
    }
}

static const char *item_str(pam_handle_t *pamh, int type) {
    const void *v = NULL;
    if (pam_get_item(pamh, type, &v) != PAM_SUCCESS || v == NULL) return "";
    return v;
}

static vouch_client *open_client(pam_handle_t *pamh, const options *o) {
    int err = 0;
    vouch_client *c = vouch_open_server(o->socket, o->timeout_ms, o->server_user, &err);
    if (c == NULL)
        pam_syslog(pamh, LOG_ERR, "cannot reach vouchd at %s: %s%s%s", o->socket,
                   vouch_strerror(err), err == VOUCH_ERR_CONNECT ? ": " : "",
                   err == VOUCH_ERR_CONNECT ? strerror(errno) : "");
    return c;
}

/* Daemon unreachable or not answering usefully. */
static int unavailable(int rc) {
    switch (rc) {
    case VOUCH_ERR_CONNECT:
    case VOUCH_ERR_TIMEOUT:
    case VOUCH_ERR_PROTOCOL:
    case VOUCH_ERR_CLOSED:
    case VOUCH_ERR_IO:
    case VOUCH_ERR_UNKNOWN_STATUS:
    case VOUCH_ERR_PERMISSION_DENIED:
    case VOUCH_ERR_UNSUPPORTED_VERSION:
    case VOUCH_ERR_UNKNOWN_OPCODE:
    case VOUCH_ERR_BUSY:
    case VOUCH_ERR_INTERNAL:
    case VOUCH_ERR_FRAME_TOO_LARGE:
    case VOUCH_ERR_STORAGE_UNAVAILABLE:
    case VOUCH_ERR_LIMIT_EXCEEDED:
    case VOUCH_ERR_REFUSED:
    case VOUCH_ERR_UNTRUSTED_SERVER:
        return 1;
    default:
        return VOUCH_IS_STATUS(rc) && rc < VOUCH_ERR_PASSWORD_EXPIRED; /* statuses newer than us */
    }
}

/* The name to log for a failure: a name vouchd does not know (or cannot
 * confirm) may be a password typed at the login prompt, so it is logged as
 * UNKNOWN unless log_unknown_names (login's LOG_UNKFAIL_ENAB). */
static const char *logged_name(const options *o, vouch_client *c, const char *user, int rc) {
    if (o->log_unknown_names) return user;
    switch (rc) {
    case VOUCH_ERR_INACTIVE:
    case VOUCH_ERR_LOCKED:
    case VOUCH_ERR_PASSWORD_REJECTED:
        return user; /* answered for an existing account */
    default: break;
    }
    /* No second wait on a daemon that just failed to answer: unconfirmed. */
    if (unavailable(rc)) return "UNKNOWN";
    int state = 0;
    return c && vouch_account_status(c, user, &state) == VOUCH_OK ? user : "UNKNOWN";
}

static void log_failure(pam_handle_t *pamh, const options *o, vouch_client *c, const char *what,
                        const char *user, int rc) {
    char msg[VOUCH_REASON_SIZE] = "";
    if (c) vouch_last_message(c, msg, sizeof msg);
    const char *shown = logged_name(o, c, user, rc);
    pam_syslog(pamh, unavailable(rc) ? LOG_ERR : LOG_NOTICE,
               "%s failed; user=%s service=%s rhost=%s tty=%s: %s (%d)%s%s", what, shown,
               item_str(pamh, PAM_SERVICE), item_str(pamh, PAM_RHOST), item_str(pamh, PAM_TTY),
               vouch_strerror(rc), rc, msg[0] ? ": " : "", msg);
}

/* Asks the conversation; *out must be wiped and freed by the caller. */
static int ask(pam_handle_t *pamh, int style, const char *prompt, char **out) {
    *out = NULL;
    int r = pam_prompt(pamh, style, out, "%s", prompt);
    if (r != PAM_SUCCESS) return r == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_CONV_ERR;
    if (*out == NULL) {
        *out = strdup("");
        if (*out == NULL) return PAM_BUF_ERR;
    }
    return PAM_SUCCESS;
}

static void drop(char **s) {
    if (*s) {
        explicit_bzero(*s, strlen(*s));
        free(*s);
        *s = NULL;
    }
}

static void tell_error(pam_handle_t *pamh, const options *o, const char *text) {
    if (!o->silent) pam_error(pamh, "%s", text);
}

/* With unknown_is_user_unknown: whether the daemon knows the user, asked
 * with account_status after a refused password.  1 unknown, 0 known or
 * cannot tell. */
static int user_is_unknown(pam_handle_t *pamh, const options *o, vouch_client *c,
                           const char *user) {
    if (!o->unknown_is_user_unknown) return 0;
    int state = 0;
    int rc = vouch_account_status(c, user, &state);
    if (rc == VOUCH_ERR_NOT_FOUND) return 1;
    if (rc != VOUCH_OK)
        pam_syslog(pamh, LOG_WARNING,
                   "unknown_is_user_unknown: cannot tell whether %s exists: %s",
                   o->log_unknown_names ? user : "the user", vouch_strerror(rc));
    return 0;
}

/* A right password for an account whose name is not PAM_USER (vouchd
 * matches names ignoring ASCII case). */
#define NAME_MISMATCH 1

static int ascii_case_equal(const char *a, const char *b) {
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
        if (x != y) return 0;
        if (x == '\0') return 1;
    }
}

/* Logs in; succeeds only when the account vouchd matched is PAM_USER
 * exactly, or (ignore_case) an ASCII-case variant of it, which then
 * becomes PAM_USER.  NAME_MISMATCH otherwise. */
static int login_once(pam_handle_t *pamh, const options *o, vouch_client *c, const char *user,
                      const char *pw) {
    vouch_user u;
    int rc = vouch_login_ctx(c, user, pw, item_str(pamh, PAM_SERVICE), item_str(pamh, PAM_RHOST),
                             item_str(pamh, PAM_TTY), &u);
    if (rc == VOUCH_ERR_PASSWORD_EXPIRED) {
        /* The right password, but the answer names no account: ask which
         * one matched (pam_vouch runs as root, an admin peer).  Unconfirmed
         * is refused: the name rule below must hold here too. */
        if (vouch_get_user(c, user, &u) != VOUCH_OK) {
            pam_syslog(pamh, LOG_NOTICE, "authentication refused: cannot confirm which account's password "
                                         "expired (pam_vouch needs an admin peer for that)");
            return NAME_MISMATCH;
        }
    } else if (rc != VOUCH_OK) {
        return rc;
    }
    if (strcmp(u.username, user) == 0) return rc;
    if (o->ignore_case && ascii_case_equal(u.username, user)) {
        if (o->debug) pam_syslog(pamh, LOG_DEBUG, "ignore_case: PAM_USER %s becomes %s", user, u.username);
        return pam_set_item(pamh, PAM_USER, u.username) == PAM_SUCCESS ? rc : VOUCH_ERR_NOMEM;
    }
    pam_syslog(pamh, LOG_NOTICE,
               "authentication refused: vouchd matched account %s, not PAM_USER %s exactly "
               "(see the ignore_case option)",
               u.username, user);
    return NAME_MISMATCH;
}

/* ---- auth -------------------------------------------------------------- */

static int auth_result(pam_handle_t *pamh, const options *o, vouch_client *c, const char *user,
                       int rc) {
    switch (rc) {
    case VOUCH_OK:
    case VOUCH_ERR_PASSWORD_EXPIRED: /* the right password; account phase: PAM_NEW_AUTHTOK_REQD */
        return PAM_SUCCESS;
    case NAME_MISMATCH:
        return PAM_AUTH_ERR;
    case VOUCH_ERR_INVALID_CREDENTIALS:
    case VOUCH_ERR_NOT_FOUND:
        return user_is_unknown(pamh, o, c, user) ? PAM_USER_UNKNOWN : PAM_AUTH_ERR;
    case VOUCH_ERR_INACTIVE:
        return PAM_AUTH_ERR; /* account phase: PAM_ACCT_EXPIRED */
    case VOUCH_ERR_LOCKED:
    case VOUCH_ERR_RATE_LIMITED:
        return PAM_MAXTRIES;
    case VOUCH_ERR_NOMEM:
        return PAM_BUF_ERR;
    default:
        return unavailable(rc) ? PAM_AUTHINFO_UNAVAIL : PAM_AUTH_ERR;
    }
}

PAM_VOUCH_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
                                         const char **argv) {
    options o;
    parse_options(pamh, flags, argc, argv, &o);
    const char *user = NULL;
    int r = pam_get_user(pamh, &user, NULL);
    if (r != PAM_SUCCESS || user == NULL || *user == '\0') {
        pam_syslog(pamh, LOG_NOTICE, "cannot determine the user name");
        return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : PAM_USER_UNKNOWN;
    }
    vouch_client *c = open_client(pamh, &o);
    if (c == NULL) return PAM_AUTHINFO_UNAVAIL;

    const void *item = NULL;
    if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS) item = NULL;
    int rc;
    if (o.use_first_pass || (o.try_first_pass && item != NULL)) {
        if (item == NULL) {
            pam_syslog(pamh, LOG_NOTICE, "use_first_pass: no password from a previous module");
            vouch_close(c);
            return PAM_AUTH_ERR;
        }
        rc = login_once(pamh, &o, c, user, item);
        if (rc == VOUCH_OK || o.use_first_pass || rc != VOUCH_ERR_INVALID_CREDENTIALS) goto done;
        if (o.debug) pam_syslog(pamh, LOG_DEBUG, "try_first_pass: stored password refused, asking");
    }
    {
        char *pw = NULL;
        r = ask(pamh, PAM_PROMPT_ECHO_OFF, "Password: ", &pw);
        if (r != PAM_SUCCESS) {
            drop(&pw);
            vouch_close(c);
            return r;
        }
        pam_set_item(pamh, PAM_AUTHTOK, pw); /* for later modules (try_first_pass) */
        rc = login_once(pamh, &o, c, user, pw);
        drop(&pw);
    }
done:;
    int result = auth_result(pamh, &o, c, user, rc);
    if (rc == VOUCH_OK || rc == VOUCH_ERR_PASSWORD_EXPIRED) {
        if (o.debug) pam_syslog(pamh, LOG_DEBUG, "authenticated %s", user);
    } else if (rc != NAME_MISMATCH) {
        log_failure(pamh, &o, c, "authentication", user, rc);
        if (o.debug) pam_syslog(pamh, LOG_DEBUG, "returning %s", pam_strerror(pamh, result));
    }
    vouch_close(c);
    return result;
}

PAM_VOUCH_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
    (void)pamh, (void)flags, (void)argc, (void)argv;
    return PAM_SUCCESS;
}

/* ---- account ----------------------------------------------------------- */

PAM_VOUCH_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc,
                                      const char **argv) {
    options o;
    parse_options(pamh, flags, argc, argv, &o);
    const char *user = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || *user == '\0')
        return PAM_USER_UNKNOWN;
    vouch_client *c = open_client(pamh, &o);
    if (c == NULL) return PAM_AUTHINFO_UNAVAIL;
    int state = -1;
    int rc = vouch_account_status(c, user, &state);
    int result;
    if (rc == VOUCH_OK) {
        switch (state) {
        case VOUCH_ACCOUNT_ACTIVE: result = PAM_SUCCESS; break;
        case VOUCH_ACCOUNT_INACTIVE: result = PAM_ACCT_EXPIRED; break;
        default: result = PAM_PERM_DENIED; break; /* locked */
        }
        if (result != PAM_SUCCESS)
            pam_syslog(pamh, LOG_NOTICE, "account %s is %s", user,
                       state == VOUCH_ACCOUNT_INACTIVE ? "inactive" : "locked");
        else if (o.debug)
            pam_syslog(pamh, LOG_DEBUG, "account %s is active", user);
    } else if (rc == VOUCH_ERR_PASSWORD_EXPIRED) {
        pam_syslog(pamh, LOG_NOTICE, "password of %s has expired; a change is required", user);
        result = PAM_NEW_AUTHTOK_REQD;
    } else if (rc == VOUCH_ERR_NOT_FOUND) {
        if (o.debug)
            pam_syslog(pamh, LOG_DEBUG, "no vouch user %s", o.log_unknown_names ? user : "UNKNOWN");
        result = PAM_USER_UNKNOWN;
    } else {
        if (rc == VOUCH_ERR_UNKNOWN_OPCODE)
            pam_syslog(pamh, LOG_ERR, "vouchd does not implement account_status (0x18)");
        log_failure(pamh, &o, c, "account check", user, rc);
        result = rc == VOUCH_ERR_NOMEM ? PAM_BUF_ERR
                 : unavailable(rc)     ? PAM_AUTHINFO_UNAVAIL
                                       : PAM_PERM_DENIED;
    }
    vouch_close(c);
    return result;
}

/* ---- session ----------------------------------------------------------- */

PAM_VOUCH_EXPORT int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
                                         const char **argv) {
    (void)flags, (void)argc, (void)argv;
    const char *user = NULL;
    if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL)
        user = "";
    pam_syslog(pamh, LOG_INFO, "session opened for user %s", user);
    return PAM_SUCCESS;
}

PAM_VOUCH_EXPORT int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
                                          const char **argv) {
    (void)flags, (void)argc, (void)argv;
    const char *user = NULL;
    if (pam_get_item(pamh, PAM_USER, (const void **)&user) != PAM_SUCCESS || user == NULL)
        user = "";
    pam_syslog(pamh, LOG_INFO, "session closed for user %s", user);
    return PAM_SUCCESS;
}

/* ---- password ---------------------------------------------------------- */

static int chauthtok_result(int rc) {
    switch (rc) {
    case VOUCH_OK: return PAM_SUCCESS;
    case VOUCH_ERR_INVALID_CREDENTIALS: return PAM_AUTH_ERR;
    case VOUCH_ERR_NOT_FOUND: return PAM_USER_UNKNOWN;
    case VOUCH_ERR_INACTIVE:
    case VOUCH_ERR_LOCKED:
    case VOUCH_ERR_RATE_LIMITED: return PAM_PERM_DENIED;
    case VOUCH_ERR_NOMEM: return PAM_BUF_ERR;
    default: return unavailable(rc) ? PAM_AUTHINFO_UNAVAIL : PAM_AUTHTOK_ERR;
    }
}

/* The old password: PAM_OLDAUTHTOK when use_first_pass/try_first_pass and
 * set, else asked.  *owned is what to wipe and free. */
static int old_password(pam_handle_t *pamh, const options *o, const char **pw, char **owned) {
    *owned = NULL;
    const void *item = NULL;
    if (pam_get_item(pamh, PAM_OLDAUTHTOK, &item) != PAM_SUCCESS) item = NULL;
    if ((o->use_first_pass || o->try_first_pass) && item != NULL) {
        *pw = item;
        return PAM_SUCCESS;
    }
    if (o->use_first_pass) return PAM_AUTHTOK_RECOVERY_ERR;
    int r = ask(pamh, PAM_PROMPT_ECHO_OFF, "Current password: ", owned);
    *pw = *owned;
    return r;
}

PAM_VOUCH_EXPORT int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc,
                                      const char **argv) {
    options o;
    parse_options(pamh, flags, argc, argv, &o);
    const char *user = NULL;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || *user == '\0')
        return PAM_USER_UNKNOWN;
    vouch_client *c = open_client(pamh, &o);
    if (c == NULL) return PAM_AUTHINFO_UNAVAIL;

    int result;
    char *old_owned = NULL, *new_owned = NULL, *again = NULL;
    const char *oldpw = NULL, *newpw = NULL;

    if (o.unknown_is_user_unknown) {
        /* Not a vouch user: say so before asking anything, so the next
         * module (pam_unix) handles the change with its own prompts. */
        int state = 0;
        int rc = vouch_account_status(c, user, &state);
        if (rc == VOUCH_ERR_NOT_FOUND) {
            if (o.debug)
                pam_syslog(pamh, LOG_DEBUG, "no vouch user %s",
                           o.log_unknown_names ? user : "UNKNOWN");
            result = PAM_USER_UNKNOWN;
            goto out;
        }
        if (rc != VOUCH_OK && rc != VOUCH_ERR_UNKNOWN_OPCODE && unavailable(rc)) {
            log_failure(pamh, &o, c, "password change (account check)", user, rc);
            result = PAM_AUTHINFO_UNAVAIL;
            goto out;
        }
    }

    if (flags & PAM_PRELIM_CHECK) {
        /* Verify the old password now, so a mistyped one is reported before
         * the new one is asked for. */
        result = old_password(pamh, &o, &oldpw, &old_owned);
        if (result != PAM_SUCCESS) goto out;
        int rc = login_once(pamh, &o, c, user, oldpw);
        if (rc == VOUCH_OK || rc == VOUCH_ERR_PASSWORD_EXPIRED) { /* expired: the change it asks for */
            pam_set_item(pamh, PAM_OLDAUTHTOK, oldpw);
            result = PAM_SUCCESS;
        } else if (rc == NAME_MISMATCH) {
            result = PAM_AUTH_ERR;
        } else {
            log_failure(pamh, &o, c, "password change (old password check)", user, rc);
            result = chauthtok_result(rc);
            if (result == PAM_AUTH_ERR && user_is_unknown(pamh, &o, c, user))
                result = PAM_USER_UNKNOWN;
        }
        goto out;
    }
    if (!(flags & PAM_UPDATE_AUTHTOK)) {
        result = PAM_SERVICE_ERR;
        goto out;
    }

    /* PAM_UPDATE_AUTHTOK */
    const void *item = NULL;
    if (pam_get_item(pamh, PAM_OLDAUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
        oldpw = item;
    } else {
        result = ask(pamh, PAM_PROMPT_ECHO_OFF, "Current password: ", &old_owned);
        if (result != PAM_SUCCESS) goto out;
        oldpw = old_owned;
    }
    if (o.use_authtok) {
        item = NULL;
        if (pam_get_item(pamh, PAM_AUTHTOK, &item) != PAM_SUCCESS || item == NULL) {
            pam_syslog(pamh, LOG_NOTICE, "use_authtok: no new password from a previous module");
            result = PAM_AUTHTOK_ERR;
            goto out;
        }
        newpw = item;
    } else {
        result = ask(pamh, PAM_PROMPT_ECHO_OFF, "New password: ", &new_owned);
        if (result != PAM_SUCCESS) goto out;
        result = ask(pamh, PAM_PROMPT_ECHO_OFF, "Retype new password: ", &again);
        if (result != PAM_SUCCESS) goto out;
        if (strcmp(new_owned, again) != 0) {
            tell_error(pamh, &o, "Sorry, passwords do not match.");
            result = PAM_AUTHTOK_ERR;
            goto out;
        }
        newpw = new_owned;
    }
    char reason[VOUCH_REASON_SIZE];
    int rc = vouch_change_password(c, user, oldpw, newpw, reason, sizeof reason);
    if (rc == VOUCH_OK) {
        pam_set_item(pamh, PAM_AUTHTOK, newpw);
        pam_syslog(pamh, LOG_NOTICE, "password changed for %s", user);
        result = PAM_SUCCESS;
    } else if (rc == VOUCH_ERR_PASSWORD_REJECTED || rc == VOUCH_ERR_INVALID_INPUT) {
        tell_error(pamh, &o, reason[0] ? reason : "The new password was rejected.");
        log_failure(pamh, &o, c, "password change", user, rc);
        result = PAM_AUTHTOK_ERR;
    } else {
        log_failure(pamh, &o, c, "password change", user, rc);
        result = chauthtok_result(rc);
    }
out:
    drop(&old_owned);
    drop(&new_owned);
    drop(&again);
    vouch_close(c);
    if (o.debug)
        pam_syslog(pamh, LOG_DEBUG, "chauthtok (%s) returning %s",
                   (flags & PAM_PRELIM_CHECK) ? "prelim" : "update", pam_strerror(pamh, result));
    return result;
}
