#define _GNU_SOURCE
#include "CVouchSys.h"
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

int cvouch_peercred(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    if (len != sizeof(cred)) { errno = EINVAL; return -1; }
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

int cvouch_disable_core_dumps(void) {
    struct rlimit rl = {0, 0};
    if (setrlimit(RLIMIT_CORE, &rl) != 0) return -1;
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return -1;
    return 0;
}

void cvouch_secure_zero(void *p, size_t n) {
    if (p && n) explicit_bzero(p, n);
}

int cvouch_uid_in_group(uint32_t uid, uint32_t gid) {
    char buf[16384];
    struct passwd pw, *pwp = NULL;
    if (getpwuid_r(uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) return 0;
    if (pw.pw_gid == gid) return 1;
    int n = 64;
    for (int attempt = 0; attempt < 4; attempt++) {
        gid_t *groups = malloc(sizeof(gid_t) * (size_t)n);
        if (!groups) return 0;
        int count = n;
        if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &count) >= 0) {
            int found = 0;
            for (int i = 0; i < count; i++) if (groups[i] == gid) { found = 1; break; }
            free(groups);
            return found;
        }
        free(groups);
        n = count > n ? count : n * 4;
    }
    return 0;
}

int cvouch_set_echo(int fd, int on) {
    struct termios t;
    if (tcgetattr(fd, &t) != 0) return -1;
    int was = (t.c_lflag & ECHO) ? 1 : 0;
    if (on) t.c_lflag |= ECHO; else t.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(fd, TCSAFLUSH, &t);
    return was;
}

int cvouch_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cvouch_spawn_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
