#ifndef CVOUCHSYS_H
#define CVOUCHSYS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// SO_PEERCRED of a connected Unix socket.  Returns 0, or -1 with errno set.
int cvouch_peercred(int fd, int32_t *pid, uint32_t *uid, uint32_t *gid);

/// Refuse core dumps: RLIMIT_CORE 0 and PR_SET_DUMPABLE 0.  Returns 0 or -1.
int cvouch_disable_core_dumps(void);

/// Zero memory in a way the compiler cannot remove.
void cvouch_secure_zero(void *p, size_t n);

/// SO_PEERGROUPS (Linux >= 4.13): the supplementary groups the peer had
/// when it connected, up to `max` into `groups`.  Returns how many it had
/// (more than `max`: call again with room for them), or -1 with errno set
/// (ENOPROTOOPT on older kernels).
int cvouch_peergroups(int fd, uint32_t *groups, int max);

/// Terminal echo control for password prompts: returns the previous state (1 on, 0 off), -1 if not a tty.
int cvouch_set_echo(int fd, int on);

/// pipe2(fds, O_CLOEXEC).  Returns 0 or -1.
int cvouch_pipe_cloexec(int fds[2]);

#include <spawn.h>
/// posix_spawn_file_actions_addclosefrom_np(actions, from): the child closes every fd >= from.
int cvouch_spawn_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
