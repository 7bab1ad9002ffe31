// sip-sofia: answers SIP calls (one at a time) and carries their audio as
// the node's ports. SIP in signalling/ (sip_agent), SDP in sdp/
// (sdp_negotiation), RTP in media/ (rtp_media), STUN/TURN/ICE in nat/; this
// file wires them to the core (properties, ports, events).
#include "call_transports.hpp"
#include "media/rtp_media.hpp"
#include "nat/ice_call.hpp"
#include "sdp/sdp_checks.hpp"
#include "sdp/sdp_negotiation.hpp"
#include "sdp/srtp.hpp"
#include "signalling/sip_agent.hpp"
#include "signalling/sip_info.hpp"
#include "signalling/sip_settings.hpp"

#include <mediagw/node.hpp>

#include <gst/video/video.h>

#include <cstring>
#include <memory>

namespace {

using sipsofia::SipAgent;

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("listen", "udp:127.0.0.1:5060",
                          "SIP transport and address, [udp:|tcp:]ADDR:PORT (no prefix: UDP and TCP); "
                          "port 0 takes a free one (logged)"),
    SIP_SIGNALLING_PROPERTIES, // signalling/sip_settings.hpp: TLS, account, call policy, dial, timers
    mediagw::prop::string("rtp_address", nullptr, "address of the RTP sockets and of SDP c= (default: the listen one)"),
    mediagw::prop::node("ice", "ice-servers",
                        "a turn node: each call's RTP and RTCP go through a relay allocated on its first TURN "
                        "server over UDP, and our SDP announces the relayed address (a phone behind NAT); a node "
                        "with STUN servers only changes nothing. With media_nat = ice, ICE calls take their "
                        "server-reflexive and relayed candidates from it instead"),
    mediagw::prop::choice("media_nat", "off|ice", "off",
                          "ice: calls whose offer has ICE attributes (and our own offers) get ICE (RFC 8445, "
                          "libnice): host candidates on rtp_address, server-reflexive and relayed ones from the "
                          "`ice` node; a peer without ICE gets plain RTP (through the relay when `ice` is set)"),
    mediagw::prop::list("codecs", "opus,G722,PCMU,PCMA",
                        "audio codecs, in our order of preference: opus, G722, PCMU, PCMA"),
    mediagw::prop::list("video_codecs", "VP8,H264",
                        "video codecs, in our order of preference: VP8, H264 (empty: audio only)"),
    mediagw::prop::choice("rtp_source", "learn|sdp|any", "learn",
                          "who may send the call's RTP/RTCP: learn latches to the first source (the SDP's address "
                          "wins within 3 s of the offer/answer) and then drops every other; sdp takes only the SDP's "
                          "address; any takes every source (RTP bleed: only behind a filtering firewall)"),
    mediagw::prop::choice("srtp", "off|optional|required", "optional",
                          "SRTP with SDES keys (RFC 4568): off refuses RTP/SAVP offers, optional takes RTP/SAVP "
                          "(AES_CM_128_HMAC_SHA1_80/_32) or RTP/AVP, required refuses RTP/AVP (488)"),
    mediagw::prop::string("rtp_ports", "",
                          "UDP ports for the call's RTP and RTCP (and ICE candidates), as MIN-MAX, e.g. "
                          "\"20000-29999\", for a firewall that opens only that range (empty: the kernel's "
                          "ephemeral ports)"),
    mediagw::prop::integer("rtp_timeout", "30", "seconds without incoming RTP before the call ends; 0 = never"),
    mediagw::prop::integer("jitter_ms", "100",
                           "jitter buffer of the incoming RTP, in ms (latency against smoothness); none for a stream "
                           "forwarded as RTP (rtp_forward)"),
    mediagw::prop::boolean("rtp_forward", "true",
                           "when the output leads to a port that takes the negotiated codec's RTP (a WebRTC leg of "
                           "the same codec, the echo, another SIP leg), forward the caller's packets as RTP: no "
                           "jitter buffer, no depayloading; the far end's jitter buffer absorbs jitter. The input "
                           "likewise takes the codec's RTP and sends it on with this call's payload type and SSRC, "
                           "around the payloader. false: depayload here, behind a jitter buffer of jitter_ms, and "
                           "take encoded media only"),
    mediagw::prop::string("user_agent", "mediagw", "User-Agent header"),
    mediagw::prop::list("hangup_on", "",
                        "events that end the call with a BYE, as \"node/event\" (\"*\" for any node), e.g. "
                        "\"web/room.empty\"; the event's reason goes in the BYE's Reason header (a call not yet "
                        "answered, see answer_on, is refused with 480 and that Reason)"),
    mediagw::prop::list("answer_on", "",
                        "events a new call's answer waits for, as \"node/event\", e.g. \"route/route.found\" (the "
                        "room is known): the INVITE stays unanswered until one of them (empty: answer at once)"),
};

