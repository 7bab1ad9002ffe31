#include "media/rtp_stream.hpp"

#include "media/udp_transport.hpp"
#include "rtp/peer_caps.hpp"
#include "sdp/srtp.hpp"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/video/video-event.h>

#include <cstring>

namespace sipsofia {

namespace {

void set_if_present(GstElement *e, const char *prop, const char *value)
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop))
        gst_util_set_object_arg(G_OBJECT(e), prop, value);
}

// Pay's sink, first buffer: no clock sync for the RTP udpsink (`sink`) when
// what feeds it is live.
GstPadProbeReturn unsync_if_live(GstPad *pad, GstPadProbeInfo *, gpointer sink)
{
    GstQuery *latency = gst_query_new_latency();
    gboolean live = FALSE;
    if (gst_pad_peer_query(pad, latency))
        gst_query_parse_latency(latency, &live, nullptr, nullptr);
    gst_query_unref(latency);
    if (live)
        g_object_set(sink, "sync", FALSE, nullptr);
    return GST_PAD_PROBE_REMOVE;
}

std::string upper(std::string s)
{
    for (auto &c : s)
        c = static_cast<char>(g_ascii_toupper(c));
    return s;
}

} // namespace

RtpStream::RtpStream(GstBin *bin, guint session, InputRouter route_input, GstPad *input, GstPad *output)
    : bin_(bin), session_(session), route_input_(std::move(route_input)), input_(input), output_(output),
      transport_(std::make_unique<UdpTransport>())
{
}

RtpStream::~RtpStream() { close(); }

bool RtpStream::open(const std::string &address, std::string &error, const TransportFactory &make)
{
    transport_->close();
    transport_ = make ? make() : std::make_unique<UdpTransport>();
    return transport_->open(address, error);
}

void RtpStream::close() { transport_->close(); }

GstElement *RtpStream::add(const char *factory, std::vector<GstElement *> &side, std::string &error)
{
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e) {
        error = std::string("GStreamer element '") + factory + "' is missing";
        return nullptr;
    }
    return adopt(e, side);
}

GstElement *RtpStream::adopt(GstElement *e, std::vector<GstElement *> &side)
{
    gst_bin_add(bin_, e);
    side.push_back(e);
    return e;
}

// Whether the output port leads to something that takes this codec as RTP.
bool RtpStream::downstream_takes_rtp() const
{
    const CodecInfo *info = codec_info(params_.codec.name);
    return info && mgwrtp::peer_takes_rtp(output_, info->media, upper(params_.codec.name).c_str(),
                                          params_.codec.clock_rate);
}

GstCaps *RtpStream::pt_caps(guint pt) const
{
    const Codec &c = params_.codec;
    if (static_cast<int>(pt) != c.payload_type)
        return nullptr; // not negotiated (telephone-event is taken out before rtpbin)
    const CodecInfo *info = codec_info(c.name);
    GstCaps *caps = gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, info ? info->media : "audio",
                                        "clock-rate", G_TYPE_INT, c.clock_rate, "encoding-name", G_TYPE_STRING,
                                        upper(c.name).c_str(), "payload", G_TYPE_INT, c.payload_type, nullptr);
    GstStructure *s = gst_caps_get_structure(caps, 0);
    if (c.channels)
        gst_structure_set(s, "encoding-params", G_TYPE_STRING, std::to_string(c.channels).c_str(), nullptr);
    // rtpsession turns an upstream force-key-unit into PLI/FIR only when the
    // caps say the peer takes it.
    if (params_.nack_pli)
        gst_structure_set(s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE, nullptr);
    if (params_.ccm_fir)
        gst_structure_set(s, "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, nullptr);
    return caps;
}

