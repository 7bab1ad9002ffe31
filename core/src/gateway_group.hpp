// Dense mode: several gateways in one process, on one main loop.
//
// Each gateway keeps its own pipeline, nodes, SIP endpoint, event bus and
// lifecycle (after_call, timeouts, drain); they share the process: GStreamer's
// registry and libraries are mapped once, and a crash takes every gateway of
// the process down (docs/benchmarks.md measures what that trade buys).
#pragma once

#include "gateway.hpp"

#include <glib.h>

#include <memory>
#include <string>
#include <vector>

namespace mediagw {

class GatewayGroup {
public:
    explicit GatewayGroup(std::vector<std::unique_ptr<Gateway>> gateways); // built, not started
    ~GatewayGroup();
    GatewayGroup(const GatewayGroup &) = delete;

    // Start every gateway, then run the main loop until all have stopped.
    // One that fails while the others start stops them all (start-up is all or
    // nothing); once running, a gateway that ends is freed (its ports too) and
    // the others go on. Returns the worst exit code of them. SIGINT/SIGTERM
    // drain every gateway; a second signal ends them at once.
    int run();

private:
    void gateway_finished(size_t index);
    void free_finished(); // on idle: never inside a gateway's own callback

    std::vector<std::unique_ptr<Gateway>> gateways_;
    GMainLoop *loop_ = nullptr;
    guint signal_int_ = 0, signal_term_ = 0, free_idle_ = 0;
    size_t running_ = 0;
    bool starting_ = true;      // until what the starts queued has run
    std::string start_failure_; // the first gateway that failed meanwhile
    int exit_code_ = 0;
};

} // namespace mediagw
