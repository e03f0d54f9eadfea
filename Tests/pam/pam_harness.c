/* A PAM application for the tests: runs PAM operations with a private
 * configuration directory (pam_start_confdir) and a scripted conversation,
 * printing every message and each operation's result by name.
 *
 * Usage: pam_harness --confdir DIR --service NAME --user USER
 *                    [--answer TEXT]... [--authtok TEXT] [--oldauthtok TEXT]
 *                    [--rhost HOST] [--tty TTY] OP...
 * OP: auth account chauthtok setcred open_session close_session
 * Each --answer answers one prompt, in order; a prompt with no answer left
 * fails the conversation (PAM_CONV_ERR) and is printed as "PROMPT-UNANSWERED".
 * Prints e.g. "PROMPT: Password: ", "ERROR_MSG: ...", "auth: PAM_AUTH_ERR",
 * and at the end "prompts: N" and "user: PAM_USER".  What the modules send
 * to syslog is printed as "SYSLOG: ..." instead (the harness defines the
 * syslog functions libpam calls). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

/* syslog, as libpam's pam_syslog calls it: printed, not sent. */
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap);
void __vsyslog_chk(int pri, int flag, const char *fmt, va_list ap) {
    (void)pri, (void)flag;
    char line[2048];
    vsnprintf(line, sizeof line, fmt, ap);
    printf("SYSLOG: %s\n", line);
    fflush(stdout);
}
void vsyslog(int pri, const char *fmt, va_list ap);
void vsyslog(int pri, const char *fmt, va_list ap) { __vsyslog_chk(pri, 0, fmt, ap); }
void __syslog_chk(int pri, int flag, const char *fmt, ...);
void __syslog_chk(int pri, int flag, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    __vsyslog_chk(pri, flag, fmt, ap);
    va_end(ap);
}
void syslog(int pri, const char *fmt, ...);
void syslog(int pri, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    __vsyslog_chk(pri, 0, fmt, ap);
    va_end(ap);
}

static const char **answers;
static int n_answers, next_answer, prompts;

static const char *pam_name(int r) {
    switch (r) {
#define N(x) case x: return #x;
        N(PAM_SUCCESS) N(PAM_OPEN_ERR) N(PAM_SYMBOL_ERR) N(PAM_SERVICE_ERR) N(PAM_SYSTEM_ERR)
        N(PAM_BUF_ERR) N(PAM_PERM_DENIED) N(PAM_AUTH_ERR) N(PAM_CRED_INSUFFICIENT)
        N(PAM_AUTHINFO_UNAVAIL) N(PAM_USER_UNKNOWN) N(PAM_MAXTRIES) N(PAM_NEW_AUTHTOK_REQD)
        N(PAM_ACCT_EXPIRED) N(PAM_SESSION_ERR) N(PAM_CRED_UNAVAIL) N(PAM_CRED_EXPIRED)
        N(PAM_CRED_ERR) N(PAM_NO_MODULE_DATA) N(PAM_CONV_ERR) N(PAM_AUTHTOK_ERR)
        N(PAM_AUTHTOK_RECOVERY_ERR) N(PAM_AUTHTOK_LOCK_BUSY) N(PAM_AUTHTOK_DISABLE_AGING)
        N(PAM_TRY_AGAIN) N(PAM_IGNORE) N(PAM_ABORT) N(PAM_AUTHTOK_EXPIRED)
        N(PAM_MODULE_UNKNOWN) N(PAM_BAD_ITEM) N(PAM_CONV_AGAIN) N(PAM_INCOMPLETE)
#undef N
    default: return "PAM_(unknown)";
    }
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
    (void)data;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (r == NULL) return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        const char *m = msg[i]->msg ? msg[i]->msg : "";
        switch (msg[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
        case PAM_PROMPT_ECHO_ON:
            prompts++;
            if (next_answer >= n_answers) {
                printf("PROMPT-UNANSWERED: %s\n", m);
                for (int j = 0; j < i; j++) free(r[j].resp);
                free(r);
                return PAM_CONV_ERR;
            }
            printf("PROMPT: %s\n", m);
            r[i].resp = strdup(answers[next_answer++]);
            break;
        case PAM_ERROR_MSG:
            printf("ERROR_MSG: %s\n", m);
            break;
        case PAM_TEXT_INFO:
            printf("TEXT_INFO: %s\n", m);
            break;
        default:
            printf("MSG(%d): %s\n", msg[i]->msg_style, m);
        }
    }
    *resp = r;
    fflush(stdout);
    return PAM_SUCCESS;
}

