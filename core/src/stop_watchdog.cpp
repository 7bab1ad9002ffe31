#include "stop_watchdog.hpp"

#include "log.hpp"

#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

namespace mediagw {

namespace {

struct Watchdog {
    std::mutex mutex;
    std::condition_variable changed;
    std::map<const void *, std::pair<std::chrono::steady_clock::time_point, std::string>> stops;
    bool running = false;

    void loop()
    {
        std::unique_lock lock(mutex);
        for (;;) {
            if (stops.empty()) {
                changed.wait(lock);
                continue;
            }
            auto first = stops.begin();
            for (auto it = stops.begin(); it != stops.end(); ++it)
                if (it->second.first < first->second.first)
                    first = it;
            // Copies: the map may change while the lock is released.
            const void *owner = first->first;
            const auto deadline = first->second.first;
            if (changed.wait_until(lock, deadline) == std::cv_status::no_timeout)
                continue; // armed or disarmed meanwhile: look again
            auto stuck = stops.find(owner);
            if (stuck == stops.end() || std::chrono::steady_clock::now() < stuck->second.first)
                continue;
            log(MGW_LOG_ERROR, "core",
                stuck->second.second + ": the stop did not end in time (a node's stop is stuck); exiting");
            _exit(1);
        }
    }
};

// Never freed: the thread may outlive main().
Watchdog &watchdog()
{
    static Watchdog *w = new Watchdog;
    return *w;
}

} // namespace

void arm_stop_watchdog(const void *owner, std::chrono::milliseconds after, const std::string &what)
{
    Watchdog &w = watchdog();
    std::lock_guard lock(w.mutex);
    w.stops.emplace(owner, std::make_pair(std::chrono::steady_clock::now() + after, what));
    if (!w.running) {
        w.running = true;
        std::thread([&w] { w.loop(); }).detach();
    }
    w.changed.notify_all();
}

void disarm_stop_watchdog(const void *owner)
{
    Watchdog &w = watchdog();
    std::lock_guard lock(w.mutex);
    if (w.stops.erase(owner))
        w.changed.notify_all();
}

} // namespace mediagw
