// webrtc-direct: the gateway's own WebRTC leg (webrtcbin, libnice, DTLS-SRTP).
// signalling = "serve": the node serves a page plus WHIP/WHEP endpoints and
// every browser that opens it joins the SIP caller directly. "whip" / "whep":
// the node is the client of a WHIP or WHEP server (`url`, bearer `token`).
// "janus": the node joins a Janus videoroom (janus/janus_room.hpp).
#include "common/main_loop.hpp"
#include "janus/janus_room.hpp"
#include "media/offer.hpp"
#include "media/room_media.hpp"
#include "media/session.hpp"
#include "serve/http_endpoints.hpp"
#include "serve/status_json.hpp"
#include "whip_whep/http_client.hpp"
#include "whip_whep/live_ice_servers.hpp"
#include "net/port_range.hpp"

#include <mediagw/node.hpp>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <map>
#include <set>

namespace {

using namespace webrtcdirect;

constexpr mgw_property_spec properties[] = {
    mediagw::prop::choice("signalling", "serve|whip|whep|janus", "serve",
                          "serve: own page + WHIP/WHEP endpoints; whip/whep: client of a server; janus: videoroom"),
    mediagw::prop::string("listen", "127.0.0.1:8080", "serve mode: HTTP address and port (port 0: pick one)"),
    mediagw::prop::list("ice_addresses", "",
                        "local addresses for ICE host candidates; default: the listen address when it is a "
                        "specific one (on loopback: loopback plus this machine's interfaces), else every interface"),
    mediagw::prop::string("rtp_ports", "",
                          "UDP ports for ICE candidates (the WebRTC leg's media), as MIN-MAX, e.g. \"20000-29999\", "
                          "for a firewall that opens only that range (empty: the kernel's ephemeral ports)"),
    mediagw::prop::integer("jitter_ms", "40", "jitter buffer before what depayloads or decodes a browser's media, in ms (what is forwarded as RTP gets none)"),
    mediagw::prop::integer("max_participants", "16",
                           "serve mode: sessions beyond this get 503; janus: feeds received at most"),
    mediagw::prop::string("url", "", "whip/whep/janus: the server URL"),
    mediagw::prop::string("token", "",
                          "bearer token: sent by the whip/whep clients, required by serve's endpoints; janus: "
                          "the API token",
                          mediagw::prop::secret),
    mediagw::prop::string("room", "", "janus: room id"),
    mediagw::prop::string("pin", "", "janus: room PIN", mediagw::prop::secret),
    mediagw::prop::string("display", "SIP caller", "janus: the gateway's display name in the room"),
    mediagw::prop::node("ice", "ice-servers", "a turn node giving STUN/TURN servers"),
    mediagw::prop::choice("video_layout", "speaker|grid", "speaker",
                          "what the caller sees of several browsers: the active speaker's video passed through, "
                          "or all of them tiled (decoded, composed, re-encoded)"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-opus", "audio sent to the browsers (Opus)"),
    mediagw::port::input("video", mediagw::port::video, "video/x-vp8; video/x-h264", "video sent to the browsers"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-opus; audio/x-raw",
                          "the browsers' audio: one passed through, several mixed"),
    mediagw::port::output("video", mediagw::port::video, "video/x-vp8; video/x-h264; video/x-raw",
                          "the active speaker's video, or the grid (raw)"),
};

// Where host candidates go when `ice_addresses` is not set: serving on a
// specific address, that one; on loopback, loopback (libnice never gathers it
// by itself) plus this machine's interfaces, so that a browser here pairs
// whichever it gathers; on a wildcard, libnice's default (every interface).
std::vector<std::string> default_ice_addresses(const std::string &host)
{
    if (host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]")
        return {};
    std::vector<std::string> out{host};
    if (host.rfind("127.", 0) != 0)
        return out;
    struct ifaddrs *ifs = nullptr;
    if (getifaddrs(&ifs) != 0)
        return out;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || (i->ifa_flags & IFF_LOOPBACK) ||
            !(i->ifa_flags & IFF_UP))
            continue;
        char text[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr, text, sizeof text);
        out.emplace_back(text);
    }
    freeifaddrs(ifs);
    return out;
}

