// A private PulseAudio for a visible Chromium (devices mode). Chromium on
// Linux plays and records through PulseAudio when one answers, so the node
// gives it its own:
//   - a null sink, the default sink: what the page plays; its monitor is
//     what the node captures (output "screen");
//   - an ALSA source on the configured capture PCM, the default source:
//     Chromium's microphone (normally snd-aloop's capture side, which the
//     aloop-sink node plays the caller into);
//   - the native protocol on a socket in a private directory (mode 0700),
//     anonymous auth (only this user reaches the directory), no module
//     loading after start, no D-Bus, no hardware probing (-n).
// A child of the node (process/child_process.hpp): it dies with the gateway.
#pragma once

#include "../process/child_process.hpp"

#include <map>
#include <memory>
#include <string>

namespace browsercapture {

class PulseServer {
public:
    // `dir`: a private directory (0700) it may use; `microphone`: the ALSA
    // PCM its default source reads. Waits (at most `timeout_ms`) until it
    // accepts clients; throws std::runtime_error with PulseAudio's own
    // error lines when it does not come up (e.g. the ALSA device missing).
    PulseServer(const std::string &dir, const std::string &microphone, ChildProcess::Exited exited,
                int timeout_ms = 10000);
    ~PulseServer(); // terminates it

    // For clients: "unix:/.../native".
    const std::string &server() const { return server_; }
    // The source to capture what the page plays.
    std::string monitor() const { return std::string(sink_name) + ".monitor"; }
    // The environment that points a client (Chromium) at it.
    std::map<std::string, std::string> client_env() const;
    pid_t pid() const { return process_ ? process_->pid() : -1; }
    const std::string &log_path() const { return log_; }

    static constexpr const char *sink_name = "mediagw_room";
    static constexpr const char *source_name = "mediagw_microphone";

    // The startup script (pulseaudio -n -F): modules, defaults. Throws
    // std::invalid_argument for a device name it cannot quote.
    static std::string script(const std::string &microphone, const std::string &socket);

private:
    std::string runtime_, server_, log_;
    std::unique_ptr<ChildProcess> process_;
};

} // namespace browsercapture
