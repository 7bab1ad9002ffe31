#include "chromium.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace browsercapture {
namespace {

constexpr const char *profile_prefix = "mediagw-chromium-";

} // namespace

std::vector<std::string> Chromium::arguments(const ChromiumOptions &o, const std::string &profile, bool sandbox)
{
    std::vector<std::string> a{
        o.executable,
        "--remote-debugging-pipe",
        "--user-data-dir=" + profile,
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--disable-breakpad",
        "--disable-dev-shm-usage",
        "--password-store=basic",
        "--use-mock-keychain",
        "--autoplay-policy=no-user-gesture-required",
        // A page in a tab nobody looks at keeps full-speed timers and rendering.
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
        // Real host candidates (no mDNS .local names libnice cannot resolve);
        // no translation bar or other UI over the page.
        "--disable-features=WebRtcHideLocalIpsWithMdns,Translate,MediaRouter,OptimizationHints",
        "--window-size=" + std::to_string(o.width) + "," + std::to_string(o.height),
    };
    if (o.headless) {
        a.push_back("--headless=new");
        a.push_back("--disable-gpu");
    } else {
        // Devices mode: full screen on the node's own Xvfb (no window
        // manager), drawn in software like headless.
        a.push_back("--kiosk");
        a.push_back("--window-position=0,0");
        a.push_back("--disable-infobars");
        a.push_back("--ozone-platform=x11");
        a.push_back("--disable-gpu");
    }
    if (!sandbox)
        a.push_back("--no-sandbox");
    if (o.fake_ui)
        a.push_back("--use-fake-ui-for-media-stream");
    if (o.tab_capture)
        a.push_back("--auto-accept-this-tab-capture");
    for (const auto &extra : o.extra_args)
        a.push_back(extra);
    a.push_back("about:blank");
    return a;
}

Chromium::Chromium(const ChromiumOptions &o, DevToolsPipe::Event event, Log log,
                   std::function<void(const std::string &how)> exited)
{
    profile_ = std::make_unique<PrivateDir>(profile_prefix); // removes those of dead gateways too

    // Chromium refuses its sandbox as root (a container's usual user); as any
    // other user (systemd DynamicUser=) it keeps it.
    const bool sandbox = geteuid() != 0;
    static bool said = false;
    if (!sandbox && !said) {
        said = true;
        log("running as root: Chromium's sandbox is off (Chromium refuses it for root); run the gateway as an "
            "unprivileged user (systemd DynamicUser=yes) to keep it");
    }

    int to_browser[2], from_browser[2];
    if (pipe2(to_browser, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + strerror(errno));
    if (pipe2(from_browser, O_CLOEXEC) != 0) {
        close(to_browser[0]);
        close(to_browser[1]);
        throw std::runtime_error(std::string("pipe: ") + strerror(errno));
    }
    Spawn spawn;
    spawn.argv = arguments(o, profile_->path(), sandbox);
    spawn.env = o.env;
    spawn.unset_env = {"WAYLAND_DISPLAY"};
    if (o.headless)
        spawn.unset_env.push_back("DISPLAY");
    spawn.fds = {{3, to_browser[0]}, {4, from_browser[1]}};
    spawn.log_path = o.log_path;
    try {
        process_ = std::make_unique<ChildProcess>("chromium", spawn, std::move(exited));
    } catch (...) {
        for (int fd : {to_browser[0], to_browser[1], from_browser[0], from_browser[1]})
            close(fd);
        throw;
    }
    close(to_browser[0]);
    close(from_browser[1]);
    devtools_ = std::make_unique<DevToolsPipe>(to_browser[1], from_browser[0], std::move(event), nullptr);
}

Chromium::~Chromium()
{
    devtools_.reset(); // Chromium sees the pipe close and starts quitting
    if (process_)
        process_->terminate(1500);
    process_.reset();
    profile_.reset(); // the directory goes once nothing writes to it
}

} // namespace browsercapture