class WebrtcDirect : public mediagw::Node {
public:
    explicit WebrtcDirect(const mgw_node_init *init) : Node(init)
    {
        client_ = str("signalling") != "serve";
        if (client_ && str("url").empty())
            throw mediagw::Error("url: signalling = \"" + str("signalling") + "\" needs the server's URL");
        if (str("signalling") == "janus" && str("room").empty())
            throw mediagw::Error("room: signalling = \"janus\" needs the videoroom's id");
        ice_.addresses = list("ice_addresses");
        if (ice_.addresses.empty())
            ice_.addresses = default_ice_addresses(str("listen").substr(0, str("listen").rfind(':')));
        ice_.latency_ms = (guint)integer("jitter_ms");
        mgwnet::PortRange ports;
        std::string ports_error;
        if (!mgwnet::parse_port_range(str("rtp_ports"), ports, ports_error))
            throw mediagw::Error("rtp_ports: " + ports_error);
        ice_.min_port = (guint)ports.min;
        ice_.max_port = (guint)ports.max;
        GstPad *ain = add_input("audio"), *vin = add_input("video");
        GstPad *aout = add_output("audio"), *vout = add_output("video");
        media_ = std::make_unique<RoomMedia>(
            bin(), ain, vin, aout, vout,
            str("video_layout") == "grid" ? RoomMedia::Layout::Grid : RoomMedia::Layout::Speaker, ice_.latency_ms,
            [this](const std::string &m) { log(MGW_LOG_INFO, "%s", m.c_str()); },
            [this](const std::string &participant) {
                emit(gst_structure_new("speaker.changed", "participant", G_TYPE_STRING, participant.c_str(), nullptr));
            },
            node_failure());
    }

    ~WebrtcDirect() override
    {
        stop_stats();
        close_all("node destroyed");
    }

    bool start(std::string &error) override
    {
        if (str("signalling") == "janus")
            return start_janus(error) && start_stats();
        if (client_)
            return start_client(error) && start_stats();
        http_ = std::make_unique<HttpEndpoints>(HttpEndpoints::Handlers{
            [this](auto &ep, auto &offer, auto &who, auto reply) { create(ep, offer, who, std::move(reply)); },
            [this](auto &ep, auto &id, auto &frag) { return patch(ep, id, frag); },
            [this](auto &ep, auto &id) { return remove(ep, id); }, [this] { return status(); }, node_failure()},
            str("token"));
        if (!http_->listen(str("listen"), error)) {
            http_.reset();
            return false;
        }
        started_ = true;
        log(MGW_LOG_INFO, "serving the call on %s (the page and %ssession; WHIP %swhip, WHEP %swhep)",
            http_->url().c_str(), http_->url().c_str(), http_->url().c_str(), http_->url().c_str());
        emit(gst_structure_new("room.joined", "url", G_TYPE_STRING, http_->url().c_str(), nullptr));
        return start_stats();
    }

    // Called from the host's C entry points: nothing may escape.
    void stop() override
    {
        guarded(node_failure(), "stop", [this] { begin_stop(); });
    }

    void begin_stop()
    {
        if (janus_) {
            // Destroying the Janus session ends every handle (bounded by the
            // API's timeout), then the sessions here end.
            janus_->leave([this] { finish_stop(); });
            return;
        }
        if (client_ && resource_) {
            // DELETE first (bounded by the HTTP timeout), then end the session.
            resource_->remove([this] {
                resource_.reset();
                finish_stop();
            });
            return;
        }
        finish_stop();
    }

    void finish_stop()
    {
        const bool gateway_stops = gateway_stopping();
        stop_stats();
        if (client_ && !sessions_.empty()) {
            close_all(gateway_stops ? "the gateway is stopping" : "the call ended");
            emit(gst_structure_new("room.left", "reason", G_TYPE_STRING, "stopping", nullptr));
        }
        if (started_) {
            const char *why = gateway_stops ? "the gateway is stopping" : "the call ended";
            close_all(why);
            http_.reset();
            started_ = false;
            emit(gst_structure_new("room.left", "reason", G_TYPE_STRING, why, nullptr));
        }
        if (gateway_stops)
            media_->end_streams();
        stopped();
    }

