// The RTP side of one call: one rtpbin with a session per stream (0 audio,
// 1 video, rtp_stream.hpp), built from a Negotiation and torn down at the
// end of the call or when a re-INVITE changes it. RTCP (and PLI/FIR) runs in
// rtpbin, and so does SRTP (sdp/srtp.hpp) when negotiated.
#pragma once

#include "media/rtp_stream.hpp"
#include "sdp/sdp_negotiation.hpp"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

namespace sipsofia {

struct RemoteMedia {
    std::string address;
    int rtp_port = 0;
    int rtcp_port = 0;
    bool operator==(const RemoteMedia &) const = default;
};

class RtpMedia {
public:
    using InputRouter = RtpStream::InputRouter;
    // A node port pair: `route` is Node::route_input for the input port,
    // `input` and `output` the ghost pads (borrowed).
    struct Port {
        InputRouter route;
        GstPad *input = nullptr;
        GstPad *output = nullptr;
    };
    RtpMedia(GstBin *bin, Port audio, Port video);
    ~RtpMedia();
    RtpMedia(const RtpMedia &) = delete;
    RtpMedia &operator=(const RtpMedia &) = delete;

    // Bind the socket pairs (audio; video too when `video`) on `address`,
    // through the transports `make` gives (plain UDP without one).
    using TransportFactory = std::function<std::unique_ptr<MediaTransport>(const char *label)>;
    bool open(const std::string &address, std::string &error, bool video = true,
              const TransportFactory &make = nullptr);
    // `done` on the main loop once every open transport knows its public
    // endpoints, with "" or the first failure; dropped by close().
    void when_ready(std::function<void(const std::string &error)> done);
    void close();
    bool is_open() const { return audio_.is_open(); }
    int port() const { return audio_.port(); }
    int video_port() const { return video_.port(); }
    int rtcp_port() const { return audio_.transport().rtcp_port(); }
    int video_rtcp_port() const { return video_.is_open() ? video_.transport().rtcp_port() : 0; }
    // The address our SDP announces; "" = the local one.
    std::string public_address() const { return audio_.transport().public_address(); }

    // Build and start the streams `n` made active (main loop); stops a
    // running chain first.
    bool start(const Negotiation &n, std::string &error);
    // Audio only, for callers predating video.
    bool start(const Codec &codec, const RemoteMedia &remote, std::string &error);
    // The running chain already is what `n` asks for (a re-INVITE that
    // changes nothing, or only the direction): no restart needed.
    bool matches(const Negotiation &n) const;
    // Tear the chain down; the sockets stay open.
    void stop();
    bool running() const { return rtpbin_ != nullptr; }
    const Codec &codec() const { return audio_.params().codec; }
    RemoteMedia remote() const;
    const Stream &audio() const { return audio_.params(); }
    const Stream &video() const { return video_.params(); }

    // The call's RTP statistics from rtpbin's sessions, as an "rtp.stats"
    // event: per stream (audio_, video_) packets_sent, packets_received,
    // packets_lost, jitter_ms (of the peer's stream, RFC 3550 A.8). nullptr
    // when no chain runs. Main loop.
    GstStructure *stats() const;

    // Microseconds (monotonic) of the last RTP packet received on any
    // stream, or of start().
    gint64 last_rtp() const;

    // Send RTP per stream only where the peer's SDP lets us (hold: no).
    void set_sending(const Negotiation &n)
    {
        audio_.set_sending(n.audio.remote_receives);
        video_.set_sending(n.video.remote_receives);
    }

    // Ask the caller for a video keyframe (call start, resume).
    void request_keyframe();
    // RFC 4733 digits to the caller on the audio stream (main loop); false
    // when the call has no telephone-event.
    bool send_dtmf(const std::string &digits, int duration_ms) { return audio_.send_dtmf(digits, duration_ms); }
    // Which sources may feed the streams (next start()); `log` hears of the
    // first stranger dropped per stream (a streaming thread).
    void set_source_policy(SourcePolicy policy, Latch::StrangerLog log)
    {
        sources_ = policy;
        stranger_log_ = std::move(log);
    }
    void set_jitter_ms(guint ms) { jitter_ms_ = ms; }
    // Streams may forward RTP as RTP (rtp_stream.hpp) from the next build on.
    void set_rtp_forward(bool on)
    {
        audio_.allow_forward(on);
        video_.allow_forward(on);
    }

    // RFC 4733 digits from the caller; on a streaming thread (Node::emit is
    // thread-safe).
    std::function<void(char digit, int duration_ms)> on_dtmf;
    // Someone downstream wants a keyframe but the caller takes no RTCP
    // feedback: ask by signalling (SIP INFO picture_fast_update). Main loop;
    // nothing happens when unset.
    std::function<void()> on_keyframe_by_signalling;

private:
    static void on_pad_added(GstElement *rtpbin, GstPad *pad, gpointer self);
    static void on_pad_removed(GstElement *rtpbin, GstPad *pad, gpointer self);
    static GstCaps *on_request_pt_map(GstElement *rtpbin, guint session, guint pt, gpointer self);
    static GstElement *on_request_rtp_encoder(GstElement *rtpbin, guint session, gpointer self);
    static GstElement *on_request_rtcp_encoder(GstElement *rtpbin, guint session, gpointer self);
    static GstElement *on_request_decoder(GstElement *rtpbin, guint session, gpointer self);
    void post(std::function<void()> fn, guint delay_ms = 0);

    GstBin *bin_;
    RtpStream audio_, video_;
    GstElement *rtpbin_ = nullptr;
    guint jitter_ms_ = 100;
    SourcePolicy sources_ = SourcePolicy::Learn;
    Latch::StrangerLog stranger_log_;
    unsigned generation_ = 0; // bumped by close(): when_ready() reports of older transports are dropped
    // Main-loop callbacks posted from streaming threads check it is still alive.
    std::shared_ptr<RtpMedia *> alive_;
};

} // namespace sipsofia
