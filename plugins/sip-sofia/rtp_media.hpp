// The RTP side of one call: a socket pair (RTP on an even port, RTCP on the
// next) and, while a codec is known, a GStreamer chain inside the node's bin:
//   udpsrc -> rtpbin -> depayloader -> output ghost pad
//   input ghost pad -> payloader -> rtpbin -> udpsink
// Each socket is shared by its udpsrc and udpsink, so symmetric RTP leaves
// from the port advertised in the SDP.
#pragma once

#include "sdp_negotiation.hpp"

#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace sipsofia {

struct RemoteMedia {
    std::string address;
    int rtp_port = 0;
    int rtcp_port = 0;
    bool operator==(const RemoteMedia &) const = default;
};

class RtpMedia {
public:
    // `output` is the node's audio output ghost pad (borrowed).
    // `route_input` points the node's input port at a pad of the chain, or
    // parks it (nullptr) between calls: Node::route_input.
    using InputRouter = std::function<void(GstPad *target)>;
    RtpMedia(GstBin *bin, InputRouter route_input, GstPad *output);
    ~RtpMedia();
    RtpMedia(const RtpMedia &) = delete;
    RtpMedia &operator=(const RtpMedia &) = delete;

    // Bind the socket pair on `address` (port chosen by the system).
    bool open(const std::string &address, std::string &error);
    void close();
    bool is_open() const { return rtp_socket_ != nullptr; }
    int port() const { return port_; }

    // Build and start the chain (main loop). stop() first when it runs.
    bool start(const Codec &codec, const RemoteMedia &remote, std::string &error);
    // Tear the chain down; the sockets stay open.
    void stop();
    bool running() const { return !elements_.empty(); }
    const Codec &codec() const { return codec_; }
    const RemoteMedia &remote() const { return remote_; }

    // Microseconds (monotonic) of the last RTP packet received, or of start().
    gint64 last_rtp() const { return last_rtp_.load(); }

private:
    static void on_pad_added(GstElement *rtpbin, GstPad *pad, gpointer self);
    static GstCaps *on_request_pt_map(GstElement *rtpbin, guint session, guint pt, gpointer self);
    static GstPadProbeReturn on_rtp(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    GstCaps *rtp_caps() const;
    GstElement *add(const char *factory, std::string &error);

    GstBin *bin_;
    InputRouter route_input_;
    GstPad *output_;
    GSocket *rtp_socket_ = nullptr;
    GSocket *rtcp_socket_ = nullptr;
    int port_ = 0;

    Codec codec_;
    RemoteMedia remote_;
    std::vector<GstElement *> elements_; // in the bin while a call runs
    GstElement *depay_ = nullptr;
    std::atomic<gint64> last_rtp_{0};
};

} // namespace sipsofia
