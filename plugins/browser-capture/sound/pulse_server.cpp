#include "pulse_server.hpp"

#include "../display/xvfb.hpp" // last_errors

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <stdexcept>

namespace browsercapture {
namespace {

bool accepts(const std::string &socket_path)
{
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    g_strlcpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path);
    const bool ok = connect(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0;
    close(fd);
    return ok;
}

// A zombie counts as ended: its exit is the child watch's to reap.
bool ended(pid_t pid)
{
    if (pid <= 0)
        return true;
    gchar *text = nullptr;
    const std::string path = "/proc/" + std::to_string(pid) + "/stat";
    if (!g_file_get_contents(path.c_str(), &text, nullptr, nullptr))
        return true;
    const char *close_paren = strrchr(text, ')');
    const bool zombie = close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
    g_free(text);
    return zombie;
}

// The PulseAudio server an ALSA `pulse` PCM in the gateway itself would
// reach (libasound2-plugins uses PULSE_SERVER, else the runtime directory's
// socket). The private daemon gets it as PULSE_SERVER so that a `pulse`
// PCM standing in for a loopback card reaches that server, not the private
// daemon itself (which would wait for itself while it loads the source).
std::string gateway_pulse_server()
{
    if (const char *s = g_getenv("PULSE_SERVER"))
        return s;
    for (const char *var : {"PULSE_RUNTIME_PATH", "XDG_RUNTIME_DIR"}) {
        const char *dir = g_getenv(var);
        if (!dir || !*dir)
            continue;
        const std::string socket = std::string(dir) + (g_str_equal(var, "XDG_RUNTIME_DIR") ? "/pulse" : "") + "/native";
        struct stat st;
        if (stat(socket.c_str(), &st) == 0 && S_ISSOCK(st.st_mode))
            return "unix:" + socket;
    }
    return "";
}

std::string quoted(const std::string &value)
{
    for (char c : value)
        if (c == '"' || c == '\'' || c == '\\' || c == '\n' || c == '\r')
            throw std::invalid_argument("the ALSA device name '" + value + "' has a quote, backslash or newline");
    return "\"" + value + "\"";
}

} // namespace

std::string PulseServer::script(const std::string &microphone, const std::string &socket)
{
    // The protocol module last: once its socket answers, every module above
    // loaded (a failing one ends the daemon).
    return std::string("load-module module-null-sink sink_name=") + sink_name +
           " rate=48000 channels=2 sink_properties=device.description=mediagw-room\n"
           "load-module module-alsa-source device=" +
           quoted(microphone) + " source_name=" + source_name +
           " source_properties=device.description=mediagw-microphone\n"
           "set-default-sink " +
           sink_name + "\nset-default-source " + source_name +
           "\n"
           "load-module module-native-protocol-unix auth-anonymous=1 socket=" +
           quoted(socket) + "\n";
}

PulseServer::PulseServer(const std::string &dir, const std::string &microphone, ChildProcess::Exited exited,
                         int timeout_ms)
{
    gchar *exe = g_find_program_in_path("pulseaudio");
    if (!exe)
        throw std::runtime_error("pulseaudio is not installed (Debian package pulseaudio): devices mode needs it");
    const std::string executable = exe;
    g_free(exe);
    runtime_ = dir + "/pulse";
    if (g_mkdir_with_parents(runtime_.c_str(), 0700) != 0)
        throw std::runtime_error("cannot create " + runtime_ + ": " + strerror(errno));
    const std::string socket = runtime_ + "/native", script_path = runtime_ + "/mediagw.pa";
    server_ = "unix:" + socket;
    log_ = dir + "/pulseaudio.log";
    {
        std::ofstream f(script_path);
        f << script(microphone, socket);
        if (!f)
            throw std::runtime_error("cannot write " + script_path);
    }
    Spawn spawn;
    spawn.argv = {executable, "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no", "--system=no",
                  "--disallow-module-loading", "--log-target=stderr", "--file=" + script_path};
    // Its state (cookie, databases) stays in the private directory; HOME
    // stays, for the user's ~/.asoundrc (ALSA device definitions).
    spawn.env = {{"PULSE_RUNTIME_PATH", runtime_},
                 {"XDG_RUNTIME_DIR", runtime_},
                 {"PULSE_STATE_PATH", dir + "/pulse-state"},
                 {"XDG_CONFIG_HOME", dir + "/config"}};
    const std::string upstream = gateway_pulse_server();
    if (!upstream.empty())
        spawn.env["PULSE_SERVER"] = upstream;
    else
        spawn.unset_env = {"PULSE_SERVER"};
    spawn.log_path = log_;
    process_ = std::make_unique<ChildProcess>("PulseAudio", spawn, std::move(exited));
    const gint64 deadline = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
    while (!accepts(socket)) {
        const bool gone = ended(process_->pid());
        if (gone || g_get_monotonic_time() > deadline) {
            process_->terminate(500);
            process_.reset();
            const std::string errors = last_errors(log_);
            throw std::runtime_error(std::string("PulseAudio ") +
                                     (gone ? "ended at start" : "did not start within " +
                                                                    std::to_string(timeout_ms / 1000) + " s") +
                                     " (microphone: ALSA device '" + microphone + "')" +
                                     (errors.empty() ? "" : ": " + errors));
        }
        g_usleep(20 * 1000);
    }
}

PulseServer::~PulseServer()
{
    if (process_)
        process_->terminate(1000);
}

std::map<std::string, std::string> PulseServer::client_env() const
{
    return {{"PULSE_SERVER", server_}, {"PULSE_RUNTIME_PATH", runtime_}};
}

} // namespace browsercapture
