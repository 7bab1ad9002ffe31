// CPU time and memory of a process from /proc (bounded reads).
#pragma once

#include <sys/types.h>

#include <optional>

namespace mediagw::serve {

struct ProcStats {
    double cpu_seconds = 0; // utime + stime
    double rss_mb = 0;
    double pss_mb = 0;
};

std::optional<ProcStats> read_proc_stats(pid_t pid);
double online_cpus();
double memory_total_mb();

} // namespace mediagw::serve
