#include "media/dtmf_sender.hpp"

#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <cstring>

namespace sipsofia {

namespace {
constexpr int kMinDurationMs = 40; // shorter key presses are missed by some receivers
constexpr int kEndPackets = 3;     // RFC 4733 section 2.5.1.4: the end packet goes out three times
constexpr int kGapPackets = 3;     // audio between two digits, so that repeats stay apart
constexpr int kVolume = 10;        // -10 dBm0
} // namespace

int dtmf_event_number(char digit)
{
    static const char map[] = "0123456789*#ABCD";
    const char *p = digit ? std::strchr(map, g_ascii_toupper(digit)) : nullptr;
    return p ? static_cast<int>(p - map) : -1;
}

void Rfc4733Sender::attach(GstElement *payloader, int payload_type, int event_rate)
{
    forget();
    std::lock_guard lock(mutex_);
    attached_ = true;
    pt_ = payload_type;
    rate_ = event_rate > 0 ? event_rate : 8000;
    GstPad *src = gst_element_get_static_pad(payloader, "src");
    gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_BUFFER, on_packet, this, nullptr);
    gst_object_unref(src);
}

void Rfc4733Sender::forget()
{
    std::lock_guard lock(mutex_);
    attached_ = active_ = false;
    queue_.clear();
    gap_packets_ = 0;
}

bool Rfc4733Sender::send(const std::string &digits, int duration_ms)
{
    std::lock_guard lock(mutex_);
    if (!attached_)
        return false;
    const size_t before = queue_.size();
    for (char d : digits)
        if (dtmf_event_number(d) >= 0)
            queue_ += d;
    duration_ms_ = std::max(duration_ms, kMinDurationMs);
    return queue_.size() > before;
}

// The payloader's streaming thread.
GstPadProbeReturn Rfc4733Sender::on_packet(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto self = static_cast<Rfc4733Sender *>(data);
    GstBuffer *audio = GST_PAD_PROBE_INFO_BUFFER(info);
    std::lock_guard lock(self->mutex_);
    if (GstBuffer *event = self->replace(audio)) {
        gst_buffer_unref(audio);
        GST_PAD_PROBE_INFO_DATA(info) = event;
    }
    return GST_PAD_PROBE_OK;
}

GstBuffer *Rfc4733Sender::replace(GstBuffer *audio)
{
    if (!active_) {
        if (gap_packets_ > 0) {
            --gap_packets_;
            return nullptr;
        }
        if (queue_.empty())
            return nullptr;
        event_ = dtmf_event_number(queue_.front());
        queue_.erase(0, 1);
        active_ = true;
        ends_sent_ = 0;
        played_ = 0;
        start_pts_ = GST_BUFFER_PTS(audio);
    }
    GstRTPBuffer in = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(audio, GST_MAP_READ, &in))
        return nullptr;
    const bool first = played_ == 0 && ends_sent_ == 0;
    if (first)
        start_ts_ = gst_rtp_buffer_get_timestamp(&in);
    // Duration so far: from the event's first packet to the end of this one.
    if (ends_sent_ == 0) {
        const GstClockTime pts = GST_BUFFER_PTS(audio);
        const GstClockTime dur = GST_BUFFER_DURATION_IS_VALID(audio) ? GST_BUFFER_DURATION(audio) : 20 * GST_MSECOND;
        played_ = (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(start_pts_) && pts >= start_pts_
                       ? pts - start_pts_
                       : played_) +
                  dur;
    }
    const bool end = played_ >= static_cast<GstClockTime>(duration_ms_) * GST_MSECOND;
    const guint64 units = std::min<guint64>(gst_util_uint64_scale(played_, rate_, GST_SECOND), 0xffff);

    GstBuffer *out = gst_rtp_buffer_new_allocate(4, 0, 0);
    gst_buffer_copy_into(out, audio, GST_BUFFER_COPY_TIMESTAMPS, 0, static_cast<gsize>(-1));
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    gst_rtp_buffer_map(out, GST_MAP_WRITE, &rtp);
    gst_rtp_buffer_set_ssrc(&rtp, gst_rtp_buffer_get_ssrc(&in));
    gst_rtp_buffer_set_seq(&rtp, gst_rtp_buffer_get_seq(&in));
    gst_rtp_buffer_set_timestamp(&rtp, start_ts_); // every packet of an event carries its start
    gst_rtp_buffer_set_payload_type(&rtp, static_cast<guint8>(pt_));
    gst_rtp_buffer_set_marker(&rtp, first);
    auto p = static_cast<guint8 *>(gst_rtp_buffer_get_payload(&rtp));
    p[0] = static_cast<guint8>(event_);
    p[1] = static_cast<guint8>((end ? 0x80 : 0) | kVolume);
    p[2] = static_cast<guint8>(units >> 8);
    p[3] = static_cast<guint8>(units & 0xff);
    gst_rtp_buffer_unmap(&rtp);
    gst_rtp_buffer_unmap(&in);
    if (end && ++ends_sent_ >= kEndPackets) {
        active_ = false;
        gap_packets_ = kGapPackets;
    }
    return out;
}

} // namespace sipsofia
