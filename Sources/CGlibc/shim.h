// The GNU extensions of the C library that Swift's Glibc module does not declare: it is built
// without _GNU_SOURCE, and defining it here would not reopen headers already in that module.
// So the two prototypes are declared as glibc's own headers declare them (syncfs since glibc
// 2.14, renameat2 since 2.28), and the linker binds them as any other libc function.
#ifndef MASSIVA_CGLIBC_SHIM_H
#define MASSIVA_CGLIBC_SHIM_H

/// Flushes the file system holding the open file `fd`.
extern int syncfs(int fd);

/// rename(2) with flags; RENAME_NOREPLACE is 1.
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

/// pipe(2) with flags (O_CLOEXEC, O_NONBLOCK), since glibc 2.9.
extern int pipe2(int pipefd[2], int flags);

/// Closes every descriptor from `from` up in a posix_spawn child (glibc 2.34, __USE_MISC).
#include <spawn.h>
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

/// Changes a posix_spawn child's working directory before exec (glibc 2.29, __USE_GNU).
extern int posix_spawn_file_actions_addchdir_np(posix_spawn_file_actions_t *actions, const char *path);

/// prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL): prctl is variadic, which Swift cannot call.
#include <sys/prctl.h>
static inline int massiva_clear_ambient_capabilities(void) { return prctl(47, 4, 0, 0, 0); }

#endif
