#include "rtp/rtp_forward.hpp"

#include <gst/rtp/rtp.h>

#include <cstring>
#include <initializer_list>

namespace mgwrtp {

RtpForward::RtpForward(GstCaps *caps, guint8 payload_type, guint32 ssrc, guint clock_rate)
    : caps_(gst_caps_ref(caps)), pt_(payload_type), ssrc_(ssrc), clock_rate_(clock_rate),
      seq_delta_(static_cast<guint16>(g_random_int())), ts_delta_(g_random_int())
{
}

RtpForward::~RtpForward() { gst_caps_unref(caps_); }

GstCaps *RtpForward::incoming_caps() const
{
    const GstStructure *ours = gst_caps_get_structure(caps_, 0);
    GstCaps *caps = gst_caps_new_empty_simple("application/x-rtp");
    for (const char *field : {"media", "encoding-name", "clock-rate"})
        if (const GValue *v = gst_structure_get_value(ours, field))
            gst_structure_set_value(gst_caps_get_structure(caps, 0), field, v);
    return caps;
}

void RtpForward::attach(GstPad *pad, RtpForward *forward)
{
    gst_pad_add_probe(pad,
                      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                                   GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM),
                      probe, forward, [](gpointer p) { delete static_cast<RtpForward *>(p); });
}

namespace {

// A copy of the packet without its header extension (the payload and the
// rest of the header kept).
GstBuffer *without_extension(GstRTPBuffer &in)
{
    const guint payload_len = gst_rtp_buffer_get_payload_len(&in);
    const guint8 csrcs = gst_rtp_buffer_get_csrc_count(&in);
    GstBuffer *out = gst_rtp_buffer_new_allocate(payload_len, 0, csrcs);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(out, GST_MAP_WRITE, &rtp)) {
        gst_buffer_unref(out);
        return nullptr;
    }
    gst_rtp_buffer_set_marker(&rtp, gst_rtp_buffer_get_marker(&in));
    gst_rtp_buffer_set_payload_type(&rtp, gst_rtp_buffer_get_payload_type(&in));
    gst_rtp_buffer_set_seq(&rtp, gst_rtp_buffer_get_seq(&in));
    gst_rtp_buffer_set_timestamp(&rtp, gst_rtp_buffer_get_timestamp(&in));
    gst_rtp_buffer_set_ssrc(&rtp, gst_rtp_buffer_get_ssrc(&in));
    for (guint8 i = 0; i < csrcs; ++i)
        gst_rtp_buffer_set_csrc(&rtp, i, gst_rtp_buffer_get_csrc(&in, i));
    std::memcpy(gst_rtp_buffer_get_payload(&rtp), gst_rtp_buffer_get_payload(&in), payload_len);
    gst_rtp_buffer_unmap(&rtp);
    gst_buffer_copy_into(out, in.buffer, GST_BUFFER_COPY_METADATA, 0, -1);
    return out;
}

} // namespace

