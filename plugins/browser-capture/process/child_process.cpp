#include "child_process.hpp"

#include "child_setup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

extern char **environ;

namespace browsercapture {
namespace {

// Everything the child needs, built before fork(): between fork() and exec()
// only async-signal-safe calls are allowed (the gateway has threads).
struct Prepared {
    std::vector<std::string> args, env;
    std::vector<char *> argv, envp;
    std::vector<std::pair<int, int>> fds; // child fd, parent fd
    int log_fd = -1, null_fd = -1;
};

void prepare(const Spawn &spawn, Prepared &p)
{
    if (spawn.argv.empty())
        throw std::runtime_error("no program to start");
    p.args = spawn.argv;
    std::map<std::string, std::string> env;
    for (char **e = environ; e && *e; ++e) {
        const char *eq = strchr(*e, '=');
        if (eq)
            env[std::string(*e, size_t(eq - *e))] = eq + 1;
    }
    for (const auto &name : spawn.unset_env)
        env.erase(name);
    for (const auto &[name, value] : spawn.env)
        env[name] = value;
    for (const auto &[name, value] : env)
        p.env.push_back(name + "=" + value);
    for (auto &a : p.args)
        p.argv.push_back(a.data());
    p.argv.push_back(nullptr);
    for (auto &e : p.env)
        p.envp.push_back(e.data());
    p.envp.push_back(nullptr);
    for (const auto &[child, parent] : spawn.fds)
        p.fds.emplace_back(child, parent);
    p.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (!spawn.log_path.empty())
        p.log_fd = open(spawn.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (p.null_fd < 0)
        throw std::runtime_error(std::string("cannot open /dev/null: ") + strerror(errno));
}

[[noreturn]] void child_exec(Prepared &p, pid_t parent)
{
    // Own process group (terminate() reaches every process it starts); dies
    // with the gateway's main thread (the one that forked: the main loop).
    mgwsupport::child_enter_own_group(parent);
    // Move the inherited descriptors out of the way first, so that a target
    // number that is also another one's source is not overwritten.
    int high[16];
    const size_t n = p.fds.size() < 16 ? p.fds.size() : 16;
    for (size_t i = 0; i < n; ++i)
        high[i] = fcntl(p.fds[i].second, F_DUPFD, 100);
    dup2(p.null_fd, 0);
    dup2(p.log_fd >= 0 ? p.log_fd : p.null_fd, 1);
    dup2(p.log_fd >= 0 ? p.log_fd : p.null_fd, 2);
    for (size_t i = 0; i < n; ++i)
        if (high[i] >= 0)
            dup2(high[i], p.fds[i].first); // dup2 clears FD_CLOEXEC on the copy
    int first_free = 3;
    for (size_t i = 0; i < n; ++i)
        if (p.fds[i].first >= first_free)
            first_free = p.fds[i].first + 1;
    syscall(SYS_close_range, first_free, ~0U, 0);
    execve(p.argv[0], p.argv.data(), p.envp.data());
    _exit(127);
}

} // namespace

std::string ChildProcess::describe(int status) { return mgwsupport::describe_wait_status(status); }

ChildProcess::ChildProcess(const std::string &label, const Spawn &spawn, Exited exited)
    : label_(label), exited_(std::move(exited))
{
    Prepared p;
    try {
        prepare(spawn, p);
    } catch (...) {
        if (p.null_fd >= 0)
            close(p.null_fd);
        if (p.log_fd >= 0)
            close(p.log_fd);
        throw;
    }
    if (p.fds.size() > 16)
        throw std::runtime_error(label + ": too many inherited descriptors");
    if (access(p.argv[0], X_OK) != 0) {
        const int err = errno;
        close(p.null_fd);
        if (p.log_fd >= 0)
            close(p.log_fd);
        throw std::runtime_error(label + ": cannot run " + p.args[0] + ": " + strerror(err));
    }
    const pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0)
        child_exec(p, parent);
    const int fork_errno = errno;
    close(p.null_fd);
    if (p.log_fd >= 0)
        close(p.log_fd);
    if (pid_ < 0)
        throw std::runtime_error(label + ": fork failed: " + strerror(fork_errno));
    setpgid(pid_, pid_); // also from here: no race with a kill() of the group
    watch_ = g_child_watch_add(pid_, on_child_exit, this);
}

ChildProcess::~ChildProcess()
{
    terminate();
}

void ChildProcess::on_child_exit(GPid pid, gint status, gpointer data)
{
    auto *self = static_cast<ChildProcess *>(data);
    g_spawn_close_pid(pid);
    self->watch_ = 0;
    self->pid_ = -1;
    kill(-pid, SIGKILL); // what it started in its group goes with it
    if (self->exited_) {
        auto exited = self->exited_; // may destroy this
        try {
            exited(describe(status));
        } catch (...) { // no exception may cross GLib's frame
            g_critical("browser-capture: the exit handler of a child process threw");
        }
    }
}

void ChildProcess::terminate(int grace_ms)
{
    if (pid_ <= 0)
        return;
    if (watch_) {
        g_source_remove(watch_);
        watch_ = 0;
    }
    kill(-pid_, SIGTERM);
    int status = 0;
    pid_t done = 0;
    for (int waited = 0; waited < grace_ms; waited += 20) {
        done = waitpid(pid_, &status, WNOHANG);
        if (done != 0)
            break;
        g_usleep(20 * 1000);
    }
    kill(-pid_, SIGKILL);
    if (done == 0)
        waitpid(pid_, &status, 0);
    pid_ = -1;
}

} // namespace browsercapture
