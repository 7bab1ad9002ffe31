#include "media/session.hpp"

#include "rtp/rtp_pass.hpp"

#include "common/main_loop.hpp"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>

namespace webrtcdirect {
namespace {

// What we send or accept for an m-line, with the feedback the browser must
// use for keyframe requests (PLI, FIR) and none of the extras (RTX, FEC).
GstCaps *rtp_caps(const OfferedMedia &m)
{
    GstCaps *caps = nullptr;
    if (m.codec == "OPUS")
        caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name",
                                   G_TYPE_STRING, "OPUS", "clock-rate", G_TYPE_INT, 48000, "encoding-params",
                                   G_TYPE_STRING, "2", "payload", G_TYPE_INT, m.payload, nullptr); // opus/48000/2 (RFC 7587)
    else
        caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
                                   G_TYPE_STRING, m.codec.c_str(), "clock-rate", G_TYPE_INT, 90000, "payload",
                                   G_TYPE_INT, m.payload, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
                                   "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, nullptr);
    if (m.codec == "H264")
        gst_caps_set_simple(caps, "packetization-mode", G_TYPE_STRING, "1", nullptr);
    return caps;
}

} // namespace

GstCaps *send_caps(const OfferedMedia &m, guint32 ssrc)
{
    GstCaps *caps = rtp_caps(m);
    gst_caps_set_simple(caps, "ssrc", G_TYPE_UINT, ssrc, nullptr);
    return caps;
}

// "turn://user:secret@host:3478?transport=udp" -> "turn://host:3478?transport=udp":
// for messages (no secrets in logs).
std::string without_credentials(const std::string &uri)
{
    GUri *parsed = g_uri_parse(uri.c_str(), G_URI_FLAGS_NONE, nullptr);
    if (!parsed)
        return "(not a URI)";
    gchar *text = g_uri_to_string_partial(parsed, G_URI_HIDE_USERINFO);
    std::string out = text;
    g_free(text);
    g_uri_unref(parsed);
    return out;
}