bool RtpStream::build(GstElement *rtpbin, const Stream &params, SourcePolicy sources, Latch::StrangerLog log,
                      std::string &error)
{
    const CodecInfo *info = codec_info(params.codec.name);
    if (!info) {
        error = "no RTP elements for codec " + params.codec.name;
        return false;
    }
    params_ = params;
    dtmf_ = Rfc4733Receiver(params.dtmf_rate);
    TransportElements net;
    if (!transport_->make_elements(params.remote_address, params.remote_rtp_port, params.remote_rtcp_port, net,
                                   error))
        return false;
    // Same order as before the transport existed: sinks first, sources last.
    GstElement *rtp_sink = adopt(net.rtp_sink, sending_);
    GstElement *rtcp_sink = adopt(net.rtcp_sink, sending_);
    GstElement *pay = add(info->payloader, sending_, error);
    if (pay) {
        // Before the receive side asks its downstream: in an echo, that is
        // this entry's own input port.
        GstCaps *send_caps = pt_caps(static_cast<guint>(params.codec.payload_type));
        const bool entry_ok =
            send_entry_.build(bin_, pay, send_caps, static_cast<guint>(params.codec.clock_rate),
                              forward_allowed_ ? input_ : nullptr, sending_, error);
        gst_caps_unref(send_caps);
        if (!entry_ok)
            return false;
    }
    forward_ = forward_allowed_ && downstream_takes_rtp();
    GstElement *depay = pay ? add(forward_ ? "identity" : info->depayloader, receiving_, error) : nullptr;
    GstElement *rtp_src = adopt(net.rtp_src, receiving_);
    GstElement *rtcp_src = adopt(net.rtcp_src, receiving_);
    if (!depay)
        return false;
    pay_ = pay;
    depay_ = depay;

    // srtpdec takes application/x-srtp(x-srtcp) and gives the plain caps.
    GstCaps *caps = pt_caps(static_cast<guint>(params.codec.payload_type));
    if (params.srtp.on)
        gst_structure_set_name(gst_caps_get_structure(caps, 0), "application/x-srtp");
    transport_->set_source_caps(rtp_src, caps);
    gst_caps_unref(caps);
    caps = gst_caps_new_empty_simple(params.srtp.on ? "application/x-srtcp" : "application/x-rtcp");
    transport_->set_source_caps(rtcp_src, caps);
    gst_caps_unref(caps);
    const char *media = info->media;
    rtp_latch_.reset(rtp_sink, sources, params.remote_address, params.remote_rtp_port,
                     media[0] == 'a' ? "audio RTP" : "video RTP", log);
    rtcp_latch_.reset(rtcp_sink, sources, params.remote_address, params.remote_rtcp_port,
                      media[0] == 'a' ? "audio RTCP" : "video RTCP", log);

    g_object_set(pay, "pt", static_cast<guint>(params.codec.payload_type), nullptr);
    if (!std::strcmp(info->media, "audio")) {
        const std::string ptime = std::to_string(static_cast<gint64>(params.codec.ptime_ms) * GST_MSECOND);
        set_if_present(pay, "min-ptime", ptime.c_str());
        set_if_present(pay, "max-ptime", ptime.c_str());
    }
    // SPS/PPS before every IDR: a decoder that joins late (or lost them) can start.
    set_if_present(pay, "config-interval", "-1");

    // Telephone-events take the place of audio packets as they leave the
    // payloader (or come forwarded).
    if (params.dtmf_pt >= 0 && !std::strcmp(info->media, "audio"))
        dtmf_out_.attach(send_entry_.exit(), params.dtmf_pt, params.dtmf_rate);

    const std::string n = std::to_string(session_);
    bool ok = gst_element_link_pads(rtp_src, "src", rtpbin, ("recv_rtp_sink_" + n).c_str()) &&
              gst_element_link_pads(rtcp_src, "src", rtpbin, ("recv_rtcp_sink_" + n).c_str()) &&
              gst_element_link_pads(send_entry_.exit(), "src", rtpbin, ("send_rtp_sink_" + n).c_str()) &&
              gst_element_link_pads(rtpbin, ("send_rtp_src_" + n).c_str(), rtp_sink, "sink") &&
              gst_element_link_pads(rtpbin, ("send_rtcp_src_" + n).c_str(), rtcp_sink, "sink");
    if (!ok) {
        error = "cannot link the RTP elements of session " + n;
        return false;
    }
    // Never fall back to plain RTP when the SDP said SRTP.
    if (params.srtp.on && srtp_paths_ != 4) {
        error = "SRTP negotiated but GStreamer's srtpenc/srtpdec are missing or were not used";
        return false;
    }
    GstPad *pad = gst_element_get_static_pad(rtp_src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_rtp, this, nullptr);
    gst_object_unref(pad);
    pad = gst_element_get_static_pad(rtcp_src, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_rtcp, this, nullptr);
    gst_object_unref(pad);
    pad = gst_element_get_static_pad(depay, "src");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_upstream, this, nullptr);
    gst_object_unref(pad);
    pad = gst_element_get_static_pad(send_entry_.exit(), "src");
    gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_payloaded, this, nullptr);
    gst_object_unref(pad);
    last_rtp_ = g_get_monotonic_time();
    return true;
}