constexpr mgw_port_spec ports[] = {
    // Encoded elementary streams, the negotiated codec's: the core's link
    // passes them through or transcodes.
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-opus; audio/G722; audio/x-mulaw; audio/x-alaw",
                         "audio sent to the caller"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-opus; audio/G722; audio/x-mulaw; audio/x-alaw",
                          "audio from the caller"),
    mediagw::port::input("video", mediagw::port::video, "video/x-vp8; video/x-h264",
                         "video sent to the caller (idle without a video stream)"),
    mediagw::port::output("video", mediagw::port::video, "video/x-vp8; video/x-h264",
                          "video from the caller (idle without a video stream)"),
};

struct Listen {
    std::string transport; // "" = UDP and TCP
    std::string host; // without IPv6 brackets
    int port = 5060;
};

// "udp:127.0.0.1:5060", "tcp:[::1]:0", "127.0.0.1:5060".
Listen parse_listen(const std::string &text)
{
    Listen l;
    std::string rest = text;
    for (const char *t : {"udp", "tcp", "sip"})
        if (rest.rfind(std::string(t) + ":", 0) == 0) {
            l.transport = std::string(t) == "sip" ? "" : t;
            rest = rest.substr(4);
        }
    std::string port;
    if (!rest.empty() && rest[0] == '[') {
        auto close = rest.find(']');
        if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':')
            throw mediagw::Error("listen: expected [IPv6]:PORT in '" + text + "'");
        l.host = rest.substr(1, close - 1);
        port = rest.substr(close + 2);
    } else {
        auto colon = rest.rfind(':');
        if (colon == std::string::npos)
            throw mediagw::Error("listen: expected [udp:|tcp:]ADDR:PORT, not '" + text + "'");
        l.host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    char *end = nullptr;
    long p = std::strtol(port.c_str(), &end, 10);
    if (l.host.empty() || port.empty() || *end || p < 0 || p > 65535)
        throw mediagw::Error("listen: bad address or port in '" + text + "'");
    l.port = static_cast<int>(p);
    return l;
}

bool is_wildcard(const std::string &host) { return host.empty() || host == "0.0.0.0" || host == "::" || host == "*"; }

std::string strip_brackets(std::string h)
{
    if (h.size() > 2 && h.front() == '[' && h.back() == ']')
        return h.substr(1, h.size() - 2);
    return h;
}

