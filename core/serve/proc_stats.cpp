#include "proc_stats.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace mediagw::serve {

namespace {

// At most `max` bytes of a /proc file.
std::string read_small(const std::string &path, size_t max = 8192)
{
    FILE *f = fopen(path.c_str(), "re");
    if (!f)
        return {};
    std::string out(max, '\0');
    size_t n = fread(out.data(), 1, max, f);
    fclose(f);
    out.resize(n);
    return out;
}

// "Name:   1234 kB" in a /proc status-like file, in MB.
double field_mb(const std::string &text, const char *name)
{
    auto at = text.find(std::string("\n") + name + ":");
    if (at == std::string::npos)
        return 0;
    return strtod(text.c_str() + at + strlen(name) + 2, nullptr) / 1024.0;
}

} // namespace

std::optional<ProcStats> read_proc_stats(pid_t pid)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/";
    std::string stat = read_small(dir + "stat", 2048);
    auto paren = stat.rfind(')'); // the command name may hold spaces and parentheses
    if (paren == std::string::npos)
        return std::nullopt;
    ProcStats s;
    // Fields after ')': 3 state ... 14 utime, 15 stime.
    const char *p = stat.c_str() + paren + 2;
    unsigned long long utime = 0, stime = 0;
    if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return std::nullopt;
    s.cpu_seconds = double(utime + stime) / double(sysconf(_SC_CLK_TCK));
    std::string rollup = "\n" + read_small(dir + "smaps_rollup");
    s.rss_mb = field_mb(rollup, "Rss");
    s.pss_mb = field_mb(rollup, "Pss");
    return s;
}

double online_cpus()
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? double(n) : 1.0;
}

double memory_total_mb()
{
    return field_mb("\n" + read_small("/proc/meminfo"), "MemTotal");
}

} // namespace mediagw::serve
