#pragma once
// Non-variadic, non-macro entry points for C APIs that Swift cannot call directly.
// Each returns the library's own status code; the Swift wrappers turn it into a typed error.
#include <stdint.h>
#include <semaphore.h>
#include <time.h>

typedef struct OpusEncoder OpusEncoder;

int skryba_opus_set_bitrate(OpusEncoder *encoder, int32_t bitsPerSecond);
int skryba_opus_set_complexity(OpusEncoder *encoder, int32_t complexity);
int skryba_opus_set_vbr(OpusEncoder *encoder, int32_t enabled);
int skryba_opus_set_signal_voice(OpusEncoder *encoder);
int skryba_opus_get_lookahead(OpusEncoder *encoder, int32_t *samples);
int skryba_opus_get_final_range(OpusEncoder *encoder, uint32_t *range);

// alsa-lib prints its own diagnostics to stderr ("Unknown PCM nosuch"). This installs a handler that
// keeps the last message of the calling thread instead, so Skryba can put it in its own error.
void skryba_alsa_capture_errors(void);
// Copies the calling thread's last alsa-lib message (empty if none) and clears it.
void skryba_alsa_take_last_error(char *buffer, int capacity);

// Waits on `semaphore` until `deadline` on CLOCK_MONOTONIC (sem_clockwait, glibc 2.30+), so a step of
// the wall clock (NTP on a board without an RTC) never lengthens or shortens the wait. Retries on EINTR.
// Returns 0 when signalled, else the errno (ETIMEDOUT at the deadline).
int skryba_sem_wait_monotonic(sem_t *semaphore, const struct timespec *deadline);
// Names the calling thread (at most 15 bytes; longer names are refused with ERANGE), as ps/top/gdb show it.
int skryba_thread_set_name(const char *name);
// The calling thread's name (capacity at least 16).
int skryba_thread_get_name(char *buffer, int capacity);
