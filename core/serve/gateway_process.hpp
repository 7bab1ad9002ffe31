// One gateway process of `mediagw serve`: `mediagw run --control-fd 3 ...`
// started in a process group of its own with PR_SET_PDEATHSIG (it dies with
// the supervisor, SIGKILL included; the same way as browser-capture's
// process/child_process.cpp), its control channel read on the main loop
// (JSON lines, bounded), its exit reported once, with the wait status.
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mediagw::serve {

struct ProcessSpec {
    std::vector<std::string> argv;          // argv[0]: a path
    std::map<std::string, std::string> env; // on top of the supervisor's
    std::string log_path;                   // stdout+stderr appended here; empty: inherited
};

class GatewayProcess {
public:
    static constexpr size_t kMaxLine = 64 * 1024;
    using Line = std::function<void(JsonObject *line)>;
    using Exited = std::function<void(int wait_status)>;

    // Throws std::runtime_error when it cannot be started.
    GatewayProcess(const ProcessSpec &spec, Line line, Exited exited);
    ~GatewayProcess(); // kills the group if still running (reaped by the watch)
    GatewayProcess(const GatewayProcess &) = delete;
    GatewayProcess &operator=(const GatewayProcess &) = delete;

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    bool send(const std::string &json_line); // false when the channel is gone
    void kill_group(int sig);

    // "exited with status 3", "killed by signal 9 (Killed)".
    static std::string describe(int wait_status);

private:
    static gboolean on_readable(gint fd, GIOCondition cond, gpointer self);
    static void on_exit(GPid pid, gint status, gpointer self);

    pid_t pid_ = -1;
    int fd_ = -1;
    guint fd_watch_ = 0, child_watch_ = 0;
    std::string inbox_;
    bool discarding_ = false;
    Line line_;
    Exited exited_;
};

} // namespace mediagw::serve
