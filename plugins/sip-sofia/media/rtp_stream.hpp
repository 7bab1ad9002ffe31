// One m= line of a call inside the shared rtpbin (session 0 audio, 1 video):
// its socket pair (RTP on an even port, RTCP on the next) and, while it
// runs, its elements:
//   udpsrc -> rtpbin recv session N -> depayloader -> output ghost pad
//   input ghost pad -> entry -> payloader -> exit -> rtpbin send session N -> udpsink
// With rtp_forward, when what the output port leads to takes this codec's
// RTP as RTP (a WebRTC leg forwarding it), the receive side forwards instead: no jitter
// buffer, no depayloader (an identity in its place), the caller's packets
// as they came, sequence numbers and timestamps kept, so that the far end's
// jitter buffer absorbs jitter and reordering once, not twice. The send
// side likewise takes the codec's RTP around the payloader (send_entry.hpp).
// With SRTP, rtpbin puts srtpenc/srtpdec next to the sockets inside it.
// The sockets and their elements come from a MediaTransport (plain UDP,
// udp_transport.hpp, or a TURN relay, nat/turn_transport.hpp); the udpsinks
// follow the source of the peer's packets (latching.hpp; with a relay that
// source is the TURN server, so nothing changes).
#pragma once

#include "media/dtmf.hpp"
#include "media/dtmf_sender.hpp"
#include "media/latching.hpp"
#include "media/media_transport.hpp"
#include "media/send_entry.hpp"
#include "sdp/sdp_negotiation.hpp"

#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace sipsofia {

class RtpStream {
public:
    // Points the node's input port at a pad of the chain, or parks it
    // (nullptr): Node::route_input for this stream's port.
    using InputRouter = std::function<void(GstPad *target)>;
    // Streaming threads; see RtpMedia for what they are for.
    using DtmfHook = std::function<void(const DtmfDigit &)>;
    using KeyframeHook = std::function<void()>;

    // `input`/`output`: the node's ghost pads for this stream (borrowed).
    RtpStream(GstBin *bin, guint session, InputRouter route_input, GstPad *input, GstPad *output);
    ~RtpStream();
    RtpStream(const RtpStream &) = delete;
    RtpStream &operator=(const RtpStream &) = delete;

    // A new MediaTransport for each open(); nullptr: plain UDP.
    using TransportFactory = std::function<std::unique_ptr<MediaTransport>()>;
    bool open(const std::string &address, std::string &error, const TransportFactory &make = nullptr);
    void close();
    bool is_open() const { return transport_->is_open(); }
    int port() const { return transport_->port(); }
    MediaTransport &transport() { return *transport_; }
    const MediaTransport &transport() const { return *transport_; }

    // Create the elements and link them to `rtpbin` (added, not started).
    // `sources`: who may feed the stream (rtp_source_policy.hpp); `log` hears
    // of the first stranger dropped.
    bool build(GstElement *rtpbin, const Stream &params, SourcePolicy sources, Latch::StrangerLog log,
               std::string &error);
    // Point the ports at the chain; after the elements started.
    void route();
    // Elements in start/stop order, sending side (sinks first) and receiving side.
    const std::vector<GstElement *> &sending() const { return sending_; }
    const std::vector<GstElement *> &receiving() const { return receiving_; }
    // Park the input (a live source keeps streaming into the parking sink).
    void park();
    // After the elements were set to NULL and removed from the bin.
    void forget();
    bool running() const { return depay_ != nullptr; }
    // The receive side forwards RTP (decided by build(); main loop), read by
    // rtpbin's request-jitterbuffer on a streaming thread.
    bool forwards_rtp() const { return forward_.load(); }
    void allow_forward(bool on) { forward_allowed_ = on; }
    const Stream &params() const { return params_; }

    // rtpbin callbacks (its streaming threads): a pad per sender SSRC came
    // or went. One sender at a time feeds the depayloader (see
    // on_sender_data); the others' packets are dropped, never pushed into an
    // unlinked pad (NOT_LINKED would stop the whole receive path).
    void link_recv_pad(GstPad *pad);
    void unlink_recv_pad(GstPad *pad);
    GstCaps *pt_caps(guint pt) const;
    bool downstream_takes_rtp() const;
    // rtpbin's request-rtp/rtcp-encoder/decoder while build() links (main
    // loop): this stream's srtpenc/srtpdec, one each for RTP and RTCP, as a
    // new reference for rtpbin; nullptr without SRTP.
    GstElement *srtp_encoder(bool rtcp);
    GstElement *srtp_decoder();

    // Ask the peer for a keyframe (RTCP PLI/FIR, or `keyframe_hook` when it
    // has no RTCP feedback): the same upstream force-key-unit event a
    // downstream decoder would send.
    void request_keyframe();
    // RFC 4733 digits to the peer (any thread); false without telephone-event.
    bool send_dtmf(const std::string &digits, int duration_ms) { return dtmf_out_.send(digits, duration_ms); }

    // Whether RTP may go to the peer (its SDP direction; RTCP goes on).
    // Any thread; built chains start sending.
    void set_sending(bool on) { sending_on_ = on; }

    gint64 last_rtp() const { return last_rtp_.load(); }
    DtmfHook dtmf_hook;
    KeyframeHook keyframe_hook;

private:
    static GstPadProbeReturn on_rtp(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_decrypted(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    GstPadProbeReturn take_dtmf(GstBuffer *buf);
    static GstPadProbeReturn on_rtcp(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_upstream(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_payloaded(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_sender_data(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    void take_over(GstPad *pad); // with sender_mutex_ held
    GstElement *add(const char *factory, std::vector<GstElement *> &side, std::string &error);
    GstElement *adopt(GstElement *element, std::vector<GstElement *> &side);

    GstBin *bin_;
    guint session_;
    InputRouter route_input_;
    GstPad *input_;
    GstPad *output_;
    std::unique_ptr<MediaTransport> transport_;

    Stream params_;
    std::vector<GstElement *> sending_, receiving_;
    GstElement *pay_ = nullptr;
    SendEntry send_entry_;                   // around pay_: encoded or RTP in
    GstElement *depay_ = nullptr;            // or the identity that forwards RTP
    std::atomic<bool> forward_{false};
    bool forward_allowed_ = false;           // the node's rtp_forward
    GstElement *srtpenc_ = nullptr, *srtpdec_ = nullptr; // our references, while built
    int srtp_paths_ = 0; // RTP/RTCP x send/receive paths rtpbin got an SRTP element for
    Latch rtp_latch_, rtcp_latch_;
    Rfc4733Receiver dtmf_;
    Rfc4733Sender dtmf_out_;
    std::atomic<gint64> last_rtp_{0};
    std::atomic<bool> sending_on_{true};
    // The sender feeding the depayloader (a reference) and when it last did;
    // rtpbin's streaming threads, one per sender, share them.
    std::mutex sender_mutex_;
    GstPad *sender_ = nullptr;
    gint64 sender_last_us_ = 0;
};

} // namespace sipsofia