    void on_event(std::string_view, const GstStructure *event) override
    {
        guarded(node_failure(), "event", [&] {
            if (gst_structure_has_name(event, "call.established") || gst_structure_has_name(event, "call.incoming"))
                if (const char *from = gst_structure_get_string(event, "from"))
                    caller_ = from;
        });
    }

private:
    // What an exception caught at a C callback entry point becomes (common/guard.hpp).
    Fail node_failure()
    {
        return [this](const std::string &reason) { fail(reason); };
    }

    struct Pending {
        HttpEndpoints::Reply reply;
        guint timer = 0;
    };

    void create(const std::string &endpoint, const std::string &offer_sdp, const std::string &participant,
                HttpEndpoints::Reply reply)
    {
        if (!started_)
            return reply(HttpResponse::error(503, "no call yet"));
        if (sessions_.size() >= (size_t)integer("max_participants"))
            return reply(HttpResponse::error(503, "room full (max_participants = " +
                                                      std::to_string(integer("max_participants")) + ")"));
        const std::string who = participant.empty() ? "p" + std::to_string(next_id_ + 1) : participant.substr(0, 64);
        int status = 0;
        std::string error;
        auto s = answering_session(role_of(endpoint), who, offer_sdp, status, error);
        if (!s) {
            if (status >= 500) // ours, not the browser's: the operator must hear of it
                log(MGW_LOG_WARNING, "%s session for participant %s refused: %s", endpoint.c_str(), who.c_str(),
                    error.c_str());
            return reply(HttpResponse::error(status, error));
        }
        const std::string id = s->id();
        Pending &p = pending_[id];
        p.reply = std::move(reply);
        using Context = std::pair<WebrtcDirect *, std::string>;
        p.timer = g_timeout_add_seconds_full(
            G_PRIORITY_DEFAULT, 10,
            [](gpointer data) -> gboolean {
                auto *ctx = static_cast<Context *>(data);
                guarded(ctx->first->node_failure(), "answer timer", [ctx] {
                    ctx->first->answer_failed(ctx->second, 504, "no answer within 10 s (ICE gathering)", true);
                });
                return G_SOURCE_REMOVE;
            },
            new Context(this, id), [](gpointer data) { delete static_cast<Context *>(data); });
        log(MGW_LOG_INFO, "%s session %s for participant %s: answering", endpoint.c_str(), id.c_str(), who.c_str());
    }

    // The served endpoints: /whip (the browser publishes), /whep (it
    // receives the caller), /session (both on one connection: the page).
    static Session::Role role_of(const std::string &endpoint)
    {
        return endpoint == "whip" ? Session::Role::Publisher
               : endpoint == "whep" ? Session::Role::Subscriber
                                    : Session::Role::Peer;
    }
    static const char *endpoint_of(Session::Role role)
    {
        return role == Session::Role::Publisher ? "whip" : role == Session::Role::Subscriber ? "whep" : "session";
    }

    // A session answering `offer_sdp`: the peer publishes to us (a WHIP
    // browser, a Janus feed), receives the caller (a WHEP browser), or both
    // (the page's one connection). Its answer comes to
    // callbacks().local_sdp. nullptr with an HTTP-like status and a reason
    // when the offer or the ICE servers are unusable.
    std::shared_ptr<Session> answering_session(Session::Role role, const std::string &who,
                                               const std::string &offer_sdp, int &status, std::string &error)
    {
        std::vector<std::string> video_pref{"VP8", "H264"};
        if (media_->input_video_codec() == "H264")
            std::swap(video_pref[0], video_pref[1]);
        Offer offer;
        if (!parse_offer(offer_sdp, video_pref, offer, error)) {
            status = 400;
            error = "bad SDP offer: " + error;
            return nullptr;
        }
        IceSettings ice = ice_;
        if (!add_ice_servers(ice)) {
            status = 503;
            error = "the ice node '" + str("ice") + "' gave no servers";
            return nullptr;
        }
        std::shared_ptr<Session> s;
        try {
            s = Session::create(bin(), role, std::to_string(++next_id_), who, ice, callbacks());
        } catch (const IceConfigError &e) {
            status = 503; // as when the ice node gives no servers
            error = e.what();
            return nullptr;
        } catch (const std::exception &e) {
            status = 500;
            error = e.what();
            return nullptr;
        }
        sessions_[s->id()] = s;
        s->set_offer(offer);
        std::set<std::string> sending; // mids we send on (a Peer's receive there too)
        if (s->receives_from_us())
            sending = media_->attach_subscriber(*s);
        if (role != Session::Role::Subscriber)
            for (const auto &m : offer.media)
                if (!sending.count(m.mid))
                    s->add_receiver(m);
        s->answer(offer_sdp);
        return s;
    }

