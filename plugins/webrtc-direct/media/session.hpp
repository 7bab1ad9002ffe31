// One WebRTC peer connection (a webrtcbin in the node's bin) answering a
// browser's offer: a WHIP publisher (the browser sends), a WHEP subscriber
// (the browser receives), or a peer doing both on one connection (the served
// page: one ICE agent, one DTLS session per browser). Owns its webrtcbin; callbacks arrive on the main
// loop except `incoming`, which is called from the streaming thread that
// exposes the pad (link it there, as pad-added handlers do).
#pragma once

#include "common/guard.hpp"
#include "media/leg_stats.hpp"
#include "media/offer.hpp"

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace webrtcdirect {

struct IceSettings {
    std::vector<std::string> addresses; // host candidates only on these; empty: every interface
    guint min_port = 0, max_port = 0;
    guint latency_ms = 40;               // jitter buffers before depayloaders (room_media)
    std::vector<std::string> stun, turn; // webrtcbin URIs (from a turn node)
    bool relay_only = false;
};

// The ICE servers given cannot be used (Session::create): a configuration
// problem of the gateway, not of the peer.
struct IceConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// What a session's sink pad for this m-line takes: RTP of the offered codec
// with our payload type, SSRC and feedback (a new reference).
GstCaps *send_caps(const OfferedMedia &m, guint32 ssrc);

// A STUN/TURN URI with its user information left out (for messages).
std::string without_credentials(const std::string &uri);

class Session : public std::enable_shared_from_this<Session> {
public:
    // What the far end does: Publisher sends to us, Subscriber receives from
    // us, Peer both (sendrecv m-lines).
    enum class Role { Publisher, Subscriber, Peer };
    struct Callbacks {
        std::function<void(Session &, const std::string &sdp)> local_sdp; // our answer or offer, gathered
        std::function<void(Session &, const std::string &reason)> failed; // negotiation, ICE or DTLS
        std::function<void(Session &)> connected;
        std::function<void(Session &, GstPad *src, const OfferedMedia &)> incoming; // streaming thread
        // Trickle ICE: a local candidate ("candidate:...") gathered after
        // local_sdp went out without it. Unset: none are reported.
        std::function<void(Session &, guint mline, const std::string &candidate)> local_candidate;
        // An exception in a GStreamer callback (a bug, or an element
        // missing): the node fails (common/guard.hpp).
        Fail fail_node;
    };

    static std::shared_ptr<Session> create(GstBin *bin, Role role, std::string id, std::string participant,
                                           const IceSettings &ice, Callbacks cb);
    ~Session();

    // Subscriber, Peer: a sink pad of webrtcbin for this m-line, to link a
    // payloader to (before answer()); a Peer's transceiver also receives.
    // Publisher: adds a receive-only transceiver for it. nullptr / false when the m-line is unusable.
    // `ssrc`: what the payloader must send with (announced in the SDP).
    GstPad *add_sender(const OfferedMedia &m, guint32 &ssrc);
    bool add_receiver(const OfferedMedia &m);

    // What the offer asks for, before add_sender / add_receiver.
    void set_offer(const Offer &offer) { offer_ = offer; }
    // Starts answering `offer_sdp`; `local_sdp` or `failed` follows.
    void answer(const std::string &offer_sdp);
    // Client side: starts an offer (`local_sdp` or `failed` follows), then
    // takes the server's answer. With `trickle_bound_ms`, local_sdp does not
    // wait for gathering to complete beyond that (a slow TURN allocation):
    // it goes with the candidates so far, later ones come to local_candidate.
    void start_offer(guint trickle_bound_ms = 0);
    void apply_answer(const std::string &answer_sdp);
    // Trickled remote candidates (WHIP/WHEP PATCH): "a=candidate:..." lines per m-line index.
    void add_remote_candidate(guint mline, const std::string &candidate);
    // Ask the browser for a video keyframe (publishers) - an upstream
    // force-key-unit event on the pad it sends on, turned into RTCP PLI.
    void request_keyframe();
    // webrtcbin's RTP statistics of this session, delivered on the main loop
    // (not at all if the session is gone by then).
    void request_stats(std::function<void(Session &, const LegStats &)> then);

    // Takes the webrtcbin out of the bin (main loop).
    void close();

    Role role() const { return role_; }
    bool receives_from_us() const { return role_ != Role::Publisher; }
    const std::string &id() const { return id_; }
    const std::string &participant() const { return participant_; }
    bool is_connected() const { return connected_; }
    GstElement *webrtcbin() const { return webrtc_; }
    const Offer &offer() const { return offer_; }

private:
    Session(GstBin *bin, Role role, std::string id, std::string participant, Callbacks cb);
    void configure_ice(const IceSettings &ice);
    void begin();
    void set_remote(GstWebRTCSDPType type, const std::string &sdp);
    void on_remote_set();
    void on_description_created(const GstStructure *reply, const char *kind);
    GstPromise *promise(std::function<void(Session &, const GstStructure *reply)> then);
    void later(std::function<void(Session &)> fn); // on the main loop, if this session still exists
    void on_gathering_state();
    void on_connection_state();
    void send_answer_when_gathered();
    void on_local_candidate(guint mline, const std::string &candidate);
    void fail(const std::string &reason);
    static void on_pad_added(GstElement *, GstPad *pad, gpointer self);
    void pad_added(GstPad *pad); // streaming thread

    GstBin *bin_;
    Role role_;
    std::string id_, participant_;
    Callbacks cb_;
    GstElement *webrtc_ = nullptr;
    GstObject *ice_agent_ = nullptr; // held for the session's lifetime
    Offer offer_;
    bool answered_ = false, connected_ = false, failed_ = false, closed_ = false, relay_only_ = false;
    guint disconnect_timer_ = 0;
    guint trickle_bound_ms_ = 0, trickle_timer_ = 0;
    bool trickle_timer_expired_ = false;
    std::set<std::string> sent_candidates_; // in local_sdp: not trickled again
    std::vector<gulong> handlers_;
};

} // namespace webrtcdirect
