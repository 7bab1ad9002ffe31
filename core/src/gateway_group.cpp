#include "gateway_group.hpp"

#include "log.hpp"

#include <glib-unix.h>

#include <algorithm>
#include <csignal>

namespace mediagw {

GatewayGroup::GatewayGroup(std::vector<std::unique_ptr<Gateway>> gateways) : gateways_(std::move(gateways)) {}

GatewayGroup::~GatewayGroup()
{
    for (guint t : {signal_int_, signal_term_, free_idle_})
        if (t)
            g_source_remove(t);
    gateways_.clear();
    if (loop_)
        g_main_loop_unref(loop_);
}

int GatewayGroup::run()
{
    loop_ = g_main_loop_new(nullptr, FALSE);
    auto on_signal = [](gpointer data) -> gboolean {
        for (auto &g : static_cast<GatewayGroup *>(data)->gateways_)
            if (g)
                g->signal_received();
        return G_SOURCE_CONTINUE;
    };
    signal_int_ = g_unix_signal_add(SIGINT, on_signal, this);
    signal_term_ = g_unix_signal_add(SIGTERM, on_signal, this);

    running_ = gateways_.size();
    for (size_t i = 0; i < gateways_.size(); ++i)
        gateways_[i]->on_finished = [this, i] { gateway_finished(i); };
    for (auto &g : gateways_)
        g->start();
    // What the starts queued (a node failing to bind its port reports from
    // the main loop) decides whether the group runs at all.
    for (int i = 0; i < 100 && g_main_context_iteration(nullptr, FALSE); ++i)
        ;
    starting_ = false;
    if (!start_failure_.empty()) {
        log(MGW_LOG_ERROR, "core", start_failure_ + ": stopping every gateway");
        for (auto &g : gateways_)
            if (g)
                g->stop("another gateway of this process failed to start", 0);
    }
    if (running_ > 0)
        g_main_loop_run(loop_);
    free_finished();
    return exit_code_;
}

void GatewayGroup::gateway_finished(size_t index)
{
    Gateway &g = *gateways_[index];
    exit_code_ = std::max(exit_code_, g.exit_code());
    --running_;
    if (starting_ && g.exit_code() != 0 && start_failure_.empty())
        start_failure_ = "gateway #" + std::to_string(index + 1) + " '" + g.name() + "' failed to start";
    log(MGW_LOG_INFO, "core",
        "gateway #" + std::to_string(index + 1) + " '" + g.name() + "' ended (" + g.stop_reason() + "); " +
            std::to_string(running_) + " still running");
    if (!free_idle_)
        free_idle_ = g_idle_add(
            [](gpointer data) -> gboolean {
                auto self = static_cast<GatewayGroup *>(data);
                self->free_idle_ = 0;
                self->free_finished();
                return G_SOURCE_REMOVE;
            },
            this);
    if (running_ == 0)
        g_main_loop_quit(loop_);
}

void GatewayGroup::free_finished()
{
    for (auto &g : gateways_)
        if (g && g->finished())
            g.reset();
}

} // namespace mediagw
