#pragma once
// Counts calls to the malloc family made by the calling thread between begin and end.
// The test binary links this file, so its malloc/calloc/realloc/memalign definitions interpose
// glibc's for the whole process; they forward to glibc's __libc_* entry points.
void skryba_allocations_begin(void);
long skryba_allocations_end(void);
// Mutex locks (pthread_mutex_lock/trylock, which NSLock uses) taken by the calling thread between
// the last begin and end.
long skryba_locks_counted(void);
