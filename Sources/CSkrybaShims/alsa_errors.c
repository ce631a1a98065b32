#include "skryba_shims.h"
#include <alsa/asoundlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __thread char last_error[512];

static void capture_error(const char *file, int line, const char *function, int err, const char *fmt, ...) {
    (void)file; (void)line; (void)function; (void)err;
    va_list args;
    va_start(args, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, args);
    va_end(args);
}

void skryba_alsa_capture_errors(void) { snd_lib_error_set_handler(capture_error); }

void skryba_alsa_take_last_error(char *buffer, int capacity) {
    if (capacity <= 0) return;
    snprintf(buffer, (size_t)capacity, "%s", last_error);
    last_error[0] = '\0';
}
