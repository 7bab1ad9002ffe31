// One m= line's RTP and RTCP over ICE: a stream of the call's IceSession
// (ice_session.hpp). Our SDP announces its default candidate (the host one)
// in c=/m=/a=rtcp, so a peer without ICE still gets plain RTP there; a peer
// with ICE gets the pair its checks select. Media goes through nicesrc and
// nicesink; with rtcp-mux, RTCP arriving on the RTP component is split off
// into an appsrc (RFC 5761 section 4: packet types 192-223 are RTCP).
#pragma once

#include "media/media_transport.hpp"
#include "nat/ice_session.hpp"

#include <memory>

namespace sipsofia {

class IceTransport : public MediaTransport {
public:
    IceTransport(std::shared_ptr<IceSession> session, std::string label)
        : session_(std::move(session)), label_(std::move(label))
    {
    }
    ~IceTransport() override { close(); }

    bool open(const std::string &address, std::string &error) override;
    void when_ready(std::function<void(const std::string &error)> done) override;
    void close() override;
    bool is_open() const override { return id_ != 0; }
    int port() const override;
    int rtcp_port() const override;
    std::string public_address() const override;
    bool make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                       TransportElements &out, std::string &error) override;
    // nicesrc has no "caps": they are kept on it for its caps queries.
    void set_source_caps(GstElement *src, GstCaps *caps) const override;
    void elements_released() override;

private:
    std::shared_ptr<IceSession> session_;
    std::string label_;
    guint id_ = 0;
};

} // namespace sipsofia