class SipNode : public mediagw::Node {
public:
    explicit SipNode(const mgw_node_init *init) : Node(init)
    {
        listen_ = parse_listen(str("listen"));
        rtp_address_ = str("rtp_address");
        codecs_ = list("codecs");
        if (codecs_.empty())
            throw mediagw::Error("codecs: at least one audio codec is needed (opus, G722, PCMU, PCMA)");
        // One list for SDP: each name applies to the m= lines of its media.
        for (const char *key : {"codecs", "video_codecs"})
            for (auto &c : list(key)) {
                const sipsofia::CodecInfo *info = sipsofia::codec_info(c);
                const bool audio = !std::strcmp(key, "codecs");
                if (!info || std::strcmp(info->media, audio ? "audio" : "video"))
                    throw mediagw::Error(std::string(key) + ": '" + c + "' is not " +
                                         (audio ? "opus, G722, PCMU or PCMA" : "VP8 or H264"));
                if (!sipsofia::codec_supported(c))
                    throw mediagw::Error(std::string(key) + ": '" + c + "': its GStreamer RTP elements are missing");
                if (!audio)
                    codecs_.push_back(c);
            }
        srtp_ = *sipsofia::parse_srtp_mode(str("srtp")); // a choice: validated by the core
        if (srtp_ != sipsofia::SrtpMode::Off && !(has_factory("srtpenc") && has_factory("srtpdec"))) {
            if (srtp_ == sipsofia::SrtpMode::Required)
                throw mediagw::Error("srtp = required, but GStreamer's srtpenc/srtpdec (gst-plugins-bad) are missing");
            log(MGW_LOG_WARNING, "srtp: GStreamer's srtpenc/srtpdec are missing: RTP/SAVP offers are refused");
            srtp_ = sipsofia::SrtpMode::Off;
        }
        rtp_timeout_ = integer("rtp_timeout");
        if (rtp_timeout_ < 0)
            throw mediagw::Error("rtp_timeout: must be 0 or more seconds");
        GstPad *in = add_input("audio");
        GstPad *out = add_output("audio");
        GstPad *video_in = add_input("video");
        GstPad *video_out = add_output("video");
        // Until a call (and for video, until it is negotiated) inputs are
        // parked, so a live source feeding them keeps running.
        route_input("audio", nullptr);
        route_input("video", nullptr);
        media_ = std::make_unique<sipsofia::RtpMedia>(
            bin(), sipsofia::RtpMedia::Port{[this](GstPad *target) { route_input("audio", target); }, in, out},
            sipsofia::RtpMedia::Port{[this](GstPad *target) { route_input("video", target); }, video_in, video_out});
        media_->set_source_policy(*sipsofia::parse_source_policy(str("rtp_source")), // a choice: validated
                                  [this](const std::string &m) { log(MGW_LOG_WARNING, "%s", m.c_str()); });
        if (integer("jitter_ms") < 0 || integer("jitter_ms") > 5000)
            throw mediagw::Error("jitter_ms: must be 0 to 5000 ms");
        media_->set_jitter_ms((guint)integer("jitter_ms"));
        media_->set_rtp_forward(boolean("rtp_forward"));
        media_->on_dtmf = [this](char digit, int duration_ms) { // a streaming thread: emit() is thread-safe
            if (!allow_digit())
                return;
            const char d[2] = {digit, 0};
            emit(gst_structure_new("dtmf", "digit", G_TYPE_STRING, d, "source", G_TYPE_STRING, "rfc4733",
                                   "duration", G_TYPE_INT, duration_ms, nullptr));
        };
        media_->on_keyframe_by_signalling = [this] { request_keyframe_from_peer(); };
        sipsofia::CallTransports::Host transport_host;
        transport_host.ice_node = str("ice");
        transport_host.media_nat_ice = str("media_nat") == "ice";
        std::string ports_error;
        if (!mgwnet::parse_port_range(str("rtp_ports"), transport_host.rtp_ports, ports_error))
            throw mediagw::Error("rtp_ports: " + ports_error);
        transport_host.query_node = [this](const std::string &node, const char *what) {
            return query_node(node, what);
        };
        transport_host.log = [this](int level, const std::string &m) {
            log(static_cast<mgw_log_level>(level), "%s", m.c_str());
        };
        transport_host.turn_failed = [this](const std::string &error) {
            emit(gst_structure_new("turn.failed", "reason", G_TYPE_STRING, error.c_str(), nullptr));
        };
        transports_ = std::make_unique<sipsofia::CallTransports>(*media_, std::move(transport_host));
        session_id_ = static_cast<unsigned long long>(g_get_real_time());
        signalling_ = std::make_unique<sipsofia::SignallingSettings>(sipsofia::PropertyReader{
            [this](const char *k) { return str(k); }, [this](const char *k) { return integer(k); },
            [this](const char *k) { return list(k); }});
    }

    ~SipNode() override
    {
        disarm_rtp_timer();
        agent_.reset(); // completes the SIP shutdown if the drain did not
        media_.reset();
    }

    bool start(std::string &error) override
    {
        SipAgent::Callbacks cb;
        cb.listening = [this](const std::string &uri) {
            log(MGW_LOG_INFO, "listening on %s", uri.c_str());
            // The bound address (port 0 picks one): a supervisor redirects callers there.
            emit(gst_structure_new("listening", "uri", G_TYPE_STRING, uri.c_str(), nullptr));
        };
        cb.offer = [this](const SipAgent::Offer &o) { return on_offer(o); };
        cb.established = [this] { on_established(); };
        cb.ended = [this](const std::string &reason) { on_ended(reason); };
        cb.shut_down = [this] { on_shut_down(); };
        cb.log = [this](int level, const std::string &m) { log(static_cast<mgw_log_level>(level), "%s", m.c_str()); };
        cb.answer = [this](const std::string &sdp) { return on_answer(sdp); };
        cb.info = [this](const std::string &type, const std::string &body) { return on_info(type, body); };
        cb.registration = [this](bool ok, const std::string &reason) { on_registration(ok, reason); };
        agent_ = std::make_unique<SipAgent>(std::move(cb));
        const std::string host = listen_.host.find(':') != std::string::npos ? "[" + listen_.host + "]" : listen_.host;
        SipAgent::Transport t;
        t.url = "sip:" + host + ":" + (listen_.port ? std::to_string(listen_.port) : "*") +
                (listen_.transport.empty() ? "" : ";transport=" + listen_.transport);
        t.sips_url = signalling_->sips_url();
        t.cert_dir = signalling_->cert_dir;
        t.session_expires = signalling_->session_expires;
        t.answer_delay_ms = signalling_->answer_delay_ms;
        agent_->set_policy(signalling_->make_policy());
        if (!agent_->start(t, str("user_agent"), error))
            return false;
        if (!signalling_->account.aor.empty())
            agent_->register_account(signalling_->account);
        return signalling_->dial.empty() || dial(signalling_->dial, error);
    }