int main(int argc, char **argv) {
    const char *confdir = NULL, *service = NULL, *user = NULL, *authtok = NULL,
               *oldauthtok = NULL, *rhost = NULL, *tty = NULL;
    answers = calloc((size_t)argc, sizeof *answers);
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (i + 1 >= argc) {
            fprintf(stderr, "missing value for %s\n", argv[i]);
            return 2;
        }
        const char *k = argv[i] + 2, *v = argv[i + 1];
        if (!strcmp(k, "confdir")) confdir = v;
        else if (!strcmp(k, "service")) service = v;
        else if (!strcmp(k, "user")) user = v;
        else if (!strcmp(k, "answer")) answers[n_answers++] = v;
        else if (!strcmp(k, "authtok")) authtok = v;
        else if (!strcmp(k, "oldauthtok")) oldauthtok = v;
        else if (!strcmp(k, "rhost")) rhost = v;
        else if (!strcmp(k, "tty")) tty = v;
        else {
            fprintf(stderr, "unknown option --%s\n", k);
            return 2;
        }
    }
    if (!confdir || !service || !user || i >= argc) {
        fprintf(stderr, "usage: %s --confdir DIR --service S --user U [...] OP...\n", argv[0]);
        return 2;
    }
    struct pam_conv c = {conv, NULL};
    pam_handle_t *pamh = NULL;
    int r = pam_start_confdir(service, user, &c, confdir, &pamh);
    if (r != PAM_SUCCESS) {
        printf("pam_start_confdir: %s\n", pam_name(r));
        return 1;
    }
    if (rhost) pam_set_item(pamh, PAM_RHOST, rhost);
    if (tty) pam_set_item(pamh, PAM_TTY, tty);
    /* Linux-PAM lets only modules set PAM_AUTHTOK/PAM_OLDAUTHTOK; report what it says. */
    if (authtok) printf("set PAM_AUTHTOK: %s\n", pam_name(pam_set_item(pamh, PAM_AUTHTOK, authtok)));
    if (oldauthtok)
        printf("set PAM_OLDAUTHTOK: %s\n",
               pam_name(pam_set_item(pamh, PAM_OLDAUTHTOK, oldauthtok)));
    for (; i < argc; i++) {
        const char *op = argv[i];
        if (!strcmp(op, "auth")) r = pam_authenticate(pamh, 0);
        else if (!strcmp(op, "account")) r = pam_acct_mgmt(pamh, 0);
        else if (!strcmp(op, "chauthtok")) r = pam_chauthtok(pamh, 0);
        else if (!strcmp(op, "setcred")) r = pam_setcred(pamh, PAM_ESTABLISH_CRED);
        else if (!strcmp(op, "open_session")) r = pam_open_session(pamh, 0);
        else if (!strcmp(op, "close_session")) r = pam_close_session(pamh, 0);
        else {
            fprintf(stderr, "unknown op %s\n", op);
            return 2;
        }
        printf("%s: %s\n", op, pam_name(r));
        fflush(stdout);
    }
    printf("prompts: %d\n", prompts);
    const void *final_user = NULL;
    pam_get_item(pamh, PAM_USER, &final_user);
    printf("user: %s\n", final_user ? (const char *)final_user : "");
    pam_end(pamh, r);
    free(answers);
    return 0;
}
