// Captures the core's log (every level) for one test; restores stderr and
// the previous level afterwards.
#pragma once

#include "log.hpp"

#include <cstdio>
#include <string>

namespace unit {

class LogCapture {
public:
    LogCapture() : file_(std::tmpfile()), level_(mediagw::log_level())
    {
        mediagw::set_log_output(file_);
        mediagw::set_log_level(MGW_LOG_DEBUG);
    }
    ~LogCapture()
    {
        mediagw::set_log_output(nullptr);
        mediagw::set_log_level(level_);
        std::fclose(file_);
    }
    LogCapture(const LogCapture &) = delete;

    std::string text() const
    {
        std::fflush(file_);
        std::rewind(file_);
        std::string out;
        char buf[4096];
        while (size_t n = std::fread(buf, 1, sizeof buf, file_))
            out.append(buf, n);
        std::fseek(file_, 0, SEEK_END);
        return out;
    }
    bool has(const std::string &part) const { return text().find(part) != std::string::npos; }

private:
    FILE *file_;
    mgw_log_level level_;
};

} // namespace unit
