// RTP and RTCP through a TURN relay: two allocations (turn_client.hpp), one
// for RTP and one for RTCP, announced in the SDP as c=/m= plus a=rtcp
// (RFC 3605). Two allocations rather than EVEN-PORT + RESERVATION-TOKEN:
// every TURN server supports them, they need no second round trip, and
// a=rtcp is what SIP phones behind TURN (baresip's medianat=turn) send and
// read anyway.
#pragma once

#include "media/media_transport.hpp"
#include "nat/turn_client.hpp"

namespace sipsofia {

class TurnTransport : public MediaTransport {
public:
    TurnTransport(const TurnServerConfig &config, const TurnLog &log, const std::string &label);
    ~TurnTransport() override { close(); }

    bool open(const std::string &address, std::string &error) override;
    void when_ready(std::function<void(const std::string &error)> done) override;
    void close() override;
    bool is_open() const override { return open_; }
    int port() const override { return rtp_.relayed().port; }
    int rtcp_port() const override { return rtcp_.relayed().port; }
    std::string public_address() const override { return rtp_.relayed().ip; }
    bool make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                       TransportElements &out, std::string &error) override;
    void elements_released() override;

private:
    void settled(const std::string &error);

    TurnClient rtp_, rtcp_;
    bool open_ = false;
    int settled_ = 0;      // allocations that answered (0..2)
    std::string error_;    // the first failure
    std::function<void(const std::string &)> done_;
};

} // namespace sipsofia