std::shared_ptr<Session> Session::create(GstBin *bin, Role role, std::string id, std::string participant,
                                         const IceSettings &ice, Callbacks cb)
{
    std::shared_ptr<Session> s(new Session(bin, role, std::move(id), std::move(participant), std::move(cb)));
    s->configure_ice(ice);
    if (!ice.stun.empty())
        g_object_set(s->webrtc_, "stun-server", ice.stun.front().c_str(), nullptr);
    for (const auto &uri : ice.turn) {
        gboolean ok = FALSE;
        g_signal_emit_by_name(s->webrtc_, "add-turn-server", uri.c_str(), &ok);
        if (!ok) // left out, the session would gather no relay and fail later for a reason nobody sees
            throw IceConfigError("webrtcbin refused the TURN server " + without_credentials(uri) +
                                 " (a TURN URI needs a host, a username and a credential)");
    }
    if (ice.relay_only)
        g_object_set(s->webrtc_, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
    s->relay_only_ = ice.relay_only;
    g_object_set(s->webrtc_, "latency", ice.latency_ms, nullptr);
    return s;
}

Session::Session(GstBin *bin, Role role, std::string id, std::string participant, Callbacks cb)
    : bin_(bin), role_(role), id_(std::move(id)), participant_(std::move(participant)), cb_(std::move(cb))
{
    const std::string name = "webrtc_" + id_;
    webrtc_ = gst_element_factory_make("webrtcbin", name.c_str());
    if (!webrtc_)
        throw std::runtime_error("GStreamer element 'webrtcbin' is missing (gstreamer1.0-plugins-bad)");
    g_object_set(webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
    // What a browser sends is forwarded as RTP, or depayloaded behind a
    // jitter buffer of the room's own where a decoder or mixer needs one
    // (room_media.cpp): webrtcbin's would be a thread hand-off per packet
    // for nothing. Its rtpbin gets rtp_pass instead (type registered here,
    // on the main loop).
    mgwrtp::rtp_pass_type();
    if (GstElement *rtpbin = gst_bin_get_by_name(GST_BIN(webrtc_), "rtpbin")) {
        g_signal_connect(rtpbin, "request-jitterbuffer",
                         G_CALLBACK(+[](GstElement *, guint, gpointer) { return mgwrtp::make_rtp_pass(); }), nullptr);
        gst_object_unref(rtpbin);
    }
    gst_bin_add(bin_, webrtc_);
}

Session::~Session()
{
    close();
}

void Session::configure_ice(const IceSettings &ice)
{
    g_object_get(webrtc_, "ice-agent", &ice_agent_, nullptr);
    if (!ice_agent_)
        return;
    // No ICE-TCP, no UPnP: UPnP discovery multicasts SSDP on every interface.
    g_object_set(ice_agent_, "ice-tcp", FALSE, nullptr);
    if (ice.min_port)
        g_object_set(ice_agent_, "min-rtp-port", ice.min_port, "max-rtp-port", ice.max_port, nullptr);
    GObject *agent = nullptr;
    g_object_get(ice_agent_, "agent", &agent, nullptr);
    if (agent) {
        // Keepalives that need an answer: a browser that vanished without a
        // DELETE eventually fails its connection instead of lingering.
        g_object_set(agent, "upnp", FALSE, "keepalive-conncheck", TRUE, nullptr);
        g_object_unref(agent);
    }
    // Listing addresses restricts host candidates to them; libnice never
    // gathers loopback unless it is listed.
    for (const auto &address : ice.addresses) {
        gboolean ok = FALSE;
        g_signal_emit_by_name(ice_agent_, "add-local-ip-address", address.c_str(), &ok);
    }
}

GstPad *Session::add_sender(const OfferedMedia &m, guint32 &ssrc)
{
    if (m.payload < 0)
        return nullptr;
    // Known before media flows, so that the SDP carries a=ssrc: an SFU
    // (Janus) drops packets of SSRCs its offer/answer did not announce.
    ssrc = g_random_int_range(1, G_MAXINT32);
    GstCaps *caps = send_caps(m, ssrc);
    GstPadTemplate *templ = gst_element_get_pad_template(webrtc_, "sink_%u");
    GstPad *pad = gst_element_request_pad(webrtc_, templ, nullptr, caps);
    if (!pad) {
        gst_caps_unref(caps);
        return nullptr;
    }
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_object_get(pad, "transceiver", &trans, nullptr);
    if (trans) {
        // Codec preferences too: an offer is then ready before media flows
        // (GStreamer 1.22 takes the request's caps for matching only).
        g_object_set(trans, "direction",
                     role_ == Role::Peer ? GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV
                                         : GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
                     "codec-preferences", caps, nullptr);
        gst_object_unref(trans);
    }
    gst_caps_unref(caps);
    return pad; // request pad: webrtcbin keeps it, released with the element
}

bool Session::add_receiver(const OfferedMedia &m)
{
    if (m.payload < 0)
        return false;
    GstCaps *caps = rtp_caps(m);
    GstWebRTCRTPTransceiver *trans = nullptr;
    g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &trans);
    gst_caps_unref(caps);
    if (trans)
        gst_object_unref(trans);
    return trans != nullptr;
}

// Signals first, then playing: nothing may be missed.
void Session::begin()
{
    handlers_.push_back(g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&Session::on_pad_added), this));
    handlers_.push_back(g_signal_connect_swapped(
        webrtc_, "notify::ice-gathering-state",
        G_CALLBACK(+[](gpointer self) {
            auto *s = static_cast<Session *>(self);
            guarded(s->cb_.fail_node, "webrtcbin notify::ice-gathering-state",
                    [s] { s->later([](Session &s) { s.on_gathering_state(); }); });
        }),
        this));
    handlers_.push_back(g_signal_connect_swapped(
        webrtc_, "notify::connection-state",
        G_CALLBACK(+[](gpointer self) {
            auto *s = static_cast<Session *>(self);
            guarded(s->cb_.fail_node, "webrtcbin notify::connection-state",
                    [s] { s->later([](Session &s) { s.on_connection_state(); }); });
        }),
        this));
    if (cb_.local_candidate)
        handlers_.push_back(g_signal_connect(
            webrtc_, "on-ice-candidate",
            G_CALLBACK(+[](GstElement *, guint mline, gchar *candidate, gpointer self) {
                auto *s = static_cast<Session *>(self);
                guarded(s->cb_.fail_node, "webrtcbin on-ice-candidate", [&] {
                    s->later([mline, c = std::string(candidate ? candidate : "")](Session &s) {
                        s.on_local_candidate(mline, c);
                    });
                });
            }),
            this));
    gst_element_sync_state_with_parent(webrtc_);
}