void RtpStream::route()
{
    if (!depay_)
        return;
    // The input first: when media arrives, the core's link adapter plans its
    // conversion against what the send side takes (the payloader's codec, or
    // its RTP: pure passthrough when the same codec loops back).
    GstPad *entry_sink = gst_element_get_static_pad(send_entry_.entry(), "sink");
    GstPad *exit_sink = gst_element_get_static_pad(send_entry_.exit(), "sink");
    GstPad *depay_src = gst_element_get_static_pad(depay_, "src");
    route_input_(entry_sink);
    gst_ghost_pad_set_target(GST_GHOST_PAD(output_), depay_src);
    // A live upstream (a caller, a room, a live tone) paces itself: once the
    // first buffer shows it is (the path is complete by then), packets leave
    // at once instead of after a clock wait each, which cost 0.09 % of a core
    // per G.711 echo call. A non-live one (a file) keeps the clock pacing.
    gst_pad_add_probe(exit_sink, GST_PAD_PROBE_TYPE_BUFFER, unsync_if_live, gst_object_ref(sending_.front()),
                      gst_object_unref); // sending_.front(): the RTP udpsink
    gst_object_unref(entry_sink);
    gst_object_unref(exit_sink);
    gst_object_unref(depay_src);
}

void RtpStream::park()
{
    route_input_(nullptr);
    send_entry_.forget_input();
    // What still arrives is dropped before the output is cut: forwarded RTP
    // crosses from udpsrc's thread to the output with no jitter buffer
    // between, and a NOT_LINKED there would end the gateway with "Internal
    // data stream error" while the call is torn down.
    if (depay_) {
        GstPad *src = gst_element_get_static_pad(depay_, "src");
        gst_pad_add_probe(src, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                          [](GstPad *, GstPadProbeInfo *, gpointer) { return GST_PAD_PROBE_DROP; }, nullptr, nullptr);
        gst_object_unref(src);
    }
    gst_ghost_pad_set_target(GST_GHOST_PAD(output_), nullptr);
}

void RtpStream::forget()
{
    sending_.clear();
    receiving_.clear();
    pay_ = depay_ = nullptr;
    forward_ = false;
    send_entry_.forget();
    gst_clear_object(&srtpenc_);
    gst_clear_object(&srtpdec_);
    srtp_paths_ = 0;
    dtmf_out_.forget();
    {
        std::lock_guard lock(sender_mutex_); // the streaming threads are gone by now
        gst_clear_object(&sender_);
    }
    rtp_latch_.clear();
    rtcp_latch_.clear();
    transport_->elements_released();
}

