#include "nat/ice_session.hpp"

#include <mediagw/plugin.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <utility>

namespace sipsofia {

namespace {

bool is_ip_literal(const std::string &host)
{
    GInetAddress *ia = g_inet_address_new_from_string(host.c_str());
    if (ia)
        g_object_unref(ia);
    return ia != nullptr;
}

bool is_wildcard(const std::string &a) { return a.empty() || a == "0.0.0.0" || a == "::"; }

// Agents still closing (main loop only) and who waits for them.
struct Closing {
    int agents = 0;
    std::vector<std::function<void()>> waiting;

    void closed()
    {
        if (--agents > 0)
            return;
        auto w = std::move(waiting);
        waiting.clear();
        for (auto &done : w)
            done();
    }
};
Closing closing;

std::string address_text(const NiceAddress &a)
{
    gchar buf[NICE_ADDRESS_STRING_LEN];
    nice_address_to_string(&a, buf);
    return std::string(buf) + ":" + std::to_string(nice_address_get_port(&a));
}

std::string describe(const NiceCandidate *c)
{
    return std::string(nice_candidate_type_to_string(c->type)) + " " + address_text(c->addr);
}

} // namespace

IceSession::IceSession(IceServers servers, bool controlling, TurnLog log)
    : servers_(std::move(servers)), log_(std::move(log)), controlling_(controlling)
{
    // The default main context: the node's main loop runs the checks.
    agent_ = nice_agent_new(nullptr, NICE_COMPATIBILITY_RFC5245);
    g_object_set(agent_, "upnp", FALSE, "ice-tcp", FALSE, "ice-udp", TRUE, "controlling-mode",
                 controlling ? TRUE : FALSE, nullptr);
    if (!servers_.stun_host.empty())
        g_object_set(agent_, "stun-server", servers_.stun_host.c_str(), "stun-server-port",
                     static_cast<guint>(servers_.stun_port), nullptr);
    if (servers_.turn && servers_.relay_only)
        g_object_set(agent_, "force-relay", TRUE, nullptr);
    g_signal_connect(agent_, "candidate-gathering-done", G_CALLBACK(on_gathering_done), this);
    g_signal_connect(agent_, "component-state-changed", G_CALLBACK(on_state), this);
    g_signal_connect(agent_, "new-selected-pair-full", G_CALLBACK(on_pair), this);
    if (servers_.turn) {
        turn_resolved_ = is_ip_literal(servers_.turn->host);
        if (turn_resolved_)
            turn_ip_ = servers_.turn->host;
    } else {
        turn_resolved_ = true;
    }
}

IceSession::~IceSession()
{
    if (resolving_) {
        g_cancellable_cancel(resolving_); // its callback sees CANCELLED and touches nothing
        g_clear_object(&resolving_);
    }
    for (auto &[id, s] : streams_)
        if (s.timer)
            g_source_remove(s.timer);
    streams_.clear();
    // The media elements may hold the agent a little longer: nothing of
    // ours may be called back from it then.
    g_signal_handlers_disconnect_by_data(agent_, this);
    // Deallocates the TURN relays; the pending close holds the agent.
    ++closing.agents;
    nice_agent_close_async(
        agent_, [](GObject *, GAsyncResult *, gpointer) { closing.closed(); }, nullptr);
    g_object_unref(agent_);
}

void IceSession::when_closed(guint timeout_ms, std::function<void()> done)
{
    if (closing.agents == 0) {
        done();
        return;
    }
    // Whichever comes first: the last close, or the timeout.
    auto once = std::make_shared<std::function<void()>>(std::move(done));
    auto fire = [once] {
        if (auto d = std::exchange(*once, nullptr))
            d();
    };
    closing.waiting.push_back(fire);
    g_timeout_add_full(
        G_PRIORITY_DEFAULT, timeout_ms,
        [](gpointer p) {
            (*static_cast<std::function<void()> *>(p))();
            return G_SOURCE_REMOVE;
        },
        new std::function<void()>(fire), [](gpointer p) { delete static_cast<std::function<void()> *>(p); });
}

void IceSession::log(int level, const std::string &m) const
{
    if (log_)
        log_(level, "ICE: " + m);
}

IceSession::Stream *IceSession::find(guint id)
{
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
}

const IceSession::Stream *IceSession::find(guint id) const
{
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : &it->second;
}

guint IceSession::add_stream(const std::string &label, const std::string &address, std::string &error)
{
    // libnice skips loopback unless told: an explicit address is taken as is.
    if (!is_wildcard(address) && std::find(local_addresses_.begin(), local_addresses_.end(), address) ==
                                     local_addresses_.end()) {
        NiceAddress a;
        nice_address_init(&a);
        if (!nice_address_set_from_string(&a, address.c_str()) || !nice_agent_add_local_address(agent_, &a)) {
            error = "ICE: cannot use '" + address + "' as a local address";
            return 0;
        }
        local_addresses_.push_back(address);
    }
    const guint id = nice_agent_add_stream(agent_, 2);
    if (!id) {
        error = "ICE: cannot add a stream for " + label;
        return 0;
    }
    if (!servers_.ports.any())
        for (guint c : {kRtp, kRtcp})
            nice_agent_set_port_range(agent_, id, c, static_cast<guint>(servers_.ports.min),
                                      static_cast<guint>(servers_.ports.max));
    streams_[id].label = label;
    Stream &s = streams_[id];
    // Armed first: gathering may end at once (no servers).
    using Key = std::pair<IceSession *, guint>;
    s.timer = g_timeout_add_full(
        G_PRIORITY_DEFAULT, kGatherTimeoutMs,
        [](gpointer data) -> gboolean {
            auto p = static_cast<Key *>(data);
            if (Stream *st = p->first->find(p->second)) {
                st->timer = 0;
                p->first->start_gathering(p->second); // the TURN name never resolved: without it
            }
            p->first->gathered(p->second, true);
            return G_SOURCE_REMOVE;
        },
        new Key(this, id), [](gpointer p) { delete static_cast<Key *>(p); });
    if (turn_resolved_) {
        start_gathering(id);
    } else if (!resolving_) {
        // Gathering waits for the TURN server's address (bounded by the gathering timeout).
        resolving_ = g_cancellable_new();
        g_resolver_lookup_by_name_async(
            g_resolver_get_default(), servers_.turn->host.c_str(), resolving_,
            [](GObject *resolver, GAsyncResult *res, gpointer data) {
                GError *err = nullptr;
                GList *list = g_resolver_lookup_by_name_finish(G_RESOLVER(resolver), res, &err);
                if (g_error_matches(err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
                    g_error_free(err);
                    return; // the session is gone
                }
                auto self = static_cast<IceSession *>(data);
                g_clear_object(&self->resolving_);
                if (list) {
                    gchar *ip = g_inet_address_to_string(G_INET_ADDRESS(list->data));
                    self->turn_ip_ = ip;
                    g_free(ip);
                    g_resolver_free_addresses(list);
                } else {
                    self->log(MGW_LOG_WARNING, "cannot resolve TURN server " + self->servers_.turn->uri + ": " +
                                                   (err ? err->message : "no address") + " (no relayed candidates)");
                }
                if (err)
                    g_error_free(err);
                self->turn_resolved_ = true;
                for (auto &[sid, s] : self->streams_)
                    if (!s.gathering)
                        self->start_gathering(sid);
            },
            this);
    }
    return id;
}

void IceSession::keep_reading(guint id)
{
    if (!find(id))
        return;
    auto drop = [](NiceAgent *, guint, guint, guint, gchar *, gpointer) {};
    for (guint c : {kRtp, kRtcp})
        nice_agent_attach_recv(agent_, id, c, g_main_context_default(), drop, nullptr);
}

void IceSession::start_gathering(guint id)
{
    Stream *s = find(id);
    if (!s || s->gathering)
        return;
    s->gathering = true;
    keep_reading(id);
    if (servers_.turn && !turn_ip_.empty())
        for (guint c : {kRtp, kRtcp})
            nice_agent_set_relay_info(agent_, id, c, turn_ip_.c_str(), static_cast<guint>(servers_.turn->port),
                                      servers_.turn->username.c_str(), servers_.turn->password.c_str(),
                                      NICE_RELAY_TYPE_TURN_UDP);
    if (!nice_agent_gather_candidates(agent_, id)) {
        log(MGW_LOG_WARNING, s->label + ": gathering candidates failed (no usable interface?)");
        gathered(id, false);
    }
}

void IceSession::remove_stream(guint id)
{
    Stream *s = find(id);
    if (!s)
        return;
    if (s->timer)
        g_source_remove(s->timer);
    streams_.erase(id);
    nice_agent_remove_stream(agent_, id);
}

void IceSession::when_gathered(guint id, std::function<void()> done)
{
    Stream *s = find(id);
    if (!s)
        return;
    if (s->gathered) {
        done();
        return;
    }
    s->waiting.push_back(std::move(done));
}

void IceSession::gathered(guint id, bool timed_out)
{
    Stream *s = find(id);
    if (!s || s->gathered)
        return;
    s->gathered = true;
    if (s->timer && !timed_out)
        g_source_remove(s->timer);
    s->timer = 0;
    std::string kinds;
    int count = 0;
    for (guint c : {kRtp, kRtcp}) {
        GSList *cands = nice_agent_get_local_candidates(agent_, id, c);
        for (GSList *l = cands; l; l = l->next) {
            auto cand = static_cast<NiceCandidate *>(l->data);
            ++count;
            if (c == kRtp)
                kinds += std::string(kinds.empty() ? "" : ", ") + describe(cand);
        }
        g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    }
    log(MGW_LOG_INFO, s->label + ": " + std::to_string(count) + " candidates (RTP: " + kinds + ")" +
                          (timed_out ? ", gathering cut short after " + std::to_string(kGatherTimeoutMs) + " ms" : ""));
    auto waiting = std::move(s->waiting);
    s->waiting.clear();
    for (auto &done : waiting)
        done();
}

bool IceSession::default_candidate(guint id, guint component, std::string &ip, int &port) const
{
    GSList *cands = nice_agent_get_local_candidates(agent_, id, component);
    const NiceCandidate *best = nullptr;
    for (GSList *l = cands; l; l = l->next) {
        auto c = static_cast<const NiceCandidate *>(l->data);
        if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
            continue;
        // Host first: a peer without ICE sends to it, and we answer from it.
        if (!best || (c->type == NICE_CANDIDATE_TYPE_HOST && best->type != NICE_CANDIDATE_TYPE_HOST))
            best = c;
    }
    if (best) {
        gchar buf[NICE_ADDRESS_STRING_LEN];
        nice_address_to_string(&best->addr, buf);
        ip = buf;
        port = static_cast<int>(nice_address_get_port(&best->addr));
    }
    g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    return best != nullptr;
}

void IceSession::apply_remote(const std::string &sdp, bool we_offered)
{
    const RemoteIceMedia remote = remote_ice(sdp);
    for (auto &[id, s] : streams_) {
        const RemoteIce &r = s.label == "video" ? remote.video : remote.audio;
        if (r.present)
            set_remote(id, s, r, we_offered);
    }
}

void IceSession::set_remote(guint id, Stream &s, const RemoteIce &remote, bool we_offered)
{
    if (s.remote_ufrag == remote.ufrag)
        return; // a re-INVITE of the same ICE session: the selected pair stays
    if (!s.remote_ufrag.empty()) {
        log(MGW_LOG_INFO, s.label + ": the peer restarts ICE (new ufrag)");
        nice_agent_restart_stream(agent_, id);
    }
    nice_agent_set_remote_credentials(agent_, id, remote.ufrag.c_str(), remote.pwd.c_str());
    // a=rtcp-mux from us only answers the peer's (our offers have two components).
    s.mux = remote.rtcp_mux && !we_offered;
    GSList *per_component[3] = {nullptr, nullptr, nullptr};
    int count = 0;
    for (auto &line : remote.candidates) {
        NiceCandidate *c = nice_agent_parse_remote_candidate_sdp(agent_, id, ("a=" + line).c_str());
        if (!c)
            continue;
        if ((c->component_id == kRtp || (c->component_id == kRtcp && !s.mux)) &&
            c->transport == NICE_CANDIDATE_TRANSPORT_UDP) {
            per_component[c->component_id] = g_slist_append(per_component[c->component_id], c);
            ++count;
        } else {
            nice_candidate_free(c);
        }
    }
    for (guint comp : {kRtp, kRtcp})
        if (per_component[comp]) {
            nice_agent_set_remote_candidates(agent_, id, comp, per_component[comp]);
            g_slist_free_full(per_component[comp], reinterpret_cast<GDestroyNotify>(nice_candidate_free));
        }
    s.remote_ufrag = remote.ufrag;
    s.completed = false;
    log(MGW_LOG_INFO, s.label + ": checking " + std::to_string(count) + " remote candidates as the " +
                          (controlling_ ? "controlling" : "controlled") + " agent" +
                          (remote.lite ? " (the peer is ICE-lite)" : "") + (s.mux ? ", rtcp-mux" : ""));
}

bool IceSession::has_remote(guint id) const
{
    const Stream *s = find(id);
    return s && !s->remote_ufrag.empty();
}

bool IceSession::rtcp_mux(guint id) const
{
    const Stream *s = find(id);
    return s && s->mux;
}

void IceSession::fall_back(guint id, const std::string &address, int rtp_port, int rtcp_port)
{
    Stream *s = find(id);
    if (!s)
        return;
    for (auto [comp, port] : {std::pair{kRtp, rtp_port}, std::pair{kRtcp, rtcp_port}}) {
        NiceCandidate *c = nice_candidate_new(NICE_CANDIDATE_TYPE_HOST);
        c->stream_id = id;
        c->component_id = comp;
        c->transport = NICE_CANDIDATE_TRANSPORT_UDP;
        g_strlcpy(c->foundation, "sdp", sizeof c->foundation);
        const bool ok = nice_address_set_from_string(&c->addr, address.c_str());
        nice_address_set_port(&c->addr, static_cast<guint>(port));
        if (!ok || !nice_agent_set_selected_remote_candidate(agent_, id, comp, c))
            log(MGW_LOG_WARNING, s->label + ": cannot send to " + address + ":" + std::to_string(port));
        nice_candidate_free(c);
    }
    if (!s->fallen_back)
        log(MGW_LOG_INFO, s->label + ": the peer has no ICE attributes: plain RTP to " + address + ":" +
                              std::to_string(rtp_port) + " from our default candidate");
    s->fallen_back = true;
}

LocalIce IceSession::local(guint id, const Stream &s) const
{
    LocalIce out;
    gchar *ufrag = nullptr, *pwd = nullptr;
    if (nice_agent_get_local_credentials(agent_, id, &ufrag, &pwd)) {
        out.ufrag = ufrag;
        out.pwd = pwd;
    }
    g_free(ufrag);
    g_free(pwd);
    out.rtcp_mux = s.mux;
    for (guint comp : {kRtp, kRtcp}) {
        if (comp == kRtcp && s.mux)
            continue; // RFC 5761: RTCP shares the RTP component
        GSList *cands = nice_agent_get_local_candidates(agent_, id, comp);
        for (GSList *l = cands; l; l = l->next) {
            auto c = static_cast<NiceCandidate *>(l->data);
            if (c->transport != NICE_CANDIDATE_TRANSPORT_UDP)
                continue;
            gchar *line = nice_agent_generate_local_candidate_sdp(agent_, c); // "a=candidate:..."
            if (line && g_str_has_prefix(line, "a="))
                out.candidates.push_back(line + 2);
            g_free(line);
        }
        g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
    }
    return out;
}

std::string IceSession::add_local(const std::string &sdp) const
{
    std::optional<LocalIce> audio, video;
    for (auto &[id, s] : streams_)
        (s.label == "video" ? video : audio) = local(id, s);
    std::string out = add_local_ice(sdp, audio ? &*audio : nullptr, video ? &*video : nullptr);
    return out.empty() ? sdp : out;
}

void IceSession::on_gathering_done(NiceAgent *, guint stream, gpointer self)
{
    static_cast<IceSession *>(self)->gathered(stream, false);
}

void IceSession::on_state(NiceAgent *, guint stream, guint component, guint state, gpointer data)
{
    auto self = static_cast<IceSession *>(data);
    Stream *s = self->find(stream);
    if (!s || s->fallen_back)
        return;
    if (state == NICE_COMPONENT_STATE_FAILED) {
        self->log(MGW_LOG_WARNING, s->label + (component == kRtp ? " RTP" : " RTCP") +
                                       ": ICE failed (no candidate pair works)");
        return;
    }
    if (state != NICE_COMPONENT_STATE_READY || s->completed)
        return;
    // Complete once every component in use is ready.
    for (guint c : {kRtp, kRtcp}) {
        if (c == kRtcp && s->mux)
            continue;
        if (nice_agent_get_component_state(self->agent_, stream, c) != NICE_COMPONENT_STATE_READY)
            return;
    }
    s->completed = true;
    NiceCandidate *local = nullptr, *remote = nullptr;
    std::string via;
    if (nice_agent_get_selected_pair(self->agent_, stream, kRtp, &local, &remote))
        via = " (RTP " + describe(local) + " <-> " + describe(remote) + ")";
    self->log(MGW_LOG_INFO, "completed for " + s->label + via);
}

void IceSession::on_pair(NiceAgent *, guint stream, guint component, NiceCandidate *local, NiceCandidate *remote,
                         gpointer data)
{
    auto self = static_cast<IceSession *>(data);
    if (const Stream *s = self->find(stream); s && !s->fallen_back)
        self->log(MGW_LOG_DEBUG, s->label + (component == kRtp ? " RTP" : " RTCP") + ": selected " +
                                     describe(local) + " <-> " + describe(remote));
}

} // namespace sipsofia
