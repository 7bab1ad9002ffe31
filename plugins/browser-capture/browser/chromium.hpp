// The node's own Chromium: a fresh profile directory (removed when the node
// goes; ones left by a gateway that was SIGKILLed are removed by the next
// one), DevTools over --remote-debugging-pipe (no port anyone could reach),
// the sandbox on unless the gateway runs as root, where Chromium refuses it.
#pragma once

#include "../devtools/devtools_pipe.hpp"
#include "../process/child_process.hpp"
#include "../process/private_dir.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace browsercapture {

struct ChromiumOptions {
    std::string executable = "/usr/bin/chromium";
    int width = 1280, height = 720;
    bool headless = true;       // inject mode; devices mode shows it on its own X display
    bool tab_capture = false;   // getDisplayMedia of its own tab accepted without a prompt
    bool fake_ui = false;       // permission prompts accepted (devices mode; it breaks tab capture)
    std::vector<std::string> extra_args;
    std::map<std::string, std::string> env; // DISPLAY, PULSE_SERVER in devices mode
    std::string log_path;
};

class Chromium {
public:
    using Log = std::function<void(const std::string &)>;
    // `exited(how)`: Chromium ended on its own (crash, kill, exit), on the
    // main loop within a moment of it. Throws std::runtime_error when it
    // cannot be started.
    Chromium(const ChromiumOptions &options, DevToolsPipe::Event event, Log log,
             std::function<void(const std::string &how)> exited);
    ~Chromium(); // closes the pipe, ends the process group, removes the profile

    DevToolsPipe &devtools() { return *devtools_; }
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    const std::string &profile_dir() const { return profile_->path(); }

    // The flags it is started with (also for the reference chain in scripts/bench).
    static std::vector<std::string> arguments(const ChromiumOptions &options, const std::string &profile,
                                              bool sandbox);

private:
    std::unique_ptr<PrivateDir> profile_;
    std::unique_ptr<DevToolsPipe> devtools_;
    std::unique_ptr<ChildProcess> process_;
};

} // namespace browsercapture