// recv_rtp_src_<session>_<ssrc>_<pt>: a new pad per sender SSRC (a phone
// restarting its stream, an SBC switching sources, a transfer). The first
// one is linked at once; the others wait for their turn in on_sender_data.
void RtpStream::link_recv_pad(GstPad *pad)
{
    if (!depay_)
        return;
    gst_pad_add_probe(pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_sender_data, this, nullptr);
    std::lock_guard lock(sender_mutex_);
    if (!sender_) {
        take_over(pad);
        sender_last_us_ = g_get_monotonic_time();
    }
}

void RtpStream::unlink_recv_pad(GstPad *pad)
{
    std::lock_guard lock(sender_mutex_);
    if (pad == sender_)
        gst_clear_object(&sender_);
}

void RtpStream::take_over(GstPad *pad)
{
    GstPad *sink = gst_element_get_static_pad(depay_, "sink");
    if (GstPad *old = gst_pad_get_peer(sink)) {
        gst_pad_unlink(old, sink);
        gst_object_unref(old);
    }
    const GstPadLinkReturn linked = gst_pad_link(pad, sink);
    gst_object_unref(sink);
    if (GST_PAD_LINK_FAILED(linked)) {
        GST_WARNING_OBJECT(pad, "cannot link this sender to the depayloader: %s", gst_pad_link_get_name(linked));
        gst_clear_object(&sender_);
        return;
    }
    gst_object_replace(reinterpret_cast<GstObject **>(&sender_), GST_OBJECT(pad));
    GST_INFO_OBJECT(pad, "this sender now feeds the depayloader");
}

// A sender's jitter-buffer thread, each packet. The current sender keeps the
// stream while it sends; another takes over once it has been silent for
// kSenderSwitchUs (an SSRC change: the old one stops, the new one starts),
// so two senders at once (a stray stream) never flap the depayloader.
GstPadProbeReturn RtpStream::on_sender_data(GstPad *pad, GstPadProbeInfo *, gpointer data)
{
    constexpr gint64 kSenderSwitchUs = 100'000;
    auto self = static_cast<RtpStream *>(data);
    const gint64 now = g_get_monotonic_time();
    std::lock_guard lock(self->sender_mutex_);
    if (pad == self->sender_) {
        self->sender_last_us_ = now;
        return GST_PAD_PROBE_OK;
    }
    if (!self->depay_ || (self->sender_ && now - self->sender_last_us_ < kSenderSwitchUs))
        return GST_PAD_PROBE_DROP;
    self->take_over(pad);
    self->sender_last_us_ = now;
    // This packet goes too; the new sender's caps and segment (sticky
    // events, sent at its next push) go first from the next one on.
    return GST_PAD_PROBE_DROP;
}

GstElement *RtpStream::srtp_encoder(bool rtcp)
{
    if (!params_.srtp.on)
        return nullptr;
    if (!srtpenc_ && (srtpenc_ = make_srtp_encoder(params_.srtp)))
        gst_object_ref_sink(srtpenc_);
    if (!srtpenc_)
        return nullptr;
    // rtpbin looks the pads up rather than requesting them: the sink pad
    // (which makes its src pad) must exist when we hand the element over.
    const std::string pad = (rtcp ? "rtcp_sink_" : "rtp_sink_") + std::to_string(session_);
    GstPad *sink = gst_element_request_pad_simple(srtpenc_, pad.c_str());
    if (!sink)
        return nullptr;
    gst_object_unref(sink);
    ++srtp_paths_;
    return GST_ELEMENT(gst_object_ref(srtpenc_));
}

GstElement *RtpStream::srtp_decoder()
{
    if (!params_.srtp.on)
        return nullptr;
    if (!srtpdec_ && (srtpdec_ = make_srtp_decoder(params_.srtp))) {
        gst_object_ref_sink(srtpdec_);
        // Telephone-events can only be read once decrypted.
        GstPad *pad = gst_element_get_static_pad(srtpdec_, "rtp_src");
        gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_decrypted, this, nullptr);
        gst_object_unref(pad);
    }
    if (!srtpdec_)
        return nullptr;
    ++srtp_paths_;
    return GST_ELEMENT(gst_object_ref(srtpdec_));
}