    void on_event(std::string_view source, const GstStructure *event) override
    {
        if (gst_structure_has_name(event, "dtmf.send"))
            send_dtmf(event);
        else if (agent_ && answer_waits_ && agent_->answer_pending() &&
                 matches(list("answer_on"), source, gst_structure_get_name(event)))
            answer_now(source, gst_structure_get_name(event));
        else if (agent_ && matches(list("hangup_on"), source, gst_structure_get_name(event))) {
            const char *why = gst_structure_get_string(event, "reason");
            const std::string reason = std::string(source) + "/" + gst_structure_get_name(event) +
                                       (why ? std::string(": ") + why : "");
            log(MGW_LOG_INFO, "hanging up: %s", reason.c_str());
            agent_->hangup(reason);
        }
    }

    static bool matches(const std::vector<std::string> &patterns, std::string_view source, std::string_view event)
    {
        for (const auto &pattern : patterns) {
            auto slash = pattern.find('/');
            if (slash == std::string::npos)
                continue;
            std::string_view node = std::string_view(pattern).substr(0, slash);
            if ((node == "*" || node == source) && std::string_view(pattern).substr(slash + 1) == event)
                return true;
        }
        return false;
    }

    // For the media side (main loop): ask the caller for a video keyframe
    // with a SIP INFO picture_fast_update (RFC 5168), for peers without
    // RTCP PLI/FIR.
    bool request_keyframe_from_peer()
    {
        return agent_ && agent_->send_info(sipsofia::kMediaControlType, sipsofia::picture_fast_update_body());
    }

    void stop() override
    {
        if (agent_)
            agent_->shutdown(); // on_shut_down() follows
        else
            stopped();
    }

private:
    SipAgent::Answer on_offer(const SipAgent::Offer &o)
    {
        if (!o.reinvite) {
            log(MGW_LOG_INFO, "INVITE from %s to %s", o.from.c_str(), o.to.c_str());
            GstStructure *values = gst_structure_new_empty("values");
            for (const auto &[name, value] : o.fields)
                gst_structure_set(values, name.c_str(), G_TYPE_STRING, value.c_str(), nullptr);
            publish_values(values);
            emit(gst_structure_new("call.incoming", "from", G_TYPE_STRING, o.from.c_str(), "to", G_TYPE_STRING,
                                   o.to.c_str(), nullptr));
            if (!list("answer_on").empty()) { // answered by answer_now(), or refused by a hangup_on event
                answer_waits_ = true;
                waiting_offer_ = o;
                return {0, "", "", "", true}; // 180 while the room is looked up
            }
        }
        return answer_offer(o);
    }

    // An answer_on event came for the INVITE waiting for it (main loop).
    void answer_now(std::string_view source, std::string_view event)
    {
        answer_waits_ = false;
        log(MGW_LOG_INFO, "answering on %.*s/%.*s", (int)source.size(), source.data(), (int)event.size(),
            event.data());
        SipAgent::Answer a = answer_offer(waiting_offer_);
        if (a.status != 0) // 0: a TURN relay is being allocated, media_settled() answers
            agent_->respond(a);
    }

