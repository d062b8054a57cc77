// The libc functions the runtime interposes, resolved once with dlsym(RTLD_NEXT). The scheduler
// calls these (never the interposed names) so it cannot re-enter itself.
#pragma once

#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

namespace lockstep::dmt {

#define LOCKSTEP_DMT_REAL_FUNCTIONS(X)                                                           \
  X(int, pthread_create, (pthread_t*, const pthread_attr_t*, void* (*)(void*), void*))           \
  X(int, pthread_join, (pthread_t, void**))                                                      \
  X(int, pthread_timedjoin_np, (pthread_t, void**, const struct timespec*))                      \
  X(int, pthread_tryjoin_np, (pthread_t, void**))                                                \
  X(int, pthread_detach, (pthread_t))                                                            \
  X(void, pthread_exit, (void*))                                                                 \
  X(int, pthread_cancel, (pthread_t))                                                            \
  X(int, pthread_kill, (pthread_t, int))                                                         \
  X(int, pthread_mutex_init, (pthread_mutex_t*, const pthread_mutexattr_t*))                     \
  X(int, pthread_mutex_destroy, (pthread_mutex_t*))                                              \
  X(int, pthread_mutex_lock, (pthread_mutex_t*))                                                 \
  X(int, pthread_mutex_trylock, (pthread_mutex_t*))                                              \
  X(int, pthread_mutex_timedlock, (pthread_mutex_t*, const struct timespec*))                    \
  X(int, pthread_mutex_clocklock, (pthread_mutex_t*, clockid_t, const struct timespec*))         \
  X(int, pthread_mutex_unlock, (pthread_mutex_t*))                                               \
  X(int, pthread_rwlock_init, (pthread_rwlock_t*, const pthread_rwlockattr_t*))                  \
  X(int, pthread_rwlock_destroy, (pthread_rwlock_t*))                                            \
  X(int, pthread_rwlock_rdlock, (pthread_rwlock_t*))                                             \
  X(int, pthread_rwlock_wrlock, (pthread_rwlock_t*))                                             \
  X(int, pthread_rwlock_tryrdlock, (pthread_rwlock_t*))                                          \
  X(int, pthread_rwlock_trywrlock, (pthread_rwlock_t*))                                          \
  X(int, pthread_rwlock_timedrdlock, (pthread_rwlock_t*, const struct timespec*))                \
  X(int, pthread_rwlock_timedwrlock, (pthread_rwlock_t*, const struct timespec*))                \
  X(int, pthread_rwlock_clockrdlock, (pthread_rwlock_t*, clockid_t, const struct timespec*))     \
  X(int, pthread_rwlock_clockwrlock, (pthread_rwlock_t*, clockid_t, const struct timespec*))     \
  X(int, pthread_rwlock_unlock, (pthread_rwlock_t*))                                             \
  X(int, pthread_cond_init, (pthread_cond_t*, const pthread_condattr_t*))                        \
  X(int, pthread_cond_destroy, (pthread_cond_t*))                                                \
  X(int, pthread_cond_wait, (pthread_cond_t*, pthread_mutex_t*))                                 \
  X(int, pthread_cond_timedwait, (pthread_cond_t*, pthread_mutex_t*, const struct timespec*))    \
  X(int, pthread_cond_clockwait,                                                                 \
    (pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*))                      \
  X(int, pthread_cond_signal, (pthread_cond_t*))                                                 \
  X(int, pthread_cond_broadcast, (pthread_cond_t*))                                              \
  X(int, pthread_barrier_init, (pthread_barrier_t*, const pthread_barrierattr_t*, unsigned))     \
  X(int, pthread_barrier_destroy, (pthread_barrier_t*))                                          \
  X(int, pthread_barrier_wait, (pthread_barrier_t*))                                             \
  X(int, pthread_spin_init, (pthread_spinlock_t*, int))                                          \
  X(int, pthread_spin_destroy, (pthread_spinlock_t*))                                            \
  X(int, pthread_spin_lock, (pthread_spinlock_t*))                                               \
  X(int, pthread_spin_trylock, (pthread_spinlock_t*))                                            \
  X(int, pthread_spin_unlock, (pthread_spinlock_t*))                                             \
  X(int, pthread_once, (pthread_once_t*, void (*)(void)))                                        \
  X(int, sem_init, (sem_t*, int, unsigned))                                                      \
  X(int, sem_destroy, (sem_t*))                                                                  \
  X(int, sem_wait, (sem_t*))                                                                     \
  X(int, sem_trywait, (sem_t*))                                                                  \
  X(int, sem_timedwait, (sem_t*, const struct timespec*))                                        \
  X(int, sem_clockwait, (sem_t*, clockid_t, const struct timespec*))                             \
  X(int, sem_post, (sem_t*))                                                                     \
  X(unsigned, sleep, (unsigned))                                                                 \
  X(int, usleep, (useconds_t))                                                                   \
  X(int, nanosleep, (const struct timespec*, struct timespec*))                                  \
  X(int, clock_nanosleep, (clockid_t, int, const struct timespec*, struct timespec*))            \
  X(int, sched_yield, (void))                                                                    \
  X(int, clock_gettime, (clockid_t, struct timespec*))                                           \
  X(int, gettimeofday, (struct timeval*, void*))                                                 \
  X(time_t, time, (time_t*))                                                                     \
  X(long, syscall, (long, ...))                                                                  \
  X(int, accept, (int, struct sockaddr*, socklen_t*))                                            \
  X(int, accept4, (int, struct sockaddr*, socklen_t*, int))                                      \
  X(int, connect, (int, const struct sockaddr*, socklen_t))                                      \
  X(ssize_t, read, (int, void*, size_t))                                                         \
  X(ssize_t, readv, (int, const struct iovec*, int))                                             \
  X(ssize_t, recv, (int, void*, size_t, int))                                                    \
  X(ssize_t, recvfrom, (int, void*, size_t, int, struct sockaddr*, socklen_t*))                  \
  X(ssize_t, recvmsg, (int, struct msghdr*, int))                                                \
  X(ssize_t, write, (int, const void*, size_t))                                                  \
  X(ssize_t, writev, (int, const struct iovec*, int))                                            \
  X(ssize_t, send, (int, const void*, size_t, int))                                              \
  X(ssize_t, sendto, (int, const void*, size_t, int, const struct sockaddr*, socklen_t))         \
  X(ssize_t, sendmsg, (int, const struct msghdr*, int))                                          \
  X(ssize_t, sendfile, (int, int, off_t*, size_t))                                               \
  X(int, poll, (struct pollfd*, nfds_t, int))                                                    \
  X(int, ppoll, (struct pollfd*, nfds_t, const struct timespec*, const sigset_t*))               \
  X(int, select, (int, fd_set*, fd_set*, fd_set*, struct timeval*))                              \
  X(int, pselect, (int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*))     \
  X(int, epoll_wait, (int, struct epoll_event*, int, int))                                       \
  X(int, epoll_pwait, (int, struct epoll_event*, int, int, const sigset_t*))                     \
  X(int, sigwait, (const sigset_t*, int*))                                                       \
  X(int, sigwaitinfo, (const sigset_t*, siginfo_t*))                                             \
  X(int, sigtimedwait, (const sigset_t*, siginfo_t*, const struct timespec*))                    \
  X(pid_t, waitpid, (pid_t, int*, int))                                                          \
  X(pid_t, wait, (int*))                                                                         \
  X(pid_t, wait4, (pid_t, int*, int, struct rusage*))                                            \
  X(int, waitid, (idtype_t, id_t, siginfo_t*, int))                                              \
  X(int, pause, (void))                                                                          \
  X(int, sigsuspend, (const sigset_t*))                                                          \
  X(pid_t, fork, (void))                                                                         \
  X(int, execve, (const char*, char* const[], char* const[]))                                    \
  X(int, execv, (const char*, char* const[]))                                                    \
  X(int, execvp, (const char*, char* const[]))                                                   \
  X(int, execvpe, (const char*, char* const[], char* const[]))                                   \
  X(void, _exit, (int))                                                                          \
  X(int, open, (const char*, int, ...))                                                          \
  X(int, close, (int))                                                                           \
  X(int, fcntl, (int, int, ...))                                                                 \
  X(int, fstat, (int, struct stat*))

struct Real {
#define LOCKSTEP_DMT_DECLARE(ret, name, args) ret(*name) args;
  LOCKSTEP_DMT_REAL_FUNCTIONS(LOCKSTEP_DMT_DECLARE)
#undef LOCKSTEP_DMT_DECLARE
};

// Filled by resolve_real() before any interposed function does real work.
extern Real real;
void resolve_real();

}  // namespace lockstep::dmt