void RtpStream::request_keyframe()
{
    if (!depay_)
        return;
    GstPad *src = gst_element_get_static_pad(depay_, "src");
    gst_pad_send_event(src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(src);
}

// udpsrc's streaming thread: latching, RFC 4733 events, activity.
GstPadProbeReturn RtpStream::on_rtp(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<RtpStream *>(data);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!self->rtp_latch_.accept(buf))
        return GST_PAD_PROBE_DROP;
    self->last_rtp_ = g_get_monotonic_time();
    return self->params_.srtp.on ? GST_PAD_PROBE_OK : self->take_dtmf(buf);
}

// srtpdec's streaming thread (the udpsrc's): plain RTP.
GstPadProbeReturn RtpStream::on_decrypted(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    return static_cast<RtpStream *>(data)->take_dtmf(GST_PAD_PROBE_INFO_BUFFER(info));
}

GstPadProbeReturn RtpStream::take_dtmf(GstBuffer *buf)
{
    if (params_.dtmf_pt < 0)
        return GST_PAD_PROBE_OK;
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(buf, GST_MAP_READ, &rtp))
        return GST_PAD_PROBE_OK;
    const bool dtmf = gst_rtp_buffer_get_payload_type(&rtp) == params_.dtmf_pt;
    if (dtmf) {
        auto digit = dtmf_.feed(static_cast<const uint8_t *>(gst_rtp_buffer_get_payload(&rtp)),
                                gst_rtp_buffer_get_payload_len(&rtp), gst_rtp_buffer_get_timestamp(&rtp));
        if (digit && dtmf_hook)
            dtmf_hook(*digit);
    }
    gst_rtp_buffer_unmap(&rtp);
    // Events are not audio: the depayloader must not see them.
    return dtmf ? GST_PAD_PROBE_DROP : GST_PAD_PROBE_OK;
}

GstPadProbeReturn RtpStream::on_rtcp(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<RtpStream *>(data);
    return self->rtcp_latch_.accept(GST_PAD_PROBE_INFO_BUFFER(info)) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

// The payloader's streaming thread: a peer that holds the call (sendonly,
// inactive, c=0.0.0.0) gets no RTP; the packets are dropped before rtpbin, so
// its RTCP reports say we are not sending.
GstPadProbeReturn RtpStream::on_payloaded(GstPad *, GstPadProbeInfo *, gpointer data)
{
    return static_cast<RtpStream *>(data)->sending_on_ ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

// A keyframe request going to the peer: rtpsession sends PLI/FIR itself when
// the peer takes RTCP feedback; otherwise the signalling side may ask (SIP
// INFO picture_fast_update).
GstPadProbeReturn RtpStream::on_upstream(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<RtpStream *>(data);
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!gst_video_event_is_force_key_unit(event))
        return GST_PAD_PROBE_OK;
    // A request from another RTP session (webrtcbin's, relaying a browser's
    // PLI) names that session's SSRC: our rtpsession would look for it among
    // the caller's sources, find nothing and send no PLI (seen with RTP
    // forwarded: a browser waited for the caller's next periodic keyframe).
    // Without it, rtpbin's SSRC demuxer names the caller's.
    if (gst_structure_has_field(gst_event_get_structure(event), "ssrc")) {
        GstEvent *plain = gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM,
                                               gst_structure_copy(gst_event_get_structure(event)));
        gst_structure_remove_field(gst_event_writable_structure(plain), "ssrc");
        gst_event_unref(event);
        info->data = plain;
    }
    if (!self->params_.nack_pli && !self->params_.ccm_fir && self->keyframe_hook)
        self->keyframe_hook();
    return GST_PAD_PROBE_OK;
}

} // namespace sipsofia
