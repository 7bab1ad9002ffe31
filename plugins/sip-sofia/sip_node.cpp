// sip-sofia: answers SIP calls (one at a time) and carries their audio as
// the node's ports. SIP in sip_agent, SDP in sdp_negotiation, RTP in
// rtp_media; this file wires them to the core (properties, ports, events).
#include "rtp_media.hpp"
#include "sdp_negotiation.hpp"
#include "sip_agent.hpp"

#include <mediagw/node.hpp>

#include <memory>

namespace {

using sipsofia::SipAgent;

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("listen", "udp:127.0.0.1:5060",
                          "SIP transport and address, udp|tcp:ADDR:PORT; port 0 takes a free one (logged)"),
    mediagw::prop::string("rtp_address", nullptr, "address of the RTP sockets and of SDP c= (default: the listen one)"),
    mediagw::prop::list("codecs", "PCMU,PCMA", "audio codecs to accept, in the caller's order: PCMU, PCMA"),
    mediagw::prop::integer("rtp_timeout", "30", "seconds without incoming RTP before the call ends; 0 = never"),
    mediagw::prop::string("user_agent", "mediagw", "User-Agent header"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-mulaw; audio/x-alaw; audio/x-raw",
                         "audio sent to the caller"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-mulaw; audio/x-alaw", "audio from the caller"),
    mediagw::port::input("video", mediagw::port::video, "video/x-raw; video/x-vp8; video/x-h264",
                         "video sent to the caller (not negotiated yet: idle)"),
    mediagw::port::output("video", mediagw::port::video, "video/x-raw; video/x-vp8; video/x-h264",
                          "video from the caller (not negotiated yet: idle)"),
};

struct Listen {
    std::string transport = "udp";
    std::string host; // without IPv6 brackets
    int port = 5060;
};

// "udp:127.0.0.1:5060", "tcp:[::1]:0", "127.0.0.1:5060".
Listen parse_listen(const std::string &text)
{
    Listen l;
    std::string rest = text;
    for (const char *t : {"udp", "tcp"})
        if (rest.rfind(std::string(t) + ":", 0) == 0) {
            l.transport = t;
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
            throw mediagw::Error("codecs: at least one codec is needed (PCMU, PCMA)");
        for (auto &c : codecs_)
            if (!sipsofia::codec_supported(c))
                throw mediagw::Error("codecs: '" + c + "' is not supported (PCMU, PCMA)");
        rtp_timeout_ = integer("rtp_timeout");
        if (rtp_timeout_ < 0)
            throw mediagw::Error("rtp_timeout: must be 0 or more seconds");
        add_input("audio");
        GstPad *out = add_output("audio");
        add_input("video");
        add_output("video");
        // Until a call (and for video, until it is negotiated) inputs are
        // parked, so a live source feeding them keeps running.
        route_input("audio", nullptr);
        route_input("video", nullptr);
        media_ = std::make_unique<sipsofia::RtpMedia>(
            bin(), [this](GstPad *target) { route_input("audio", target); }, out);
        session_id_ = static_cast<unsigned long long>(g_get_real_time());
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
        cb.listening = [this](const std::string &uri) { log(MGW_LOG_INFO, "listening on %s", uri.c_str()); };
        cb.offer = [this](const SipAgent::Offer &o) { return on_offer(o); };
        cb.established = [this] { on_established(); };
        cb.ended = [this](const std::string &reason) { on_ended(reason); };
        cb.shut_down = [this] { on_shut_down(); };
        cb.log = [this](int level, const std::string &m) { log(static_cast<mgw_log_level>(level), "%s", m.c_str()); };
        agent_ = std::make_unique<SipAgent>(std::move(cb));
        const std::string host = listen_.host.find(':') != std::string::npos ? "[" + listen_.host + "]" : listen_.host;
        const std::string url = "sip:" + host + ":" + (listen_.port ? std::to_string(listen_.port) : "*") +
                                ";transport=" + listen_.transport;
        return agent_->start(url, str("user_agent"), error);
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
            emit(gst_structure_new("call.incoming", "from", G_TYPE_STRING, o.from.c_str(), "to", G_TYPE_STRING,
                                   o.to.c_str(), nullptr));
        }
        // A session refresh without SDP: offer what is in use.
        if (o.reinvite && o.sdp.empty() && !last_answer_.empty())
            return {200, "", "", last_answer_};
        std::string error;
        if (!media_->is_open() && !media_->open(bind_address(), error)) {
            log(MGW_LOG_ERROR, "%s", error.c_str());
            return {500, "", "no RTP port", ""};
        }
        sipsofia::LocalMedia local{sdp_address(o), media_->port(), session_id_, ++sdp_version_};
        sipsofia::Negotiation n = sipsofia::negotiate(o.sdp, codecs_, local);
        if (!n.ok)
            return {n.status, "", n.reason, ""};
        sipsofia::RemoteMedia remote{n.remote_address, n.remote_rtp_port, n.remote_rtcp_port};
        const bool on_hold = remote.address == "0.0.0.0";
        if (!on_hold && (!media_->running() || media_->codec() != n.codec || media_->remote() != remote)) {
            if (!media_->start(n.codec, remote, error)) {
                log(MGW_LOG_ERROR, "%s", error.c_str());
                return {500, "", "media setup failed", ""};
            }
            log(MGW_LOG_INFO, "media: %s/8000 (pt %d, %d ms) from %s:%d to %s:%d", n.codec.name.c_str(),
                n.codec.payload_type, n.codec.ptime_ms, local.address.c_str(), local.rtp_port, remote.address.c_str(),
                remote.rtp_port);
        }
        remote_sends_ = n.remote_sends;
        last_answer_ = n.answer;
        return {200, "", "", n.answer};
    }

    void on_established()
    {
        emit(gst_structure_new("call.established", "codec", G_TYPE_STRING, media_->codec().name.c_str(), nullptr));
        disarm_rtp_timer();
        if (rtp_timeout_ > 0)
            rtp_timer_ = g_timeout_add_seconds(1, check_rtp, this);
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
        // Ready for the next call: a new chain and new ports then.
        media_->stop();
        media_->close();
        last_answer_.clear();
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
        stopped();
    }

    void disarm_rtp_timer()
    {
        if (rtp_timer_)
            g_source_remove(rtp_timer_);
        rtp_timer_ = 0;
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

    Listen listen_;
    std::string rtp_address_;
    std::vector<std::string> codecs_;
    int64_t rtp_timeout_ = 30;
    std::unique_ptr<sipsofia::RtpMedia> media_;
    std::unique_ptr<SipAgent> agent_;
    unsigned long long session_id_ = 0;
    unsigned long long sdp_version_ = 0;
    std::string last_answer_;
    bool remote_sends_ = true;
    guint rtp_timer_ = 0;
};

} // namespace

MEDIAGW_PLUGIN(SipNode, "sip-sofia", "0.1.0", "SIP user agent (Sofia-SIP) answering calls, audio over RTP", nullptr,
               "call.incoming,call.established,call.ended", properties, ports);