    // Status 0 while a TURN relay is being allocated: media_settled() answers.
    SipAgent::Answer answer_offer(const SipAgent::Offer &o)
    {
        std::string error;
        // A relay per stream costs the TURN server ports: video only when offered (or ours to offer).
        const bool video = o.sdp.empty() ? offers_video() : o.sdp.find("m=video") != std::string::npos;
        if (!media_->is_open() &&
            !(transports_->start_ice(o.sdp, error) && transports_->open(bind_address(), video, error))) {
            log(MGW_LOG_ERROR, "%s", error.c_str());
            return {500, "", error, ""};
        }
        if (!transports_->ready()) {
            media_->when_ready([this, o](const std::string &e) { media_settled(o, e); });
            return {0, "", "", ""};
        }
        // No SDP in the INVITE: our 200 carries an offer, the ACK the answer.
        if (o.sdp.empty())
            return make_offer(o);
        sipsofia::LocalMedia local = local_media(o);
        if (!srtp_keys(local)) {
            log(MGW_LOG_ERROR, "srtp: no random bytes for a key");
            return {500, "", "no SRTP key", ""};
        }
        sipsofia::Negotiation n = sipsofia::negotiate(o.sdp, codecs_, local);
        if (!n.ok)
            return {n.status, "", n.reason, ""};
        if (ice()) { // before the media starts: its elements check whether the peer does ICE
            ice()->apply_remote(o.sdp, false);
            n.answer = ice()->add_local(n.answer);
        }
        sipsofia::RemoteMedia remote{n.remote_address, n.remote_rtp_port, n.remote_rtcp_port};
        const bool on_hold = remote.address == "0.0.0.0";
        if (!on_hold && !media_->matches(n)) {
            if (!media_->start(n, error)) {
                log(MGW_LOG_ERROR, "%s", error.c_str());
                return {500, "", "media setup failed", ""};
            }
            log_media(n, local.address);
        } else if (!on_hold && n.video.remote_sends && !remote_sends_) {
            media_->request_keyframe(); // resumed: the picture restarts with a keyframe
        }
        media_->set_sending(n);
        remote_sends_ = n.remote_sends;
        last_answer_ = n.answer;
        peer_dtmf_ = n.audio.dtmf_pt >= 0;
        if (o.reinvite)
            note_hold(sipsofia::sdp_is_hold(o.sdp));
        return {200, "", "", n.answer};
    }

    void on_established()
    {
        emit(gst_structure_new("call.established", "codec", G_TYPE_STRING, media_->codec().name.c_str(), nullptr));
        disarm_rtp_timer();
        if (rtp_timeout_ > 0)
            rtp_timer_ = g_timeout_add_seconds(1, check_rtp, this);
        if (!stats_timer_) // figures for a supervisor's metrics during the call (mediagw serve)
            stats_timer_ = g_timeout_add_seconds(kStatsSeconds, [](gpointer data) -> gboolean {
                static_cast<SipNode *>(data)->emit_rtp_stats();
                return G_SOURCE_CONTINUE;
            }, this);
    }

    // An "rtp.stats" event: packets sent/received/lost and jitter per stream.
    void emit_rtp_stats()
    {
        if (GstStructure *stats = media_ ? media_->stats() : nullptr)
            emit(stats);
    }

    void log_media(const sipsofia::Negotiation &n, const std::string &local_address)
    {
        const bool relayed = !ice() && !media_->public_address().empty();
        for (const sipsofia::Stream *st : {&n.audio, &n.video})
            if (st->active)
                log(MGW_LOG_INFO, "media: %s/%d (pt %d%s%s%s%s) from %s:%d%s to %s:%d", st->codec.name.c_str(),
                    st->codec.clock_rate, st->codec.payload_type,
                    st->dtmf_pt >= 0 ? ", telephone-event" : "", st->nack_pli || st->ccm_fir ? ", rtcp-fb" : "",
                    st->srtp.on ? ", SRTP " : "", st->srtp.suite.c_str(), // the suite only, never a key
                    local_address.c_str(), st == &n.audio ? media_->port() : media_->video_port(),
                    relayed ? " (TURN relay)" : ice() ? " (ICE default candidate)" : "", st->remote_address.c_str(),
                    st->remote_rtp_port);
    }

    // Main loop, once a second while a call is up.
    static gboolean check_rtp(gpointer data)
    {
        auto self = static_cast<SipNode *>(data);
        const gint64 silent_us = g_get_monotonic_time() - self->media_->last_rtp();
        if (!self->remote_sends_ || silent_us < self->rtp_timeout_ * G_USEC_PER_SEC)
            return G_SOURCE_CONTINUE;
        self->rtp_timer_ = 0;
        self->log(MGW_LOG_INFO, "no RTP for %lld s: hanging up", static_cast<long long>(self->rtp_timeout_));
        self->agent_->hangup("rtp-timeout");
        return G_SOURCE_REMOVE;
    }

    void on_ended(const std::string &reason)
    {
        disarm_rtp_timer();
        answer_waits_ = false;
        emit_rtp_stats(); // the call's last figures, before its chain goes
        // Ready for the next call: a new chain and new ports then.
        media_->stop();
        media_->close();
        transports_->end_call();
        last_answer_.clear();
        our_offer_.clear();
        srtp_audio_key_.clear(); // each call gets keys of its own
        srtp_video_key_.clear();
        held_ = false;
        session_id_ = static_cast<unsigned long long>(g_get_real_time()); // the next call is a new SDP session
        sdp_version_ = 0;
        log(MGW_LOG_INFO, "call ended: %s", reason.c_str());
        emit(gst_structure_new("call.ended", "reason", G_TYPE_STRING, reason.c_str(), nullptr));
    }

