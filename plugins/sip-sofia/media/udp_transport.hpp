// Plain UDP transport: one socket for RTP (even port) and one for RTCP (the
// next), each shared by its udpsrc and udpsink so that what we send leaves
// from the port advertised in the SDP (symmetric RTP).
#pragma once

#include "media/media_transport.hpp"
#include "net/port_range.hpp"

#include <gio/gio.h>

namespace sipsofia {

class UdpTransport : public MediaTransport {
public:
    explicit UdpTransport(mgwnet::PortRange ports = {}) : ports_(ports) {}
    ~UdpTransport() override { close(); }

    bool open(const std::string &address, std::string &error) override;
    void close() override;
    bool is_open() const override { return rtp_socket_ != nullptr; }
    int port() const override { return port_; }
    bool make_elements(const std::string &remote_address, int remote_rtp_port, int remote_rtcp_port,
                       TransportElements &out, std::string &error) override;

private:
    bool open_any(const std::string &address, std::string &error);
    bool open_in_range(const std::string &address, std::string &error);
    bool take_pair(GSocket *rtp, const std::string &address, int port);

    mgwnet::PortRange ports_;
    GSocket *rtp_socket_ = nullptr;
    GSocket *rtcp_socket_ = nullptr;
    int port_ = 0;
};

} // namespace sipsofia