    // signalling = "janus": our feed publishes the caller's media into the
    // videoroom; every other publisher's feed comes in like a WHIP browser.
    bool start_janus(std::string &error)
    {
        if (str("room").empty()) { // a call-time value (${ivr.room:-}) may resolve to nothing
            error = "room: empty at start: signalling = \"janus\" needs the videoroom's id";
            return false;
        }
        JanusRoom::Host host;
        host.log = [this](const std::string &m) { log(MGW_LOG_INFO, "%s", m.c_str()); };
        host.start_publishing = [this]() -> std::shared_ptr<Session> {
            IceSettings ice = ice_;
            if (!add_ice_servers(ice)) {
                janus_failed("the ice node '" + str("ice") + "' gave no servers");
                return nullptr;
            }
            Offer ours;
            ours.media.push_back({"audio", "0", 111, "OPUS", "", false});
            ours.media.push_back({"video", "1", 96, media_->input_video_codec() == "H264" ? "H264" : "VP8", "", false});
            std::shared_ptr<Session> s;
            try {
                s = Session::create(bin(), Session::Role::Subscriber, std::to_string(++next_id_), str("display"),
                                    ice, callbacks());
            } catch (const std::exception &e) {
                janus_failed(e.what());
                return nullptr;
            }
            s->set_offer(ours);
            media_->attach_subscriber(*s); // fed once connected, as in serve mode
            sessions_[s->id()] = s;
            s->start_offer();
            return s;
        };
        host.start_receiving = [this](const std::string &who, const std::string &offer_sdp, std::string &error) {
            int status = 0;
            return answering_session(Session::Role::Publisher, who, offer_sdp, status, error);
        };
        host.feed_gone = [this](Session &s, const std::string &reason) { end_session(s.id(), reason); };
        host.joined = [this] {
            emit(gst_structure_new("room.joined", "url", G_TYPE_STRING, str("url").c_str(), "room", G_TYPE_STRING,
                                   str("room").c_str(), nullptr));
        };
        host.failed = [this](const std::string &reason) { janus_failed(reason); };
        host.fail_node = node_failure();
        try {
            janus_ = std::make_unique<JanusRoom>(
                JanusRoom::Settings{str("url"), str("token"), str("room"), str("pin"), str("display"),
                                    (size_t)integer("max_participants")},
                std::move(host));
        } catch (const std::exception &e) {
            error = e.what();
            return false;
        }
        log(MGW_LOG_INFO, "joining Janus room %s at %s as '%s'", str("room").c_str(), str("url").c_str(),
            str("display").c_str());
        janus_->join();
        return true;
    }

    // The room is lost for the gateway (refused, destroyed, Janus gone, our
    // feed failed): every session ends; the pipeline decides about the call.
    void janus_failed(const std::string &reason)
    {
        log(MGW_LOG_WARNING, "janus room %s: %s", str("room").c_str(), reason.c_str());
        emit(gst_structure_new("room.failed", "reason", G_TYPE_STRING, reason.c_str(), nullptr));
        close_all(reason);
    }

