// One call's ICE (RFC 8445) as the node sees it. The agent itself (libnice:
// nat/ice_session.hpp, nat/ice_transport.hpp) lives in a module of its own,
// libmgw-sip-sofia-ice.so beside this plugin, loaded the first time a call
// does ICE: libnice loads gupnp-igd, libsoup, libxml2, ICU and more, which
// cost every gateway ~20 ms of start-up and ~5 MB even when no call used ICE.
#pragma once

#include "media/media_transport.hpp"
#include "nat/ice_servers.hpp"

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

namespace sipsofia {

class IceCall {
public:
    virtual ~IceCall() = default;
    // The peer's SDP (offer or answer): its credentials and candidates
    // start the checks of the streams it gives ICE attributes for.
    virtual void apply_remote(const std::string &sdp, bool we_offered) = 0;
    // `sdp` (ours) with our ICE attributes on the m= lines of our streams.
    virtual std::string add_local(const std::string &sdp) const = 0;
    // The transport of one m= line ("audio", "video").
    virtual std::unique_ptr<MediaTransport> transport(const char *label) = 0;
};

// A call's ICE agent (`controlling`: RFC 8445 section 6.1.1), loading the
// module if need be; nullptr and `error` when it cannot be loaded.
std::shared_ptr<IceCall> make_ice_call(const IceServers &servers, bool controlling, TurnLog log,
                                       std::string &error);

// `done` once every agent gave its TURN allocations back (or after
// `timeout_ms`); at once when no call ever loaded the module. For a clean exit.
void when_ice_closed(guint timeout_ms, std::function<void()> done);

// The module's entry points (C linkage, looked up with dlsym).
using IceCallNew = IceCall *(const IceServers &servers, bool controlling, TurnLog log);
using IceWhenClosed = void(guint timeout_ms, std::function<void()> done);
#define MGW_SIP_SOFIA_ICE_MODULE "libmgw-sip-sofia-ice.so"

} // namespace sipsofia
