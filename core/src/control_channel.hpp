// A gateway's control channel to its supervisor (`mediagw run --control-fd N`,
// used by `mediagw serve`): one JSON object per line each way on an
// inherited stream socket.
//   out: {"event":"ready","gateway":NAME}
//        {"node":NODE,"event":EVENT,"fields":{...}}   every event on the bus
//        {"event":"exit","code":N,"reason":TEXT}       the last line
//   in:  {"command":"stop","reason":TEXT}
//        {"command":"event","name":"dtmf.send","fields":{"digit":"5"}}
// A closed channel (the supervisor gone) stops the gateway. Lines in are
// bounded (kMaxLine); a longer one is dropped, with a warning.
#pragma once

#include <gst/gst.h>

#include <string>

namespace mediagw {

class Gateway;

class ControlChannel {
public:
    static constexpr size_t kMaxLine = 16 * 1024;

    explicit ControlChannel(int fd); // takes the descriptor
    ~ControlChannel();
    ControlChannel(const ControlChannel &) = delete;

    // Observe `gateway`'s events and take commands for it (main loop).
    void attach(Gateway &gateway);
    void send_exit(int code, const std::string &reason);

    // The JSON line for an event (exposed for the unit test).
    static std::string event_line(const std::string &node, const GstStructure *event);

private:
    static gboolean on_readable(GIOChannel *, GIOCondition cond, gpointer self);
    void handle_line(const std::string &line);
    void send(const std::string &line);

    int fd_;
    GIOChannel *channel_ = nullptr;
    guint watch_ = 0;
    Gateway *gateway_ = nullptr;
    std::string inbox_;
    bool discarding_ = false; // inside an over-long line
};

} // namespace mediagw