    void on_shut_down()
    {
        // Outputs that carried media end their stream, so that downstream
        // sinks (a recorder) complete during the core's drain.
        for (const char *port : {"audio", "video"}) {
            GstPad *out = output(port);
            if (GstCaps *caps = gst_pad_get_current_caps(out)) {
                gst_caps_unref(caps);
                gst_pad_push_event(out, gst_event_new_eos());
            }
            gst_object_unref(out);
        }
        // The last call's ICE agent may still be giving its TURN allocations back.
        sipsofia::when_ice_closed(1000, [this] { stopped(); });
    }

    void disarm_rtp_timer()
    {
        if (rtp_timer_)
            g_source_remove(rtp_timer_);
        rtp_timer_ = 0;
        if (stats_timer_)
            g_source_remove(stats_timer_);
        stats_timer_ = 0;
    }

    std::string bind_address() const
    {
        if (!rtp_address_.empty())
            return strip_brackets(rtp_address_);
        return is_wildcard(listen_.host) ? (listen_.host == "::" ? "::" : "0.0.0.0") : listen_.host;
    }

    // What the caller should send to: a wildcard is no address, so then
    // the one the caller used to reach us.
    std::string sdp_address(const SipAgent::Offer &o) const
    {
        std::string a = bind_address();
        if (!is_wildcard(a))
            return a;
        std::string h = strip_brackets(o.request_host);
        GInetAddress *ia = g_inet_address_new_from_string(h.c_str());
        if (ia) {
            g_object_unref(ia);
            return h;
        }
        return a == "::" ? "::1" : "127.0.0.1";
    }

    // The SRTP policy and this call's master keys (made at its first offer,
    // kept across re-INVITEs). Secrets: never logged.
    bool srtp_keys(sipsofia::LocalMedia &local)
    {
        local.srtp = srtp_;
        if (srtp_ == sipsofia::SrtpMode::Off)
            return true;
        if (srtp_audio_key_.empty())
            srtp_audio_key_ = sipsofia::random_srtp_key();
        if (srtp_video_key_.empty())
            srtp_video_key_ = sipsofia::random_srtp_key();
        local.audio_key = srtp_audio_key_;
        local.video_key = srtp_video_key_;
        return !srtp_audio_key_.empty() && !srtp_video_key_.empty();
    }

    static bool has_factory(const char *name)
    {
        GstElementFactory *f = gst_element_factory_find(name);
        if (f)
            gst_object_unref(f);
        return f != nullptr;
    }

    Listen listen_;
    std::string rtp_address_;
    sipsofia::SrtpMode srtp_ = sipsofia::SrtpMode::Optional;
    std::string srtp_audio_key_, srtp_video_key_;
    std::vector<std::string> codecs_;
    int64_t rtp_timeout_ = 30;
    std::unique_ptr<sipsofia::RtpMedia> media_;
    sipsofia::DigitRateLimit digit_limit_; // the caller's digits, both paths (on_dtmf, on_info)
    std::unique_ptr<SipAgent> agent_;
    unsigned long long session_id_ = 0;
    unsigned long long sdp_version_ = 0;
    std::string last_answer_;
    bool remote_sends_ = true;
    guint rtp_timer_ = 0;
    guint stats_timer_ = 0;                  // rtp.stats during a call
    static constexpr guint kStatsSeconds = 5;

    // --- Signalling (issue #4): offers of our own, hold, INFO, REGISTER. ---

    // Our SDP offer: in the 200 to an INVITE without SDP (delayed offer) or
    // to a re-INVITE without SDP (then the session as it is).
    SipAgent::Answer make_offer(const SipAgent::Offer &o)
    {
        // Offers of our own are plain RTP/AVP (SDES offers are not written yet).
        const bool secure_call = media_->running() && (media_->audio().srtp.on || media_->video().srtp.on);
        if ((srtp_ == sipsofia::SrtpMode::Required && !o.reinvite) || secure_call) // no downgrade to plain RTP
            return {488, "", "an INVITE without SDP would need an SRTP offer from us, which is not supported", ""};
        log(MGW_LOG_INFO, "%s without SDP: offering in the 200", o.reinvite ? "re-INVITE" : "INVITE");
        our_offer_ = sipsofia::create_offer(codecs_, local_media(o));
        if (our_offer_.empty())
            return {488, "", "no codec to offer", ""};
        if (ice())
            our_offer_ = ice()->add_local(our_offer_);
        return {200, "", "", our_offer_};
    }

