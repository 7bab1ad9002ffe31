// The stop watchdog (core/src/stop_watchdog.cpp): a stop not disarmed in
// time ends the process with exit code 1; a disarmed one never does. Each
// case runs in a forked child, since the watchdog ends the whole process.
#include "stop_watchdog.hpp"

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

// The child's exit status after `body`, or -1 if it did not exit normally.
template <typename F> int in_child(F body)
{
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        body();
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

} // namespace

using namespace std::chrono_literals;

TEST_CASE("a stuck stop ends the process with exit code 1")
{
    int dummy = 0;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(in_child([&] {
              mediagw::arm_stop_watchdog(&dummy, 100ms, "test");
              std::this_thread::sleep_for(5s); // stuck
          }) == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}

TEST_CASE("a stop that ends in time is left alone")
{
    int a = 0, b = 0;
    CHECK(in_child([&] {
              mediagw::arm_stop_watchdog(&a, 200ms, "a");
              mediagw::arm_stop_watchdog(&b, 300ms, "b");
              mediagw::disarm_stop_watchdog(&a);
              mediagw::disarm_stop_watchdog(&b);
              std::this_thread::sleep_for(600ms);
          }) == 0);
}

TEST_CASE("the earliest of several stops decides")
{
    int a = 0, b = 0;
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(in_child([&] {
              mediagw::arm_stop_watchdog(&a, 5s, "a");
              mediagw::arm_stop_watchdog(&b, 100ms, "b");
              std::this_thread::sleep_for(5s);
          }) == 1);
    CHECK(std::chrono::steady_clock::now() - t0 < 3s);
}
