#include "serve.hpp"

#include "call_record.hpp"
#include "http_api.hpp"
#include "log.hpp"
#include "sip_front.hpp"
#include "supervisor.hpp"
#include "systemd_notify.hpp"

#include <glib-unix.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <memory>

namespace mediagw::serve {

namespace {

// The gateways run the plain `mediagw` beside this program: it links none
// of serve's libraries (Sofia-SIP in the global symbol scope would take
// libnice's stun_message_length from every plugin, libsoup's thread keys
// would outlive the plugins), so a gateway maps only what its pipeline names.
std::string gateway_exe()
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0)
        return "mediagw";
    gchar *dir = g_path_get_dirname(std::string(buf, size_t(n)).c_str());
    std::string exe = std::string(dir) + "/mediagw";
    g_free(dir);
    return exe;
}

struct Runtime {
    GMainLoop *loop = nullptr;
    Supervisor *supervisor = nullptr;
    SystemdNotify *notify = nullptr;
    int signals = 0;
};

} // namespace

int run(const std::string &file)
{
    Diagnostics diags;
    auto config = load_serve_config(file, process_environment(), diags);
    if (config)
        for (auto &t : config->templates)
            if (!g_file_test(t.pipeline.c_str(), G_FILE_TEST_IS_REGULAR))
                diags.error(t.where, "template '" + t.name + "': no pipeline file " + t.pipeline);
    if (!diags.empty()) {
        std::fputs(diags.format().c_str(), stderr);
        std::fprintf(stderr, "%zu error%s\n", diags.size(), diags.size() == 1 ? "" : "s");
        return 2;
    }
    if (!config->gateway_logs.empty())
        g_mkdir_with_parents(config->gateway_logs.c_str(), 0750);

    Runtime rt;
    rt.loop = g_main_loop_new(nullptr, FALSE);
    CallRecords records(config->records, config->records_url);
    auto supervisor = std::make_unique<Supervisor>(*config, gateway_exe(), records);
    rt.supervisor = supervisor.get();
    auto front = std::make_unique<SipFront>(*supervisor, config->retry_after);
    std::unique_ptr<HttpApi> api;
    std::string error;
    int code = 0;
    if (!front->start(config->sip, error)) {
        log(MGW_LOG_ERROR, "serve", error);
        code = 2;
    } else if (!config->api.empty()) {
        api = std::make_unique<HttpApi>(*supervisor, config->token, config->metrics_public);
        if (!api->listen(config->api, error)) {
            log(MGW_LOG_ERROR, "serve", error);
            code = 2;
        }
    }
    if (code == 0) {
        SystemdNotify notify;
        rt.notify = &notify;
        auto on_signal = [](gpointer data) -> gboolean {
            auto r = static_cast<Runtime *>(data);
            if (r->signals++) {
                log(MGW_LOG_WARNING, "serve", "second signal: stopping every gateway now");
                g_main_loop_quit(r->loop);
                return G_SOURCE_CONTINUE;
            }
            log(MGW_LOG_INFO, "serve", "signal received: draining (new calls get 503)");
            r->notify->stopping("draining");
            r->supervisor->drain([r] { g_main_loop_quit(r->loop); });
            return G_SOURCE_CONTINUE;
        };
        guint sig_term = g_unix_signal_add(SIGTERM, on_signal, &rt);
        guint sig_int = g_unix_signal_add(SIGINT, on_signal, &rt);
        supervisor->start();
        notify.ready("serving on " + front->contact());
        log(MGW_LOG_INFO, "serve", "serving: SIP " + front->contact() + (api ? ", API " + api->url() : ""));
        g_main_loop_run(rt.loop);
        g_source_remove(sig_term);
        g_source_remove(sig_int);
        rt.notify = nullptr;
    }
    api.reset();
    supervisor.reset(); // every gateway's group killed and reaped
    records.flush(5000);
    front.reset();
    g_main_loop_unref(rt.loop);
    log(MGW_LOG_INFO, "serve", "stopped");
    return code;
}

} // namespace mediagw::serve
