/* login-check: checks a user's password against vouchd with libvouch.
 *
 *   cc -o login-check login_check.c $(pkg-config --cflags --libs vouch)
 *   printf '%s' "$password" | ./login-check alice
 *
 * The password is read from standard input (never from the arguments, which
 * every user can see in ps).  The socket is $VOUCH_SOCKET, else
 * /run/vouch/vouchd.sock.  Exit status: 0 the password is right, 1 refused
 * (wrong password, inactive, locked, ...), 2 vouchd could not be asked. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <vouch.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s USERNAME < password\n", argv[0]);
        return 2;
    }
    char password[1024];
    size_t n = fread(password, 1, sizeof password - 1, stdin);
    password[n] = '\0';
    if (n > 0 && password[n - 1] == '\n') password[n - 1] = '\0';

    int err = 0;
    vouch_client *c = vouch_open(NULL, 5000, &err);
    if (c == NULL) {
        /* errno says why: ENOENT (no socket), ECONNREFUSED (no daemon), EACCES (not in group vouch) */
        fprintf(stderr, "login-check: %s: %s\n", vouch_strerror(err),
                err == VOUCH_ERR_CONNECT ? strerror(errno) : "-");
        explicit_bzero(password, sizeof password);
        return 2;
    }
    vouch_user user;
    int rc = vouch_login_ctx(c, argv[1], password, "login-check", "", "", &user);
    explicit_bzero(password, sizeof password);
    int status;
    if (rc == VOUCH_OK) {
        printf("ok: %s (id %lld)\n", user.username, (long long)user.id);
        status = 0;
    } else if (rc > -1000) { /* the daemon answered: refused */
        char reason[VOUCH_REASON_SIZE];
        vouch_last_message(c, reason, sizeof reason);
        printf("refused: %s%s%s\n", vouch_strerror(rc), reason[0] ? ": " : "", reason);
        status = 1;
    } else { /* local: connection, timeout, protocol */
        int e = vouch_last_errno(c);
        fprintf(stderr, "login-check: %s%s%s\n", vouch_strerror(rc), e ? ": " : "", e ? strerror(e) : "");
        status = 2;
    }
    vouch_close(c);
    return status;
}