void Session::answer(const std::string &offer_sdp)
{
    begin();
    set_remote(GST_WEBRTC_SDP_TYPE_OFFER, offer_sdp);
}

void Session::start_offer(guint trickle_bound_ms)
{
    trickle_bound_ms_ = trickle_bound_ms;
    begin();
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr,
                          promise([](Session &s, const GstStructure *reply) { s.on_description_created(reply, "offer"); }));
}

void Session::apply_answer(const std::string &answer_sdp)
{
    set_remote(GST_WEBRTC_SDP_TYPE_ANSWER, answer_sdp);
}

// A webrtcbin promise (answered on one of its threads) whose reply `then`
// takes on the main loop, if this session still exists by then. The promise
// is released either way.
GstPromise *Session::promise(std::function<void(Session &, const GstStructure *reply)> then)
{
    struct Holder {
        std::weak_ptr<Session> self;
        Fail fail;
        std::function<void(Session &, const GstStructure *)> then;
    };
    return gst_promise_new_with_change_func(
        [](GstPromise *p, gpointer data) {
            auto *h = static_cast<Holder *>(data);
            guarded(h->fail, "webrtcbin promise", [&] {
                on_main_loop(h->fail, [self = h->self, then = h->then, p] {
                    std::unique_ptr<GstPromise, decltype(&gst_promise_unref)> owned(p, gst_promise_unref);
                    if (auto s = self.lock())
                        then(*s, gst_promise_get_reply(p));
                });
            });
        },
        new Holder{weak_from_this(), cb_.fail_node, std::move(then)},
        [](gpointer data) { delete static_cast<Holder *>(data); });
}

void Session::later(std::function<void(Session &)> fn)
{
    on_main_loop<Session>(cb_.fail_node, weak_from_this(), std::move(fn));
}

void Session::set_remote(GstWebRTCSDPType type, const std::string &text)
{
    GstSDPMessage *sdp = nullptr;
    gst_sdp_message_new_from_text(text.c_str(), &sdp);
    GstWebRTCSessionDescription *desc = gst_webrtc_session_description_new(type, sdp);
    const bool is_offer = type == GST_WEBRTC_SDP_TYPE_OFFER;
    g_signal_emit_by_name(webrtc_, "set-remote-description", desc,
                          promise([is_offer](Session &s, const GstStructure *reply) {
                              GError *error = nullptr;
                              if (reply && gst_structure_has_field(reply, "error"))
                                  gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
                              const std::string why = error ? error->message : "";
                              g_clear_error(&error);
                              if (!why.empty())
                                  s.fail(std::string(is_offer ? "the offer" : "the answer") + " was refused: " + why);
                              else if (is_offer)
                                  s.on_remote_set();
                          }));
    gst_webrtc_session_description_free(desc);
}

void Session::on_remote_set()
{
    if (closed_)
        return;
    g_signal_emit_by_name(webrtc_, "create-answer", nullptr,
                          promise([](Session &s, const GstStructure *reply) { s.on_description_created(reply, "answer"); }));
}

// `kind`: "offer" or "answer", the promise's reply field.
void Session::on_description_created(const GstStructure *reply, const char *kind)
{
    GstWebRTCSessionDescription *desc = nullptr;
    GError *error = nullptr;
    if (reply && gst_structure_has_field(reply, kind))
        gst_structure_get(reply, kind, GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, nullptr);
    else if (reply && gst_structure_has_field(reply, "error"))
        gst_structure_get(reply, "error", G_TYPE_ERROR, &error, nullptr);
    if (!desc) {
        fail(std::string("no ") + kind + ": " + (error ? error->message : "webrtcbin gave none"));
        g_clear_error(&error);
        return;
    }
    if (!closed_)
        g_signal_emit_by_name(webrtc_, "set-local-description", desc, nullptr);
    gst_webrtc_session_description_free(desc);
    if (trickle_bound_ms_ && !closed_ && !trickle_timer_)
        trickle_timer_ = g_timeout_add(
            trickle_bound_ms_,
            [](gpointer self) -> gboolean {
                auto s = static_cast<Session *>(self);
                s->trickle_timer_ = 0;
                guarded(s->cb_.fail_node, "trickle timer", [s] {
                    s->trickle_timer_expired_ = true;
                    s->send_answer_when_gathered();
                });
                return G_SOURCE_REMOVE;
            },
            this);
    send_answer_when_gathered();
}