    // Client modes: one session with the server. whip: we send the node's
    // inputs (Opus, VP8 or the caller's H.264); whep: we receive the room
    // into the node's outputs.
    bool start_client(std::string &error)
    {
        const bool whip = str("signalling") == "whip";
        IceSettings ice = ice_;
        if (!add_ice_servers(ice)) {
            error = "the ice node '" + str("ice") + "' gave no servers";
            return false;
        }
        Offer ours;
        const bool h264 = media_->input_video_codec() == "H264";
        ours.media.push_back({"audio", "0", 111, "OPUS", "", false});
        ours.media.push_back({"video", "1", 96, h264 ? "H264" : "VP8", "", false});
        Session::Callbacks cb = callbacks();
        cb.local_candidate = [this](Session &, guint mline, const std::string &candidate) {
            if (resource_)
                resource_->trickle(mline, candidate); // PATCHed once the resource exists
        };
        auto s = Session::create(bin(), whip ? Session::Role::Subscriber : Session::Role::Publisher,
                                 std::to_string(++next_id_), "room", ice, std::move(cb));
        s->set_offer(ours);
        if (whip)
            media_->attach_subscriber(*s); // fed once connected, as in serve mode
        else
            for (const auto &m : ours.media)
                s->add_receiver(m);
        sessions_[s->id()] = s;
        resource_ = std::make_unique<SessionResource>(
            str("url"), str("token"),
            [this](const std::string &m) { log(MGW_LOG_INFO, "%s client: %s", str("signalling").c_str(), m.c_str()); },
            node_failure());
        s->start_offer(client_trickle_bound_ms);
        log(MGW_LOG_INFO, "%s client: offering to %s", whip ? "WHIP" : "WHEP", str("url").c_str());
        return true;
    }

    // The offer waits this long at most for ICE gathering (a slow TURN
    // allocation); candidates gathered later are trickled with PATCH.
    static constexpr guint client_trickle_bound_ms = 1000;

    // ICE servers from the 201's Link headers (RFC 9725 section 4.4) join the
    // session's live gathering; their candidates are trickled.
    void use_link_ice_servers(Session &s, const std::vector<std::string> &links)
    {
        std::vector<std::string> problems;
        const auto servers = ice_servers_from_links(links, problems);
        for (const auto &p : problems)
            log(MGW_LOG_WARNING, "%s client: %s", str("signalling").c_str(), p.c_str());
        for (const auto &line : add_live_ice_servers(s.webrtcbin(), servers))
            log(MGW_LOG_INFO, "%s client: %s (from the Link headers)", str("signalling").c_str(), line.c_str());
    }

    void client_offer_ready(Session &s, const std::string &sdp)
    {
        std::weak_ptr<Session> weak = s.weak_from_this();
        resource_->create(sdp, [this, weak](const SessionResource::Reply &r) {
            auto s = weak.lock();
            if (!s)
                return;
            if (r.status != 201) {
                if (!r.status)
                    return room_failed(*s, "no answer from the " + str("signalling") + " server: " + r.reason);
                std::string why = "HTTP " + std::to_string(r.status) + " " + r.reason;
                if (!r.body.empty())
                    why += ": " + r.body.substr(0, 200);
                room_failed(*s, str("signalling") + " server refused the session: " + why);
                return;
            }
            log(MGW_LOG_INFO, "session resource %s%s", r.location.c_str(), r.etag.empty() ? "" : " (ETag)");
            use_link_ice_servers(*s, r.links);
            s->apply_answer(r.body);
            emit(gst_structure_new("room.joined", "url", G_TYPE_STRING, str("url").c_str(), nullptr));
        });
    }

    void room_failed(Session &s, const std::string &reason)
    {
        if (janus_ && janus_->is_our_feed(s))
            return janus_failed("our feed failed: " + reason);
        log(MGW_LOG_WARNING, "session %s (participant %s): %s", s.id().c_str(), s.participant().c_str(),
            reason.c_str());
        emit(gst_structure_new("room.failed", "reason", G_TYPE_STRING, reason.c_str(), "participant", G_TYPE_STRING,
                               s.participant().c_str(), nullptr));
        end_session(s.id(), reason);
    }

