// One TURN allocation over UDP (RFC 8656, RFC 5766): a socket of ours, an
// Allocate with long-term credentials (401 -> realm/nonce -> MESSAGE-
// INTEGRITY, 438 stale nonce retried), Refresh before the lifetime ends,
// a permission and a channel for the one peer this allocation talks to,
// deallocation (Refresh, lifetime 0) on release.
//
// Control on the main loop; media on GStreamer's threads: the udpsrc and
// udpsink it makes share the allocation's socket, and pad probes unwrap
// ChannelData / Data indications and wrap ChannelData / Send indications.
// STUN responses that reach the udpsrc are posted to the main loop; while
// no udpsrc runs, a main-loop source reads the socket itself.
#pragma once

#include "nat/stun_message.hpp"

#include <gio/gio.h>
#include <gst/gst.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace sipsofia {

struct TurnServerConfig {
    std::string uri;  // for logs and errors, "turn:host:port"
    std::string host; // name or IP literal
    int port = 3478;
    std::string username, password; // the password is a secret: never logged
    gint64 expires = 0;             // unix time when ephemeral credentials end; 0 = static
    // Asks the turn node again (fresh ephemeral credentials); nullopt when it cannot.
    std::function<std::optional<TurnServerConfig>()> refetch;
};

using TurnLog = std::function<void(int level, const std::string &message)>; // mgw_log_level values

struct TurnDataPlane;

class TurnClient {
public:
    using Done = std::function<void(const std::string &error)>;
    // How long an allocation may take before it is given up (DNS included).
    static constexpr guint kTimeoutMs = 5000;

    TurnClient(TurnServerConfig config, TurnLog log, std::string label);
    ~TurnClient();
    TurnClient(const TurnClient &) = delete;
    TurnClient &operator=(const TurnClient &) = delete;

    // Binds a UDP socket on `local_address` and allocates; `done` follows on
    // the main loop, within kTimeoutMs, with "" or the reason. false (and
    // no `done`) when the socket cannot be made.
    bool allocate(const std::string &local_address, Done done, std::string &error);
    bool allocated() const { return relayed_.port != 0; }
    const stun::Address &relayed() const { return relayed_; }

    // The peer this allocation talks to (from its SDP): a permission and a
    // channel for it, again when it changes (a re-INVITE). Main loop.
    void set_peer(const stun::Address &peer);
    // A udpsrc and a udpsink on the allocation's socket (floating), the
    // TURN framing done by their pad probes. The main loop stops reading
    // the socket until elements_released().
    bool make_elements(GstElement *&src, GstElement *&sink, std::string &error);
    void elements_released();
    // Deallocates (Refresh with lifetime 0, not waited for) and closes.
    void release();

private:
    struct Pending {
        stun::Message request;
        std::string wire;
        guint timer = 0;
        guint rto_ms = 500;
        gint64 deadline = 0; // monotonic us
        int auth_retries = 0;
        std::string key; // what signed it ("" before the challenge): a secret, never logged
    };

    void resolved(GInetAddress *address, const std::string &error);
    void send_request(stun::Message request, int auth_retries = 0);
    static gboolean retransmit(gpointer data);
    void on_datagram(const uint8_t *data, size_t len, GSocketAddress *from);
    void dropped(stun::Problem p); // logs the first of each kind
    static bool first_drop(TurnDataPlane &plane, stun::Problem p);
    static void note_drop(TurnDataPlane &plane, stun::Problem p);
    void on_response(const stun::Message &response, Pending &request);
    void on_success(const stun::Message &response, const stun::Message &request);
    void on_failure(uint16_t method, const std::string &why);
    void finish(const std::string &error);
    void schedule_refresh(guint seconds);
    void bind_channel();
    void start_reading();
    void stop_reading();
    void send_raw(const std::string &wire);
    std::string credential_hint() const;
    void log(int level, const std::string &m) const;
    void forget_pending();
    // Streaming threads.
    static GstPadProbeReturn on_received(GstPad *pad, GstPadProbeInfo *info, gpointer data);
    static GstPadProbeReturn on_sending(GstPad *pad, GstPadProbeInfo *info, gpointer data);
    static GstPadProbeReturn receive(TurnDataPlane &plane, GstPadProbeInfo *info);
    static GstPadProbeReturn send(TurnDataPlane &plane, GstPadProbeInfo *info);
    static void post(const std::weak_ptr<TurnClient *> &owner, std::string datagram, GSocketAddress *from);

    TurnServerConfig config_;
    TurnLog log_;
    std::string label_; // "audio RTP", for logs
    GSocket *socket_ = nullptr;
    GSocketAddress *server_ = nullptr;
    GCancellable *resolving_ = nullptr;
    GSource *reader_ = nullptr;
    Done done_;
    guint deadline_timer_ = 0;
    guint refresh_timer_ = 0;
    guint channel_timer_ = 0;
    std::string realm_, nonce_, key_;
    stun::Address relayed_, mapped_;
    std::optional<stun::Address> peer_;
    uint16_t next_channel_ = stun::kFirstChannel;
    bool refetched_ = false; // fresh credentials were tried for a failing Refresh
    std::map<std::string, Pending> pending_; // by transaction id
    std::shared_ptr<TurnDataPlane> data_;
    std::shared_ptr<TurnClient *> alive_; // posts from streaming threads check it
};

} // namespace sipsofia