    // The peer's answer to our_offer_ (ACK of a delayed offer, 200 of our INVITE).
    bool on_answer(const std::string &sdp)
    {
        sipsofia::Negotiation n = sipsofia::apply_answer(sdp, our_offer_);
        if (!n.ok) {
            log(MGW_LOG_WARNING, "unusable SDP answer: %s", n.reason.c_str());
            return false;
        }
        sipsofia::RemoteMedia remote{n.remote_address, n.remote_rtp_port, n.remote_rtcp_port};
        std::string error;
        if (ice())
            ice()->apply_remote(sdp, true);
        if (remote.address != "0.0.0.0" && !media_->start(n, error)) {
            log(MGW_LOG_ERROR, "%s", error.c_str());
            return false;
        }
        const std::string relayed = media_->public_address();
        log(MGW_LOG_INFO, "media: %s (pt %d) from %s:%d%s to %s:%d (answer to our offer)", n.codec.name.c_str(),
            n.codec.payload_type, relayed.empty() ? bind_address().c_str() : relayed.c_str(), media_->port(),
            ice() ? " (ICE default candidate)" : relayed.empty() ? "" : " (TURN relay)", remote.address.c_str(),
            remote.rtp_port);
        media_->set_sending(n);
        remote_sends_ = n.remote_sends;
        peer_dtmf_ = n.audio.dtmf_pt >= 0;
        last_answer_ = our_offer_; // what a later refresh without SDP offers again
        note_hold(sipsofia::sdp_is_hold(sdp));
        return true;
    }

    bool dial(const std::string &uri, std::string &error)
    {
        if (srtp_ == sipsofia::SrtpMode::Required) { // our offers are plain RTP/AVP
            error = "dial: offering SRTP is not supported; set srtp = optional or off";
            return false;
        }
        if (!media_->is_open() &&
            !(transports_->start_ice("", error) && transports_->open(bind_address(), offers_video(), error)))
            return false;
        if (!transports_->ready()) { // the call is placed once the relay is allocated
            media_->when_ready([this, uri](const std::string &e) {
                std::string why = e;
                if (e.empty()) {
                    transports_->set_ready();
                    if (place_call(uri, why))
                        return;
                } else {
                    why = transports_->failed(e);
                }
                fail("dial " + uri + ": " + why + " (the call was not placed)");
            });
            return true;
        }
        return place_call(uri, error);
    }

    bool place_call(const std::string &uri, std::string &error)
    {
        SipAgent::Offer none; // no request to learn our address from: the bind one, or loopback
        our_offer_ = sipsofia::create_offer(codecs_, local_media(none));
        if (our_offer_.empty()) {
            error = "dial: no codec to offer";
            return false;
        }
        if (ice())
            our_offer_ = ice()->add_local(our_offer_);
        return agent_->dial(uri, our_offer_, error);
    }

    // --- Media transport: plain UDP, a TURN relay or ICE (call_transports.hpp). ---

    bool offers_video() const { return !list("video_codecs").empty(); }

    // This call's ICE agent (media_nat = ice and a peer that does ICE), or nullptr.
    sipsofia::IceCall *ice() const { return transports_->ice(); }

    // The relay of an answered INVITE settled (main loop).
    void media_settled(const SipAgent::Offer &o, const std::string &error)
    {
        if (!agent_ || !agent_->answer_pending())
            return;
        if (!error.empty()) {
            agent_->respond({500, "", transports_->failed(error), ""});
            return;
        }
        transports_->set_ready();
        agent_->respond(answer_offer(o));
    }

    // Our SDP's addresses: the relay's when there is one.
    sipsofia::LocalMedia local_media(const SipAgent::Offer &o)
    {
        const std::string relayed = media_->public_address();
        sipsofia::LocalMedia local{relayed.empty() ? sdp_address(o) : relayed, media_->port(), session_id_,
                                   ++sdp_version_, media_->video_port()};
        local.rtcp_port = media_->rtcp_port();
        local.video_rtcp_port = media_->video_rtcp_port();
        return local;
    }

    void note_hold(bool hold)
    {
        if (hold == held_)
            return;
        held_ = hold;
        log(MGW_LOG_INFO, "the peer %s the call", hold ? "holds" : "resumes");
        emit(gst_structure_new_empty(hold ? "call.held" : "call.resumed"));
    }

    // Any thread. The caller's digits, RFC 4733 and INFO alike, within the
    // rate a keypad can make; the first refused one of a burst is logged.
    bool allow_digit()
    {
        switch (digit_limit_.check(g_get_monotonic_time())) {
        case sipsofia::DigitRateLimit::Verdict::Allow:
            return true;
        case sipsofia::DigitRateLimit::Verdict::RefuseFirst:
            log(MGW_LOG_WARNING, "DTMF: the caller sends digits faster than a keypad can; dropping them");
            return false;
        case sipsofia::DigitRateLimit::Verdict::Refuse:
            return false;
        }
        return false;
    }

