#define _GNU_SOURCE
#include "allocation_counter.h"
#include <errno.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *pointer);

static __thread int counting __attribute__((tls_model("initial-exec")));
static __thread long allocations __attribute__((tls_model("initial-exec")));
static __thread long locks __attribute__((tls_model("initial-exec")));

static void find_mutex_functions(void);
void skryba_allocations_begin(void) { find_mutex_functions(); allocations = 0; locks = 0; counting = 1; }
long skryba_allocations_end(void) { counting = 0; return allocations; }
long skryba_locks_counted(void) { return locks; }

static inline void note(void) { if (counting) allocations++; }

// NSLock and every pthread mutex (Synchronization's Mutex uses futexes directly and is not counted).
// glibc's own entry points are found once, before any counting (dlsym may allocate).
typedef int (*mutex_function)(pthread_mutex_t *);
static mutex_function real_lock, real_trylock;
static void find_mutex_functions(void) {
    if (!real_lock) real_lock = (mutex_function)dlsym(RTLD_NEXT, "pthread_mutex_lock");
    if (!real_trylock) real_trylock = (mutex_function)dlsym(RTLD_NEXT, "pthread_mutex_trylock");
}
int pthread_mutex_lock(pthread_mutex_t *mutex) {
    if (counting) locks++;
    find_mutex_functions();
    return real_lock(mutex);
}
int pthread_mutex_trylock(pthread_mutex_t *mutex) {
    if (counting) locks++;
    find_mutex_functions();
    return real_trylock(mutex);
}

void *malloc(size_t size) { note(); return __libc_malloc(size); }
void *calloc(size_t count, size_t size) { note(); return __libc_calloc(count, size); }
void *realloc(void *pointer, size_t size) { note(); return __libc_realloc(pointer, size); }
void free(void *pointer) { __libc_free(pointer); }
void *memalign(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
void *aligned_alloc(size_t alignment, size_t size) { note(); return __libc_memalign(alignment, size); }
int posix_memalign(void **result, size_t alignment, size_t size) {
    note();
    void *pointer = __libc_memalign(alignment, size);
    if (!pointer && size) return ENOMEM;
    *result = pointer;
    return 0;
}
