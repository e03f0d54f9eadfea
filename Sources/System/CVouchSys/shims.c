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

int cvouch_peergroups(int fd, uint32_t *groups, int max) {
    socklen_t len = (socklen_t)(sizeof(gid_t) * (size_t)(max > 0 ? max : 0));
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) return (int)(len / sizeof(gid_t));
    if (errno == ERANGE) return (int)(len / sizeof(gid_t));
    return -1;
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
