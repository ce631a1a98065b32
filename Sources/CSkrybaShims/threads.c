#define _GNU_SOURCE
#include "skryba_shims.h"
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>

// Swift's Glibc module does not see the GNU extensions below (they need _GNU_SOURCE).

int skryba_sem_wait_monotonic(sem_t *semaphore, const struct timespec *deadline) {
    int status;
    do {
        status = sem_clockwait(semaphore, CLOCK_MONOTONIC, deadline);
    } while (status != 0 && errno == EINTR);
    return status == 0 ? 0 : errno;
}

int skryba_thread_set_name(const char *name) { return pthread_setname_np(pthread_self(), name); }

int skryba_thread_get_name(char *buffer, int capacity) {
    return pthread_getname_np(pthread_self(), buffer, (size_t)capacity);
}