    Session::Callbacks callbacks()
    {
        Session::Callbacks cb;
        cb.fail_node = node_failure();
        cb.local_sdp = [this](Session &s, const std::string &sdp) {
            if (janus_)
                return janus_->local_sdp(s, sdp);
            if (client_)
                return client_offer_ready(s, sdp);
            auto it = pending_.find(s.id());
            if (it == pending_.end())
                return;
            g_source_remove(it->second.timer);
            const std::string endpoint = endpoint_of(s.role());
            HttpResponse r{201, "", "application/sdp", sdp, {{"Location", "/" + endpoint + "/" + s.id()}}};
            auto reply = std::move(it->second.reply);
            pending_.erase(it);
            reply(r);
        };
        cb.failed = [this](Session &s, const std::string &reason) {
            if (pending_.count(s.id())) // TURN trouble is a gateway-side failure, the rest the offer's
                return answer_failed(s.id(), reason.rfind("TURN", 0) == 0 ? 502 : 400, reason);
            if (janus_ && !janus_->is_our_feed(s)) // one feed lost, the room goes on
                return end_session(s.id(), reason);
            room_failed(s, reason);
        };
        cb.connected = [this](Session &s) {
            log(MGW_LOG_INFO, "session %s (participant %s) connected", s.id().c_str(), s.participant().c_str());
            const bool our_feed = janus_ && janus_->is_our_feed(s);
            if (!our_feed && joined_.insert(s.participant()).second)
                emit(gst_structure_new("participant.joined", "participant", G_TYPE_STRING, s.participant().c_str(),
                                       "participants", G_TYPE_INT, (int)joined_.size(), nullptr));
            if (s.receives_from_us()) {
                media_->feed_subscriber(s);
                media_->request_input_keyframe(); // the new browser needs a picture now
            }
        };
        cb.incoming = [this](Session &s, GstPad *src, const OfferedMedia &m) {
            media_->attach_publisher_stream(s, src, m);
        };
        return cb;
    }

    void answer_failed(std::string id, int status, const std::string &why, bool from_timer = false)
    {
        auto it = pending_.find(id);
        if (it == pending_.end())
            return;
        if (!from_timer)
            g_source_remove(it->second.timer);
        auto reply = std::move(it->second.reply);
        pending_.erase(it);
        log(MGW_LOG_WARNING, "session %s: %s", id.c_str(), why.c_str());
        end_session(id, why);
        reply(HttpResponse::error(status, why));
    }

    HttpResponse patch(const std::string &endpoint, const std::string &id, const std::string &frag)
    {
        auto s = find(endpoint, id);
        if (!s)
            return HttpResponse::error(404, "no such session: /" + endpoint + "/" + id);
        std::vector<std::string> mids;
        for (const auto &m : s->offer().media)
            mids.push_back(m.mid);
        RemoteCandidates remote;
        std::string error;
        if (!parse_trickle_fragment(frag, mids, remote, error))
            return HttpResponse::error(400, "bad SDP fragment: " + error);
        if (remote.candidates.empty() && !remote.end)
            return HttpResponse::error(400, "no a=candidate line in the SDP fragment");
        for (const auto &[mline, candidate] : remote.candidates)
            s->add_remote_candidate(mline, candidate);
        return {204, "", "", "", {}};
    }

    HttpResponse remove(const std::string &endpoint, const std::string &id)
    {
        if (!find(endpoint, id))
            return HttpResponse::error(404, "no such session: /" + endpoint + "/" + id);
        end_session(id, "the browser left (DELETE)");
        return {200, "", "", "", {}};
    }

    std::shared_ptr<Session> find(const std::string &endpoint, const std::string &id)
    {
        auto it = sessions_.find(id);
        if (it == sessions_.end() ||
            it->second->role() != role_of(endpoint))
            return nullptr;
        return it->second;
    }

    void end_session(std::string id, const std::string &reason) // a copy: callers pass map keys it erases
    {
        auto it = sessions_.find(id);
        if (it == sessions_.end())
            return;
        auto s = it->second;
        sessions_.erase(it);
        if (auto st = live_stats_.find(id); st != live_stats_.end()) {
            ended_stats_.add(st->second);
            live_stats_.erase(st);
        }
        media_->detach(*s, [&s] { s->close(); });
        log(MGW_LOG_INFO, "session %s (participant %s) ended: %s", id.c_str(), s->participant().c_str(),
            reason.c_str());
        for (auto &[other, os] : sessions_)
            if (os->participant() == s->participant())
                return; // the participant still has a session
        if (joined_.erase(s->participant())) {
            emit(gst_structure_new("participant.left", "participant", G_TYPE_STRING, s->participant().c_str(),
                                   "reason", G_TYPE_STRING, reason.c_str(), "participants", G_TYPE_INT,
                                   (int)joined_.size(), nullptr));
            if (joined_.empty() && !closing_)
                emit(gst_structure_new("room.empty", "reason", G_TYPE_STRING, "the last participant left", nullptr));
        }
    }

