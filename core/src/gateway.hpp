// A running gateway: the nodes' bins in one GstPipeline, joined by
// LinkAdapters; control events between nodes on the main loop; the lifecycle
// of [gateway] (start_on, after_call exit/rearm, timeouts, bounded drain).
#pragma once

#include "graph_spec.hpp"
#include "link_adapter.hpp"

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

struct mgw_host;

namespace mediagw {

class Gateway {
public:
    explicit Gateway(GraphSpec spec);
    ~Gateway();
    Gateway(const Gateway &) = delete;

    // Create every node and link them. On failure nothing is left running.
    bool build(std::string &error);
    // Run the default main loop until the gateway has stopped; returns the
    // exit code (0 done, 1 runtime failure). Installs SIGINT/SIGTERM handlers.
    int run();
    // For several gateways on one main loop (GatewayGroup): start the
    // pipeline and the nodes on the default main context; false when the
    // gateway ended at once. on_finished runs (on the main loop) when it has
    // stopped; exit_code() then says how.
    bool start();
    std::function<void()> on_finished;
    bool finished() const { return finished_; }
    int exit_code() const { return exit_code_; }
    // SIGINT/SIGTERM: the first begins the drain, the second ends it.
    void signal_received();
    // Prefixes every log category, e.g. "sip-echo#2" (before build()).
    void set_label(const std::string &label) { label_ = label; }
    // Begin the bounded drain (from the main loop).
    void stop(const std::string &reason, int exit_code);

    // For a supervisor's control channel (control_channel.hpp): every event
    // delivered on the bus, the moment the gateway is ready, an event from
    // outside delivered to the running nodes as from `source`, and why the
    // gateway stopped (the first reason given).
    std::function<void(const std::string &node, const GstStructure *event)> on_event;
    std::function<void()> on_ready;
    void inject(const std::string &source, GstStructure *event); // main loop; takes ownership
    const std::string &stop_reason() const { return stop_reason_; }
    const std::string &name() const { return spec_.gateway.name; }

    GstElement *pipeline() const { return pipeline_; }
    const std::vector<std::unique_ptr<LinkAdapter>> &links() const { return links_; }

    // Host API entry points (any thread).
    void host_emit(size_t node, GstStructure *event);
    void host_log(size_t node, mgw_log_level level, const char *message);
    void host_fail(size_t node, const char *reason);
    void host_stopped(size_t node);
    GstStructure *host_query(size_t node, const char *target, const char *what);

private:
    enum class NodeState { Waiting, Running, Stopping, Idle };
    struct NodeRuntime;

    std::string category(const std::string &what) const; // a log category, labelled
    void deliver(size_t source, GstStructure *event); // main loop; takes ownership
    void keep_values(size_t source, const GstStructure *values);
    Environment call_values() const;
    bool closes_cycle(const LinkSpec &link) const;
    GstElement *element_of(size_t node) const; // the node's bin (borrowed)
    void end_unfed_inputs();
    void start_node(NodeRuntime &n);
    void stop_node(NodeRuntime &n);
    void node_stopped(size_t node);
    void call_started();
    void call_ended();
    void check_drained();
    void finish();
    void end_outputs(NodeRuntime &n);
    std::string sinks_not_eos() const;
    void arm_timer(guint &id, int64_t seconds, const char *why);
    void disarm_timer(guint &id);
    static gboolean on_bus(GstBus *bus, GstMessage *msg, gpointer self);
    template <typename F> void on_main_loop(F &&f);

    GraphSpec spec_;
    std::string label_;
    std::vector<std::unique_ptr<NodeRuntime>> nodes_;
    std::vector<std::unique_ptr<LinkAdapter>> links_;
    std::vector<GstPad *> bridge_pads_; // loop bridges: pads of no element
    GstElement *pipeline_ = nullptr;
    GMainLoop *loop_ = nullptr;
    guint bus_watch_ = 0, signal_int_ = 0, signal_term_ = 0;
    guint idle_timer_ = 0, call_timer_ = 0, run_timer_ = 0, drain_timer_ = 0;
    bool stopping_ = false, eos_ = false, eos_sent_ = false, in_call_ = false, finished_ = false;
    std::vector<NodeRuntime *> not_running_at_stop_;
    std::map<std::string, std::string> values_; // "node.value": published call-time values (main loop)
    int exit_code_ = 0;
    std::string stop_reason_;
    std::atomic<int> pending_ = 0; // callbacks queued on the main loop
};

// Does "node/event" (node may be '*') match an event of `source`?
bool event_matches(const std::string &pattern, const std::string &source, const std::string &event);

} // namespace mediagw
