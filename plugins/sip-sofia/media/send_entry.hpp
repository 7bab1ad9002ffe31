// The way into a stream's send side. What the node's input port carries
// decides the path, at each caps event:
//   encoded media (the negotiated codec's):  entry -> payloader -> exit
//   the codec's RTP (the echo, or another leg forwarding its RTP):
//                                            entry -> exit, rewritten
// exit feeds rtpbin's send session. Forwarded packets get this stream's
// payload type and SSRC; their sequence numbers and timestamps run on from
// the source's (mgwrtp::RtpForward), so no depayloader, payloader or jitter
// buffer stands in the path: with the receive side forwarding too, an echo
// or a SIP-to-SIP bridge crosses one thread per packet. The rewrite sits on
// the exit, for both paths: when the path changes (a room going from one
// browser's forwarded Opus to a mix of several), the peer still sees one
// stream whose sequence numbers and timestamps run on; a jump would make
// its jitter buffer drop every packet as late until they caught up.
// While a stream is built, the node's input port says it takes both
// (queries answered on the port itself: an upstream deciding whether to
// forward asks before the port is pointed at the entry).
#pragma once

#include "rtp/rtp_forward.hpp"

#include <gst/gst.h>

#include <atomic>
#include <string>
#include <vector>

namespace sipsofia {

class SendEntry {
public:
    SendEntry() = default;
    ~SendEntry();
    SendEntry(const SendEntry &) = delete;
    SendEntry &operator=(const SendEntry &) = delete;

    // Creates entry and exit around `pay` (both added to `bin` and `side`,
    // linked entry -> pay -> exit). `rtp_caps`: the codec's RTP as the peer
    // takes it (payload type set); `input`: the node's input ghost pad, or
    // nullptr to take encoded media only (rtp_forward off).
    bool build(GstBin *bin, GstElement *pay, const GstCaps *rtp_caps, guint clock_rate, GstPad *input,
               std::vector<GstElement *> &side, std::string &error);
    GstElement *entry() const { return entry_; }
    GstElement *exit() const { return exit_; }
    // Whether the input carries RTP now (streaming thread decides).
    bool forwarding() const { return forwarding_.load(); }
    // The input is parked: the port stops answering for the stream.
    void forget_input();
    // The elements are gone (set to NULL, removed).
    void forget();

private:
    static GstPadProbeReturn on_entry_sink(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    static GstPadProbeReturn on_input_query(GstPad *pad, GstPadProbeInfo *info, gpointer self);
    void choose_path(GstPad *entry_src, bool rtp); // streaming thread, at a caps event
    GstCaps *takes(GstCaps *filter) const;         // encoded or RTP of the codec

    GstElement *entry_ = nullptr, *pay_ = nullptr, *exit_ = nullptr; // owned by the bin
    GstCaps *rtp_caps_ = nullptr;     // what leaves forwarded (payload type, ssrc)
    GstCaps *rtp_any_ = nullptr;      // what may come in as RTP (any payload type, SSRC)
    mgwrtp::RtpForward *rewrite_ = nullptr; // owned by its probe on the exit's sink pad
    std::atomic<bool> forwarding_{false};
    bool rtp_allowed_ = false;        // set by build(), read by the probes
    GstPad *input_ = nullptr;         // the node's input ghost (a reference while built)
    gulong input_probe_ = 0;
};

} // namespace sipsofia