    // RTP statistics of the WebRTC leg ("rtp.stats", as sip-sofia's for the
    // SIP leg) every few seconds while the node runs: the figures of the
    // sessions that ended plus the last reply of each live one. The replies
    // come on the main loop; a tick emits what the previous one collected,
    // so a session's final figures are at most kStatsSeconds old (a closed
    // webrtcbin answers no more).
    bool start_stats()
    {
        ended_stats_ = {};
        live_stats_.clear();
        if (!stats_timer_)
            stats_timer_ = g_timeout_add_seconds(kStatsSeconds, [](gpointer data) -> gboolean {
                auto *self = static_cast<WebrtcDirect *>(data);
                guarded(self->node_failure(), "stats timer", [self] { self->stats_tick(); });
                return G_SOURCE_CONTINUE;
            }, this);
        return true;
    }

    void stats_tick()
    {
        emit_stats();
        for (auto &[id, s] : sessions_)
            if (s->is_connected())
                s->request_stats([this](Session &s, const LegStats &st) {
                    if (sessions_.count(s.id())) // not ended meanwhile (its figures are in ended_stats_)
                        live_stats_[s.id()] = st;
                });
    }

    void emit_stats()
    {
        LegStats total = ended_stats_;
        for (const auto &[id, st] : live_stats_)
            total.add(st);
        if (total.any)
            emit(rtp_stats_event(total));
    }

    // The call's last figures (up to kStatsSeconds old), then no more.
    void stop_stats()
    {
        if (!stats_timer_)
            return;
        g_source_remove(stats_timer_);
        stats_timer_ = 0;
        emit_stats();
    }

    void close_all(const std::string &reason)
    {
        closing_ = true;
        while (!pending_.empty())
            answer_failed(pending_.begin()->first, 503, reason);
        while (!sessions_.empty())
            end_session(sessions_.begin()->first, reason);
        closing_ = false;
    }

    // STUN/TURN from the `ice` node, asked per session: ephemeral TURN
    // credentials are fresh for each.
    bool add_ice_servers(IceSettings &ice)
    {
        if (str("ice").empty())
            return true;
        GstStructure *servers = query_node(str("ice"), "ice-servers");
        if (!servers)
            return false;
        for (const char *field : {"stun", "turn"}) {
            const GValue *v = gst_structure_get_value(servers, field);
            if (v && G_VALUE_HOLDS(v, G_TYPE_STRV))
                for (auto p = static_cast<char **>(g_value_get_boxed(v)); p && *p; ++p)
                    (g_str_equal(field, "stun") ? ice.stun : ice.turn).emplace_back(*p);
        }
        const char *policy = gst_structure_get_string(servers, "policy");
        ice.relay_only = policy && g_str_equal(policy, "relay");
        gst_structure_free(servers);
        return true;
    }

    bool gateway_stopping()
    {
        GstStructure *state = query_node("gateway", "state");
        gboolean stopping = FALSE;
        if (state) {
            gst_structure_get_boolean(state, "stopping", &stopping);
            gst_structure_free(state);
        }
        return stopping;
    }

    std::string status() const
    {
        return status_json({started_, caller_, joined_.size(), sessions_.size()});
    }

    IceSettings ice_;
    std::unique_ptr<RoomMedia> media_;
    std::unique_ptr<HttpEndpoints> http_;         // serve mode
    std::unique_ptr<SessionResource> resource_;   // whip / whep client modes
    std::unique_ptr<JanusRoom> janus_;            // janus mode
    std::map<std::string, std::shared_ptr<Session>> sessions_;
    std::map<std::string, Pending> pending_;
    std::set<std::string> joined_;
    std::string caller_;
    static constexpr guint kStatsSeconds = 2; // a get-stats costs webrtcbin's thread ~0.1 ms
    guint stats_timer_ = 0;
    LegStats ended_stats_;                        // sessions that ended during this call
    std::map<std::string, LegStats> live_stats_;  // by session id: its last get-stats reply
    unsigned next_id_ = 0;
    bool started_ = false, closing_ = false, client_ = false;
};

} // namespace

MEDIAGW_PLUGIN(WebrtcDirect, "webrtc-direct", "0.2.0", "Joins the SIP caller to browsers over WebRTC (serve mode)",
               nullptr, "participant.joined,participant.left,room.joined,room.left,room.failed,room.empty,speaker.changed,rtp.stats",
               properties, ports);