    int on_info(const std::string &type, const std::string &body)
    {
        const sipsofia::InfoContent c = sipsofia::parse_info(type, body);
        switch (c.kind) {
        case sipsofia::InfoContent::Kind::Dtmf: {
            if (!allow_digit())
                break; // answered 200 all the same: the digit arrived, it is just not passed on
            const char digit[2] = {c.digit, 0};
            log(MGW_LOG_DEBUG, "DTMF %s (SIP INFO %s)", digit, type.c_str()); // a digit may be part of a PIN
            GstStructure *ev = gst_structure_new("dtmf", "digit", G_TYPE_STRING, digit, "source", G_TYPE_STRING,
                                                 "info", nullptr);
            if (c.duration_ms > 0)
                gst_structure_set(ev, "duration", G_TYPE_INT, c.duration_ms, nullptr);
            emit(ev);
            break;
        }
        case sipsofia::InfoContent::Kind::PictureFastUpdate:
            request_keyframe_upstream();
            break;
        case sipsofia::InfoContent::Kind::Malformed:
            log(MGW_LOG_INFO, "malformed SIP INFO body (%s): 400", type.c_str());
            break;
        case sipsofia::InfoContent::Kind::Unsupported:
            log(MGW_LOG_INFO, "SIP INFO of type '%s': 415", type.c_str());
            break;
        }
        return c.status();
    }

    // The caller wants a keyframe: ask whatever feeds our video input for
    // one (upstream force-key-unit: encoders and webrtcbin act on it).
    void request_keyframe_upstream()
    {
        GstPad *in = input("video");
        const bool sent = linked(in) && gst_pad_push_event(in, gst_video_event_new_upstream_force_key_unit(
                                                                   GST_CLOCK_TIME_NONE, TRUE, 0));
        log(MGW_LOG_INFO, "picture_fast_update from the peer: %s", sent ? "keyframe requested upstream"
                                                                        : "no video source to ask");
        gst_object_unref(in);
    }

    // dtmf.send {digit (one or more), duration?} from another node: RFC 4733
    // telephone-events when the peer took them, else SIP INFO.
    void send_dtmf(const GstStructure *event)
    {
        const char *digit = gst_structure_get_string(event, "digit");
        int duration = 160;
        gst_structure_get_int(event, "duration", &duration);
        if (!digit || !*digit || !agent_)
            return;
        if (peer_dtmf_) {
            if (media_->send_dtmf(digit, duration))
                log(MGW_LOG_INFO, "dtmf.send: '%s' as RFC 4733 events", digit);
            else
                log(MGW_LOG_WARNING, "dtmf.send: no call (or no DTMF digit) to send '%s' in", digit);
            return;
        }
        std::string sent;
        for (const char *d = digit; *d; ++d) {
            if (agent_->send_info(sipsofia::kDtmfRelayType, sipsofia::dtmf_relay_body(*d, duration)))
                sent += *d;
            else
                log(MGW_LOG_WARNING, "dtmf.send: no call to send '%c' in", *d);
        }
        if (!sent.empty())
            log(MGW_LOG_INFO, "dtmf.send: '%s' as SIP INFO (the caller has no telephone-event)", sent.c_str());
    }

    void on_registration(bool ok, const std::string &reason)
    {
        if (ok)
            emit(gst_structure_new("register.ok", "aor", G_TYPE_STRING, signalling_->account.aor.c_str(), nullptr));
        else
            emit(gst_structure_new("register.failed", "reason", G_TYPE_STRING, reason.c_str(), nullptr));
    }

    std::unique_ptr<sipsofia::SignallingSettings> signalling_;
    std::string our_offer_; // the last SDP offer we made in this call
    std::unique_ptr<sipsofia::CallTransports> transports_; // this call's UDP, TURN or ICE (and its ICE agent)
    bool held_ = false;
    bool peer_dtmf_ = false; // the peer takes RFC 4733 telephone-event
    bool answer_waits_ = false;       // a new call's answer waits for an answer_on event
    SipAgent::Offer waiting_offer_;   // its offer
};

} // namespace

MEDIAGW_PLUGIN_VALUES(SipNode, "sip-sofia", "0.1.0", "SIP user agent (Sofia-SIP) answering calls, audio over RTP",
                      nullptr,
                      "listening,rtp.stats,call.incoming,call.established,call.held,call.resumed,call.ended,dtmf,"
                      "register.ok,register.failed,turn.failed",
                      sipsofia::kCallFieldNames, properties, ports);
