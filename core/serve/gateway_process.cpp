#include "gateway_process.hpp"

#include "child_setup.hpp"
#include "log.hpp"

#include <glib-unix.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace mediagw::serve {

namespace {

constexpr int kChildControlFd = 3;

// Everything the child needs, built before fork(): between fork() and
// exec() only async-signal-safe calls.
struct Prepared {
    std::vector<std::string> args, env;
    std::vector<char *> argv, envp;
    int log_fd = -1, null_fd = -1;
};

void prepare(const ProcessSpec &spec, Prepared &p)
{
    if (spec.argv.empty())
        throw std::runtime_error("no program to start");
    p.args = spec.argv;
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e)
        if (const char *eq = strchr(*e, '='))
            env[std::string(*e, size_t(eq - *e))] = eq + 1;
    // The supervisor's own systemd hand-over is not the gateway's.
    for (const char *name : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID"})
        env.erase(name);
    for (const auto &[name, value] : spec.env)
        env[name] = value;
    for (const auto &[name, value] : env)
        p.env.push_back(name + "=" + value);
    for (auto &a : p.args)
        p.argv.push_back(a.data());
    p.argv.push_back(nullptr);
    for (auto &e : p.env)
        p.envp.push_back(e.data());
    p.envp.push_back(nullptr);
    p.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!spec.log_path.empty())
        p.log_fd = open(spec.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
}

[[noreturn]] void child_exec(Prepared &p, int control, pid_t parent)
{
    mgwsupport::child_enter_own_group(parent); // stop/kill reach whatever the gateway starts
    const int high = fcntl(control, F_DUPFD, 100);
    if (p.null_fd >= 0)
        dup2(p.null_fd, 0);
    if (p.log_fd >= 0) {
        dup2(p.log_fd, 1);
        dup2(p.log_fd, 2);
    }
    dup2(high, kChildControlFd); // dup2 clears FD_CLOEXEC on the copy
    syscall(SYS_close_range, kChildControlFd + 1, ~0U, 0);
    execve(p.argv[0], p.argv.data(), p.envp.data());
    _exit(127);
}

} // namespace

std::string GatewayProcess::describe(int status) { return mgwsupport::describe_wait_status(status); }

GatewayProcess::GatewayProcess(const ProcessSpec &spec, Line line, Exited exited)
    : line_(std::move(line)), exited_(std::move(exited))
{
    Prepared p;
    prepare(spec, p);
    auto close_prepared = [&] {
        if (p.null_fd >= 0)
            close(p.null_fd);
        if (p.log_fd >= 0)
            close(p.log_fd);
    };
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
        close_prepared();
        throw std::runtime_error(std::string("socketpair: ") + strerror(errno));
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0)
        child_exec(p, pair[1], parent);
    const int fork_errno = errno;
    close_prepared();
    close(pair[1]);
    if (pid_ < 0) {
        close(pair[0]);
        throw std::runtime_error(std::string("fork: ") + strerror(fork_errno));
    }
    setpgid(pid_, pid_); // also from here: no race with a kill() of the group
    fd_ = pair[0];
    g_unix_set_fd_nonblocking(fd_, TRUE, nullptr);
    fd_watch_ = g_unix_fd_add(fd_, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), on_readable, this);
    child_watch_ = g_child_watch_add(pid_, on_exit, this);
}

GatewayProcess::~GatewayProcess()
{
    if (fd_watch_)
        g_source_remove(fd_watch_);
    if (fd_ >= 0)
        close(fd_);
    if (pid_ > 0) {
        // Still running: gone with its group; GLib reaps it (no watch left:
        // a plain waitpid so that no zombie stays).
        g_source_remove(child_watch_);
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
    }
}

bool GatewayProcess::send(const std::string &json_line)
{
    if (fd_ < 0)
        return false;
    const std::string out = json_line + "\n";
    // Commands are short and the gateway reads them at once; a full socket
    // buffer means a stuck gateway: the command is lost, said by the result.
    ssize_t n = ::send(fd_, out.data(), out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == ssize_t(out.size());
}

void GatewayProcess::kill_group(int sig)
{
    if (pid_ > 0)
        kill(-pid_, sig);
}

gboolean GatewayProcess::on_readable(gint fd, GIOCondition, gpointer data)
{
    auto self = static_cast<GatewayProcess *>(data);
    char buf[8192];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) { // closed: the exit follows through the child watch
        // Removed here, not only by the return value: on_exit() calls this
        // directly too, and a source left attached would outlive `self`
        // (and watch whatever descriptor reuses the number).
        if (self->fd_watch_)
            g_source_remove(self->fd_watch_);
        self->fd_watch_ = 0;
        close(self->fd_);
        self->fd_ = -1;
        return G_SOURCE_REMOVE;
    }
    for (ssize_t i = 0; i < n; ++i) {
        if (buf[i] != '\n') {
            if (self->discarding_)
                continue;
            if (self->inbox_.size() >= kMaxLine) {
                log(MGW_LOG_WARNING, "serve", "a gateway's control line over 64 KiB: dropped");
                self->inbox_.clear();
                self->discarding_ = true;
            } else {
                self->inbox_ += buf[i];
            }
            continue;
        }
        if (!self->discarding_ && !self->inbox_.empty()) {
            JsonParser *parser = json_parser_new();
            if (json_parser_load_from_data(parser, self->inbox_.data(), (gssize)self->inbox_.size(), nullptr)) {
                JsonNode *root = json_parser_get_root(parser);
                if (root && JSON_NODE_HOLDS_OBJECT(root)) {
                    try {
                        self->line_(json_node_get_object(root));
                    } catch (const std::exception &e) { // nothing thrown crosses GLib's frame
                        log(MGW_LOG_ERROR, "serve", std::string("handling a gateway's line: ") + e.what());
                    }
                }
            }
            g_object_unref(parser);
        }
        self->inbox_.clear();
        self->discarding_ = false;
    }
    return G_SOURCE_CONTINUE;
}

void GatewayProcess::on_exit(GPid pid, gint status, gpointer data)
{
    auto self = static_cast<GatewayProcess *>(data);
    g_spawn_close_pid(pid);
    self->child_watch_ = 0;
    self->pid_ = -1;
    kill(-pid, SIGKILL); // what it left in its group goes with it
    // Lines still buffered in the socket (the exit line) come first.
    // (Bounded: a descriptor some straggler still holds would never close.)
    for (int i = 0; i < 64 && self->fd_watch_ && on_readable(self->fd_, G_IO_IN, self) == G_SOURCE_CONTINUE; ++i)
        ;
    auto exited = self->exited_; // may destroy this
    try {
        exited(status);
    } catch (const std::exception &e) {
        log(MGW_LOG_ERROR, "serve", std::string("handling a gateway's exit: ") + e.what());
    }
}

} // namespace mediagw::serve
