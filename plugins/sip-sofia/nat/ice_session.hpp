// One call's ICE agent (libnice, a full RFC 8445 agent, on the main loop):
// a stream per m= line, each with two components (1 RTP, 2 RTCP), host
// candidates on the RTP address, server-reflexive ones from a STUN server
// and relayed ones from a TURN server (both from the `turn` node), with
// gathering bounded by kGatherTimeoutMs. The SIP node hands it the peer's
// SDP and asks it for our ICE attributes (through nat/ice_call.hpp: this
// lives in the module libmgw-sip-sofia-ice.so); each m= line's IceTransport
// (ice_transport.hpp) carries the media over the pair the checks select.
// UPnP and ICE-TCP are off: no SSDP multicast, UDP only.
#pragma once

#include "nat/ice_sdp.hpp"
#include "nat/ice_servers.hpp"

#include <nice/agent.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace sipsofia {

class IceSession {
public:
    static constexpr guint kGatherTimeoutMs = 3000;
    static constexpr guint kRtp = 1, kRtcp = 2; // component ids

    // RFC 8445 section 6.1.1: the offerer controls, and a full agent
    // controls against a lite one. libnice takes the role before gathering.
    IceSession(IceServers servers, bool controlling, TurnLog log);
    ~IceSession();
    IceSession(const IceSession &) = delete;
    IceSession &operator=(const IceSession &) = delete;

    NiceAgent *agent() const { return agent_; }

    // A session's agent gives its TURN allocations back after the session
    // is gone (libnice paces the deallocations on the main loop): `done`
    // once every agent closed, or after `timeout_ms`. For a clean exit.
    static void when_closed(guint timeout_ms, std::function<void()> done);

    // A stream for the m= line `label` ("audio", "video") gathering on
    // `address` (a wildcard: every interface but loopback); 0 on failure.
    guint add_stream(const std::string &label, const std::string &address, std::string &error);
    void remove_stream(guint id);
    // `done` (main loop) once the stream's gathering ended or timed out;
    // dropped with the stream.
    void when_gathered(guint id, std::function<void()> done);
    // A component's default candidate: its host candidate (a relayed one
    // when relay-only), what a peer without ICE sends to. false: none yet.
    bool default_candidate(guint id, guint component, std::string &ip, int &port) const;

    // The peer's SDP (offer or answer): its credentials and candidates
    // start the checks of the streams it gives ICE attributes for.
    void apply_remote(const std::string &sdp, bool we_offered);
    // `sdp` (ours) with our ICE attributes on the m= lines of our streams.
    std::string add_local(const std::string &sdp) const;
    bool has_remote(guint id) const;
    bool rtcp_mux(guint id) const; // RTCP on the RTP component (the peer offered a=rtcp-mux)
    // A peer without ICE: media goes to its SDP address, no checks.
    void fall_back(guint id, const std::string &address, int rtp_port, int rtcp_port);
    // libnice reads a component's socket only while someone receives from
    // it: until a nicesrc does (and after it stopped), the main loop reads
    // and drops the media, so that gathering (STUN/TURN answers), checks
    // and keepalives go on.
    void keep_reading(guint id);

private:
    struct Stream {
        std::string label;
        bool gathering = false, gathered = false;
        guint timer = 0;
        std::vector<std::function<void()>> waiting;
        std::string remote_ufrag; // "" until the peer's ICE attributes came
        bool mux = false, fallen_back = false, completed = false;
    };

    void start_gathering(guint id);
    void gathered(guint id, bool timed_out);
    void set_remote(guint id, Stream &s, const RemoteIce &remote, bool we_offered);
    LocalIce local(guint id, const Stream &s) const;
    Stream *find(guint id);
    const Stream *find(guint id) const;
    void log(int level, const std::string &m) const;

    static void on_gathering_done(NiceAgent *agent, guint stream, gpointer self);
    static void on_state(NiceAgent *agent, guint stream, guint component, guint state, gpointer self);
    static void on_pair(NiceAgent *agent, guint stream, guint component, NiceCandidate *local, NiceCandidate *remote,
                        gpointer self);

    IceServers servers_;
    TurnLog log_;
    NiceAgent *agent_ = nullptr;
    std::map<guint, Stream> streams_;
    std::vector<std::string> local_addresses_; // added to the agent once each
    // A TURN server given by name: libnice wants an address, resolved once.
    GCancellable *resolving_ = nullptr;
    std::string turn_ip_;
    bool turn_resolved_ = false;
    bool controlling_;
};

} // namespace sipsofia
