// systemd Type=notify: READY=1 once serving, WATCHDOG=1 every half of
// WATCHDOG_USEC from the main loop (a stuck loop stops the pings and
// systemd restarts the service), STOPPING=1 when the drain begins, STATUS=.
// Without NOTIFY_SOCKET every call does nothing.
#pragma once

#include <glib.h>

#include <string>

namespace mediagw::serve {

class SystemdNotify {
public:
    SystemdNotify();
    ~SystemdNotify();
    void ready(const std::string &status);
    void stopping(const std::string &status);
    void status(const std::string &status);

private:
    guint watchdog_ = 0;
};

} // namespace mediagw::serve
