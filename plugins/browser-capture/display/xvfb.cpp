#include "xvfb.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <vector>

namespace browsercapture {

std::string last_errors(const std::string &log_path, size_t max_lines)
{
    std::ifstream in(log_path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        // Xvfb: "(EE) ...", "Fatal server error:"; PulseAudio: "E: [...] ...".
        if (line.rfind("E: ", 0) == 0 || line.rfind("(EE)", 0) == 0 || line.find("rror") != std::string::npos)
            if (line != "(EE) " && line.find("Please consult") == std::string::npos)
                lines.push_back(line);
    }
    std::string out;
    for (size_t i = lines.size() > max_lines ? lines.size() - max_lines : 0; i < lines.size(); ++i)
        out += (out.empty() ? "" : " | ") + lines[i];
    return out;
}

std::vector<std::string> Xvfb::arguments(const std::string &executable, int width, int height, int displayfd)
{
    return {executable,
            "-screen", "0", std::to_string(width) + "x" + std::to_string(height) + "x24",
            "-nolisten", "tcp",
            // Without -noreset the server resets whenever its last client
            // goes, e.g. between a capture's reconnects.
            "-noreset",
            "-displayfd", std::to_string(displayfd)};
}

Xvfb::Xvfb(int width, int height, const std::string &log_path, ChildProcess::Exited exited, int timeout_ms)
{
    gchar *exe = g_find_program_in_path("Xvfb");
    if (!exe)
        throw std::runtime_error("Xvfb is not installed (Debian package xvfb): devices mode needs it");
    const std::string executable = exe;
    g_free(exe);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + strerror(errno));
    Spawn spawn;
    constexpr int child_fd = 3;
    spawn.argv = arguments(executable, width, height, child_fd);
    spawn.fds = {{child_fd, fds[1]}};
    spawn.log_path = log_path;
    try {
        process_ = std::make_unique<ChildProcess>("Xvfb", spawn, std::move(exited));
    } catch (...) {
        close(fds[0]);
        close(fds[1]);
        throw;
    }
    close(fds[1]);
    // Xvfb writes its display number, then a newline, once it accepts
    // clients; EOF first means it ended.
    std::string number;
    const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
    bool eof = false;
    while (number.find('\n') == std::string::npos && number.size() < 16) { // a display number, bounded
        const int left = int((deadline - g_get_monotonic_time()) / 1000);
        if (left <= 0)
            break;
        pollfd p{fds[0], POLLIN, 0};
        const int n = poll(&p, 1, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        char buf[32];
        const ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            eof = true;
            break;
        }
        number.append(buf, size_t(got));
    }
    close(fds[0]);
    char *end = nullptr;
    const long n = strtol(number.c_str(), &end, 10);
    if (number.find('\n') == std::string::npos || end == number.c_str() || n < 0) {
        process_->terminate(500);
        process_.reset();
        const std::string errors = last_errors(log_path);
        throw std::runtime_error(std::string("Xvfb ") +
                                 (eof ? "ended before serving a display" : "served no display within " +
                                                                               std::to_string(timeout_ms / 1000) + " s") +
                                 (errors.empty() ? "" : ": " + errors));
    }
    display_ = ":" + std::to_string(n);
}

Xvfb::~Xvfb()
{
    if (process_)
        process_->terminate(1000);
}

} // namespace browsercapture