void Session::on_gathering_state()
{
    send_answer_when_gathered();
}

// The local description goes out with all its candidates (in a 201 body as
// a server; in the POST as a client), or, once the trickle bound is reached,
// with those gathered so far if there is one (else it waits on).
void Session::send_answer_when_gathered()
{
    if (answered_ || failed_ || closed_)
        return;
    GstWebRTCICEGatheringState state;
    g_object_get(webrtc_, "ice-gathering-state", &state, nullptr);
    const bool complete = state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE;
    if (!complete && !trickle_timer_expired_)
        return;
    GstWebRTCSessionDescription *local = nullptr;
    g_object_get(webrtc_, "local-description", &local, nullptr);
    if (!local)
        return; // set-local-description still under way; gathering notifies again
    gchar *text = gst_sdp_message_as_text(local->sdp);
    gst_webrtc_session_description_free(local);
    std::string sdp = text;
    g_free(text);
    if (!complete && sdp.find("a=candidate:") == std::string::npos)
        return; // the first candidate sends it (on_local_candidate)
    if (trickle_timer_) {
        g_source_remove(trickle_timer_);
        trickle_timer_ = 0;
    }
    for (size_t at = sdp.find("a=candidate:"); at != std::string::npos; at = sdp.find("a=candidate:", at + 1))
        sent_candidates_.insert(sdp.substr(at + 2, sdp.find_first_of("\r\n", at) - at - 2));
    if (relay_only_ && sdp.find("a=candidate:") == std::string::npos) {
        fail("TURN allocation failed: no relayed candidate (wrong or expired credentials, or the TURN server is "
             "unreachable)");
        return;
    }
    answered_ = true;
    if (cb_.local_sdp)
        cb_.local_sdp(*this, sdp);
}

void Session::on_connection_state()
{
    if (closed_ || failed_)
        return;
    GstWebRTCPeerConnectionState state;
    GstWebRTCICEConnectionState ice;
    g_object_get(webrtc_, "connection-state", &state, "ice-connection-state", &ice, nullptr);
    if (disconnect_timer_ && state != GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED) {
        g_source_remove(disconnect_timer_);
        disconnect_timer_ = 0;
    }
    switch (state) {
    case GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED:
        if (!connected_) {
            connected_ = true;
            if (cb_.connected)
                cb_.connected(*this);
        }
        break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_FAILED:
        fail(ice == GST_WEBRTC_ICE_CONNECTION_STATE_FAILED ? "ICE failure (no candidate pair works)"
                                                            : "DTLS failure (handshake or certificate)");
        break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_DISCONNECTED:
        // Consent checks lost for a while: give the path 5 s to come back.
        if (!disconnect_timer_)
            disconnect_timer_ = g_timeout_add_seconds(
                5,
                [](gpointer self) -> gboolean {
                    auto s = static_cast<Session *>(self);
                    s->disconnect_timer_ = 0;
                    guarded(s->cb_.fail_node, "ICE disconnect timer",
                            [s] { s->fail("ICE disconnected for 5 s (the browser went away)"); });
                    return G_SOURCE_REMOVE;
                },
                this);
        break;
    case GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED:
        fail("the peer connection closed");
        break;
    default:
        break;
    }
}

void Session::fail(const std::string &reason)
{
    if (failed_ || closed_)
        return;
    failed_ = true;
    if (cb_.failed)
        cb_.failed(*this, reason);
}

