#include "systemd_notify.hpp"

#include "log.hpp"

#include <systemd/sd-daemon.h>

namespace mediagw::serve {

SystemdNotify::SystemdNotify()
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        const guint interval_ms = guint(std::max<uint64_t>(usec / 2 / 1000, 1));
        watchdog_ = g_timeout_add(
            interval_ms,
            [](gpointer) -> gboolean {
                sd_notify(0, "WATCHDOG=1");
                return G_SOURCE_CONTINUE;
            },
            nullptr);
        log(MGW_LOG_INFO, "serve", "systemd watchdog: a ping every " + std::to_string(interval_ms) + " ms");
    }
}

SystemdNotify::~SystemdNotify()
{
    if (watchdog_)
        g_source_remove(watchdog_);
}

void SystemdNotify::ready(const std::string &s) { sd_notify(0, ("READY=1\nSTATUS=" + s).c_str()); }
void SystemdNotify::stopping(const std::string &s) { sd_notify(0, ("STOPPING=1\nSTATUS=" + s).c_str()); }
void SystemdNotify::status(const std::string &s) { sd_notify(0, ("STATUS=" + s).c_str()); }

} // namespace mediagw::serve
