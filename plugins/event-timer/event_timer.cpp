// event-timer: emits a configured control event after a delay, optionally
// repeated, e.g. DTMF into a call a second after it is established:
//   [node.keys]
//   plugin = "event-timer"
//   start_on = "sip/call.established"
//   event = "dtmf.send"
//   fields = ["digit=123"]
//   after_ms = 1000
// Fields may use call-time values: fields = ["room=${sip.header.x-room}"].
// A way to script a gateway (and to drive other nodes from tests) without
// writing a plugin. No media ports.
#include <mediagw/node.hpp>

#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace {

// What GstStructure accepts as a name: a letter, then letters, digits and "/-_.:+".
bool valid_name(const std::string &n)
{
    if (n.empty() || !g_ascii_isalpha(n[0]))
        return false;
    for (char c : n)
        if (!g_ascii_isalnum(c) && !std::strchr("/-_.:+", c))
            return false;
    return true;
}

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("event", nullptr, "name of the event to emit, e.g. dtmf.send", mediagw::prop::required),
    mediagw::prop::list("fields", nullptr, "string fields of the event, each KEY=VALUE (e.g. digit=5)"),
    mediagw::prop::integer("after_ms", "1000", "milliseconds from the node's start to the first event"),
    mediagw::prop::integer("repeat", "1", "how many events to emit in all (0 = until the node stops)"),
    mediagw::prop::integer("interval_ms", "1000", "milliseconds between repeated events"),
};

class EventTimer : public mediagw::Node {
public:
    explicit EventTimer(const mgw_node_init *init) : Node(init)
    {
        event_ = str("event");
        if (event_.empty() || !valid_name(event_))
            throw mediagw::Error("event: '" + event_ + "' is not a valid event name");
        std::string error;
        if (!read_fields(error))
            throw mediagw::Error(error);
        after_ms_ = integer("after_ms");
        interval_ms_ = integer("interval_ms");
        repeat_ = integer("repeat");
        if (after_ms_ < 0 || interval_ms_ < 1 || repeat_ < 0)
            throw mediagw::Error("after_ms must be 0 or more, interval_ms 1 or more, repeat 0 or more");
    }

    ~EventTimer() override { disarm(); }

    // Read again at start: the fields may carry call-time values
    // (${sip.user}), which the core fills in just before.
    bool start(std::string &error) override
    {
        if (!read_fields(error))
            return false;
        emitted_ = 0;
        arm(after_ms_);
        return true;
    }

    void stop() override
    {
        disarm(); // a re-armed gateway starts us again for the next call
        stopped();
    }

private:
    bool read_fields(std::string &error)
    {
        fields_.clear();
        for (const std::string &f : list("fields")) {
            const auto eq = f.find('=');
            if (eq == std::string::npos || eq == 0 || !valid_name(f.substr(0, eq))) {
                error = "fields: expected KEY=VALUE, not '" + f + "'";
                return false;
            }
            fields_.emplace_back(f.substr(0, eq), f.substr(eq + 1));
        }
        return true;
    }

    void arm(int64_t ms)
    {
        disarm();
        timer_ = g_timeout_add(static_cast<guint>(ms), fire, this);
    }

    void disarm()
    {
        if (timer_)
            g_source_remove(timer_);
        timer_ = 0;
    }

    // Main loop.
    static gboolean fire(gpointer data)
    {
        auto self = static_cast<EventTimer *>(data);
        self->timer_ = 0;
        GstStructure *ev = gst_structure_new_empty(self->event_.c_str());
        for (const auto &[key, value] : self->fields_)
            gst_structure_set(ev, key.c_str(), G_TYPE_STRING, value.c_str(), nullptr);
        self->emit(ev);
        ++self->emitted_;
        if (self->repeat_ == 0 || self->emitted_ < self->repeat_)
            self->arm(self->interval_ms_);
        return G_SOURCE_REMOVE;
    }

    std::string event_;
    std::vector<std::pair<std::string, std::string>> fields_;
    int64_t after_ms_ = 1000, interval_ms_ = 1000, repeat_ = 1, emitted_ = 0;
    guint timer_ = 0;
};

} // namespace

MEDIAGW_PLUGIN(EventTimer, "event-timer", "0.1.0", "emits a configured control event after a delay (repeatable)",
               nullptr, nullptr, properties, nullptr);