// What arrives is told by the pad's caps (payload, encoding name), not by
// m-line bookkeeping: a stream we cannot depayload is dropped, never linked
// to the wrong depayloader (not-negotiated would stop the whole gateway).
void Session::on_pad_added(GstElement *, GstPad *pad, gpointer data)
{
    auto *self = static_cast<Session *>(data);
    guarded(self->cb_.fail_node, "webrtcbin pad-added", [&] { self->pad_added(pad); });
}

void Session::pad_added(GstPad *pad)
{
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC || !cb_.incoming)
        return;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, nullptr);
    OfferedMedia m;
    if (caps && !gst_caps_is_empty(caps)) {
        const GstStructure *st = gst_caps_get_structure(caps, 0);
        const char *media = gst_structure_get_string(st, "media");
        const char *name = gst_structure_get_string(st, "encoding-name");
        m.kind = media ? media : "";
        m.codec = name ? name : "";
        gst_structure_get_int(st, "payload", &m.payload);
    }
    if (caps)
        gst_caps_unref(caps);
    const bool known = (m.kind == "audio" && m.codec == "OPUS") ||
                       (m.kind == "video" && (m.codec == "VP8" || m.codec == "H264"));
    if (known) {
        cb_.incoming(*this, pad, m);
        return;
    }
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    if (!sink)
        throw std::runtime_error("session " + id_ + ": GStreamer element 'fakesink' is missing");
    g_object_set(sink, "async", FALSE, "sync", FALSE, nullptr);
    gst_bin_add(bin_, sink);
    gst_element_sync_state_with_parent(sink);
    GstPad *sink_pad = gst_element_get_static_pad(sink, "sink");
    const GstPadLinkReturn linked = gst_pad_link(pad, sink_pad);
    gst_object_unref(sink_pad);
    if (linked != GST_PAD_LINK_OK)
        throw std::runtime_error("session " + id_ + ": cannot drop an unknown stream (" +
                                 gst_pad_link_get_name(linked) + ")");
}

void Session::on_local_candidate(guint mline, const std::string &candidate)
{
    if (!answered_) { // it is in the local description local_sdp will take
        if (trickle_timer_expired_)
            send_answer_when_gathered();
        return;
    }
    if (!closed_ && !failed_ && !sent_candidates_.count(candidate))
        cb_.local_candidate(*this, mline, candidate);
}

void Session::add_remote_candidate(guint mline, const std::string &candidate)
{
    g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.c_str());
}

void Session::request_stats(std::function<void(Session &, const LegStats &)> then)
{
    if (closed_)
        return;
    g_signal_emit_by_name(webrtc_, "get-stats", nullptr,
                          promise([then = std::move(then)](Session &s, const GstStructure *reply) {
                              then(s, leg_stats_from_webrtc(reply));
                          }));
}

void Session::request_keyframe()
{
    GstIterator *it = gst_element_iterate_src_pads(webrtc_);
    GValue item = G_VALUE_INIT;
    while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
        auto *pad = GST_PAD(g_value_get_object(&item));
        GstCaps *caps = gst_pad_get_current_caps(pad);
        const char *media = caps ? gst_structure_get_string(gst_caps_get_structure(caps, 0), "media") : nullptr;
        if (media && g_str_equal(media, "video"))
            gst_pad_send_event(pad, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
        if (caps)
            gst_caps_unref(caps);
        g_value_reset(&item);
    }
    g_value_unset(&item);
    gst_iterator_free(it);
}

void Session::close()
{
    if (closed_)
        return;
    closed_ = true;
    if (disconnect_timer_)
        g_source_remove(disconnect_timer_);
    disconnect_timer_ = 0;
    if (trickle_timer_)
        g_source_remove(trickle_timer_);
    trickle_timer_ = 0;
    for (gulong h : handlers_)
        g_signal_handler_disconnect(webrtc_, h);
    handlers_.clear();
    gst_element_set_locked_state(webrtc_, TRUE);
    gst_element_set_state(webrtc_, GST_STATE_NULL);
    gst_bin_remove(bin_, webrtc_);
    if (ice_agent_)
        gst_object_unref(ice_agent_);
    ice_agent_ = nullptr;
}

} // namespace webrtcdirect
