#pragma once
// adjtimex(2): the kernel's NTP state (STA_UNSYNC, TIME_ERROR), which Glibc's Swift module leaves out.
#include <sys/timex.h>
