#include "log.hpp"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <sys/time.h>

namespace mediagw {

static std::atomic<int> current_level{MGW_LOG_INFO};
static std::atomic<FILE *> output{nullptr}; // nullptr: stderr

void set_log_level(mgw_log_level level) { current_level = clamp_log_level(level); }
void set_log_output(FILE *stream) { output = stream; }

// A level comes from a plugin as any int: below ERROR is still an error
// (never hide it), above DEBUG is debug.
mgw_log_level clamp_log_level(int level)
{
    return static_cast<mgw_log_level>(level < MGW_LOG_ERROR ? MGW_LOG_ERROR
                                      : level > MGW_LOG_DEBUG ? MGW_LOG_DEBUG
                                                              : level);
}
mgw_log_level log_level() { return static_cast<mgw_log_level>(current_level.load()); }

bool parse_log_level(const std::string &text, mgw_log_level &level)
{
    if (text == "error")
        level = MGW_LOG_ERROR;
    else if (text == "warning" || text == "warn")
        level = MGW_LOG_WARNING;
    else if (text == "info")
        level = MGW_LOG_INFO;
    else if (text == "debug")
        level = MGW_LOG_DEBUG;
    else
        return false;
    return true;
}

void log(mgw_log_level level, const std::string &category, const std::string &message)
{
    level = clamp_log_level(level);
    if (level > current_level.load())
        return;
    static const char *names[] = {"", "ERROR", "WARN ", "INFO ", "DEBUG"};
    struct timeval tv;
    gettimeofday(&tv, nullptr);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    // One fprintf per line keeps lines from different threads whole.
    FILE *out = output.load();
    std::fprintf(out ? out : stderr, "%02d:%02d:%02d.%03d %s [%s] %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
                 (int)(tv.tv_usec / 1000), names[level], category.c_str(), message.c_str());
}

} // namespace mediagw