bool RtpForward::rewrite(GstBuffer **buffer)
{
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
    if (!gst_rtp_buffer_map(*buffer, GST_MAP_READ, &rtp))
        return false;
    if (gst_rtp_buffer_get_extension(&rtp)) {
        GstBuffer *plain = without_extension(rtp);
        gst_rtp_buffer_unmap(&rtp);
        if (!plain)
            return false;
        gst_buffer_unref(*buffer);
        *buffer = plain;
    } else {
        gst_rtp_buffer_unmap(&rtp);
        *buffer = gst_buffer_make_writable(*buffer);
    }
    if (!gst_rtp_buffer_map(*buffer, GST_MAP_READWRITE, &rtp))
        return false;
    const guint32 in_ssrc = gst_rtp_buffer_get_ssrc(&rtp);
    const guint16 in_seq = gst_rtp_buffer_get_seq(&rtp);
    const guint32 in_ts = gst_rtp_buffer_get_timestamp(&rtp);
    const GstClockTime pts = GST_BUFFER_PTS(*buffer);
    if (started_ && (in_ssrc != in_ssrc_ || restart_)) {
        // The caller's stream changed: go on from where the last one stopped,
        // the timestamps by the time that passed (at least one tick).
        guint32 elapsed = 1;
        if (GST_CLOCK_TIME_IS_VALID(pts) && GST_CLOCK_TIME_IS_VALID(last_pts_) && pts > last_pts_)
            elapsed = static_cast<guint32>(gst_util_uint64_scale(pts - last_pts_, clock_rate_, GST_SECOND));
        seq_delta_ = static_cast<guint16>(last_seq_ + 1 - in_seq);
        ts_delta_ = last_ts_ + (elapsed ? elapsed : 1) - in_ts;
    }
    started_ = true;
    restart_ = false;
    in_ssrc_ = in_ssrc;
    const guint16 seq = static_cast<guint16>(in_seq + seq_delta_);
    const guint32 ts = in_ts + ts_delta_;
    // A reordered packet (older than the last one) keeps its place: the
    // browser's jitter buffer puts it back in order.
    if (static_cast<gint16>(seq - last_seq_) > 0 || last_pts_ == GST_CLOCK_TIME_NONE) {
        last_seq_ = seq;
        last_ts_ = ts;
        last_pts_ = pts;
    }
    gst_rtp_buffer_set_seq(&rtp, seq);
    gst_rtp_buffer_set_timestamp(&rtp, ts);
    gst_rtp_buffer_set_ssrc(&rtp, ssrc_);
    gst_rtp_buffer_set_payload_type(&rtp, pt_);
    gst_rtp_buffer_unmap(&rtp);
    return true;
}

GstPadProbeReturn RtpForward::probe(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto *self = static_cast<RtpForward *>(data);
    if (info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) {
        // What may come in is the codec's RTP with any payload type and SSRC
        // (webrtcbin's pad would say only ours: the link would fail).
        GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
        if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) {
            GstCaps *filter = nullptr;
            gst_query_parse_caps(query, &filter);
            GstCaps *any_pt = self->incoming_caps();
            if (filter) {
                GstCaps *both = gst_caps_intersect_full(filter, any_pt, GST_CAPS_INTERSECT_FIRST);
                gst_caps_unref(any_pt);
                any_pt = both;
            }
            gst_query_set_caps_result(query, any_pt);
            gst_caps_unref(any_pt);
            return GST_PAD_PROBE_HANDLED;
        }
        if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
            GstCaps *caps = nullptr;
            gst_query_parse_accept_caps(query, &caps);
            GstCaps *any_pt = self->incoming_caps();
            gst_query_set_accept_caps_result(query, gst_caps_can_intersect(caps, any_pt));
            gst_caps_unref(any_pt);
            return GST_PAD_PROBE_HANDLED;
        }
        return GST_PAD_PROBE_OK;
    }
    if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
        GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
        if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
            gst_event_unref(event);
            info->data = gst_event_new_caps(self->caps_);
        }
        return GST_PAD_PROBE_OK;
    }
    return self->rewrite_data(info);
}

GstPadProbeReturn RtpForward::rewrite_data(GstPadProbeInfo *info)
{
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
        GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        const bool ok = rewrite(&buffer);
        info->data = buffer; // dropped (and released by the pad) when not RTP
        return ok ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
    }
    GstBufferList *list = gst_buffer_list_make_writable(GST_PAD_PROBE_INFO_BUFFER_LIST(info));
    info->data = list;
    for (guint i = 0; i < gst_buffer_list_length(list);) {
        GstBuffer *buffer = gst_buffer_ref(gst_buffer_list_get(list, i));
        gst_buffer_list_remove(list, i, 1);
        if (rewrite(&buffer)) {
            gst_buffer_list_insert(list, i, buffer);
            ++i;
        } else if (buffer) {
            gst_buffer_unref(buffer);
        }
    }
    return gst_buffer_list_length(list) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

} // namespace mgwrtp
