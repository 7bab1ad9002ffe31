// A helper process the node owns (Chromium, Xvfb, PulseAudio): started in a
// process group of its own with PR_SET_PDEATHSIG, so that it dies with the
// gateway even when the gateway is killed with SIGKILL, and its exit is
// reported on the main loop at once (g_child_watch). Stopping is bounded:
// SIGTERM to the group, SIGKILL after a grace period.
#pragma once

#include <glib.h>
#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace browsercapture {

struct Spawn {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;  // set on top of the gateway's environment
    std::vector<std::string> unset_env;       // removed from it
    // Descriptors the child inherits: child fd number -> the parent's fd.
    // The parent's copies are not closed here.
    std::map<int, int> fds;
    std::string log_path;                     // stdout+stderr appended here; empty: /dev/null
};

class ChildProcess {
public:
    // `exited(status text)`: on the main loop, once, when the child ends on
    // its own (not after terminate()).
    using Exited = std::function<void(const std::string &how)>;

    // Throws std::runtime_error when the process cannot be started.
    ChildProcess(const std::string &label, const Spawn &spawn, Exited exited);
    ~ChildProcess(); // terminate()s, waiting at most the grace period
    ChildProcess(const ChildProcess &) = delete;
    ChildProcess &operator=(const ChildProcess &) = delete;

    pid_t pid() const { return pid_; }
    bool running() const { return pid_ > 0; }
    const std::string &label() const { return label_; }

    // SIGTERM to the process group, SIGKILL to it after `grace_ms`; returns
    // when the leader is reaped. The group's stragglers get the SIGKILL too.
    void terminate(int grace_ms = 2000);

    // "exited with status 3", "killed by signal 9 (Killed)".
    static std::string describe(int wait_status);

private:
    static void on_child_exit(GPid pid, gint status, gpointer self);

    std::string label_;
    pid_t pid_ = -1;
    guint watch_ = 0;
    Exited exited_;
};

} // namespace browsercapture
