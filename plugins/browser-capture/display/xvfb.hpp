// A private X display for a visible Chromium (devices mode): Xvfb at the
// configured size, its display number picked free by Xvfb itself
// (-displayfd) and read back, TCP off. A child of the node like Chromium
// (process/child_process.hpp): it dies with the gateway, and its exit is
// reported on the main loop.
#pragma once

#include "../process/child_process.hpp"

#include <memory>
#include <string>

namespace browsercapture {

class Xvfb {
public:
    // Starts Xvfb and waits (at most `timeout_ms`) until it serves its
    // display. Throws std::runtime_error naming the cause (Xvfb missing,
    // exited: its last error line) when it does not come up. `exited(how)`
    // as ChildProcess's.
    Xvfb(int width, int height, const std::string &log_path, ChildProcess::Exited exited, int timeout_ms = 10000);
    ~Xvfb(); // terminates it

    const std::string &display() const { return display_; } // ":N"
    pid_t pid() const { return process_ ? process_->pid() : -1; }

    // The command line (for the log and scripts/bench's reference chain).
    static std::vector<std::string> arguments(const std::string &executable, int width, int height, int displayfd);

private:
    std::string display_;
    std::unique_ptr<ChildProcess> process_;
};

// The last lines of a child's log that look like errors (for a message).
std::string last_errors(const std::string &log_path, size_t max_lines = 3);

} // namespace browsercapture
