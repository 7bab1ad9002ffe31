// test-misbehave: a node that does what plugins should not. It throws from
// the entry point named by `throw_in`, logs through the raw host api at the
// levels in `log_levels` (any int), and on start emits `emit`, asks node
// `ask` a query, or parks its input (`park`). The core must report, not crash.
#include <mediagw/node.hpp>

#include <cstdlib>
#include <stdexcept>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::choice("throw_in", "none|stop|event|query", "none", "entry point that throws"),
    mediagw::prop::choice("throw_kind", "std|other", "std", "a std::exception or an int"),
    mediagw::prop::list("log_levels", nullptr, "levels (any int) to log at on start"),
    mediagw::prop::string("emit", "", "event to emit on start"),
    mediagw::prop::string("ask", "", "node to query on start"),
    mediagw::prop::boolean("park", "false", "park the input on start (route_input to nothing)"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw", "parked or unused"),
};

class Misbehave : public mediagw::Node {
public:
    explicit Misbehave(const mgw_node_init *init) : Node(init), host_(init->host), api_(init->api)
    {
        add_input("audio");
    }

    bool start(std::string &) override
    {
        for (auto &level : list("log_levels"))
            api_->log(host_, static_cast<mgw_log_level>(std::atoi(level.c_str())), ("level " + level).c_str());
        if (!str("emit").empty())
            emit(gst_structure_new_empty(str("emit").c_str()));
        if (!str("ask").empty()) {
            GstStructure *answer = query_node(str("ask"), "anything");
            log(MGW_LOG_INFO, "asked %s: %s", str("ask").c_str(), answer ? "an answer" : "no answer");
            if (answer)
                gst_structure_free(answer);
        }
        if (boolean("park"))
            route_input("audio", nullptr);
        return true;
    }
    void stop() override
    {
        maybe_throw("stop");
        stopped();
    }
    void on_event(std::string_view, const GstStructure *) override { maybe_throw("event"); }
    GstStructure *query(std::string_view) override
    {
        maybe_throw("query");
        return nullptr;
    }

private:
    void maybe_throw(const std::string &where)
    {
        if (str("throw_in") != where)
            return;
        if (str("throw_kind") == "other")
            throw 42;
        throw std::runtime_error("boom in " + where);
    }

    mgw_host *host_;
    const mgw_host_api *api_;
};

} // namespace

MEDIAGW_PLUGIN(Misbehave, "test-misbehave", "1.0", "Throws and logs at bad levels", nullptr, nullptr, properties,
               ports);
