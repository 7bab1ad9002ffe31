#include "rtp/rtp_pass.hpp"

#include <gst/base/gstbasetransform.h>

namespace {

struct MgwRtpPass {
    GstBaseTransform parent;
    // Under the object lock: set by rtpbin/webrtcbin, counted on the
    // streaming thread, read by a stats call on another.
    guint latency_ms;
    gboolean do_retransmission;
    guint64 received;
    bool started;
    guint32 base_seq;    // extended (cycles << 16 | seq)
    guint32 highest_seq; // extended
};
struct MgwRtpPassClass {
    GstBaseTransformClass parent_class;
};

enum { PROP_0, PROP_LATENCY, PROP_DO_RETRANSMISSION, PROP_STATS };

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

MgwRtpPass *from(gpointer object) { return static_cast<MgwRtpPass *>(object); }

// The stats rtpjitterbuffer gives, with what this element knows.
GstStructure *stats_of(MgwRtpPass *self)
{
    GST_OBJECT_LOCK(self);
    const guint64 expected = self->started ? guint64(self->highest_seq - self->base_seq) + 1 : 0;
    const guint64 lost = expected > self->received ? expected - self->received : 0;
    GstStructure *s = gst_structure_new("application/x-rtp-jitterbuffer-stats", "num-pushed", G_TYPE_UINT64,
                                        self->received, "num-lost", G_TYPE_UINT64, lost, "num-late", G_TYPE_UINT64,
                                        guint64(0), "num-duplicates", G_TYPE_UINT64, guint64(0), "avg-jitter",
                                        G_TYPE_UINT64, guint64(0), "rtx-count", G_TYPE_UINT64, guint64(0),
                                        "rtx-success-count", G_TYPE_UINT64, guint64(0), "rtx-per-packet",
                                        G_TYPE_DOUBLE, 0.0, "rtx-rtt", G_TYPE_UINT64, guint64(0), nullptr);
    GST_OBJECT_UNLOCK(self);
    return s;
}

void set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    MgwRtpPass *self = from(object);
    GST_OBJECT_LOCK(self);
    if (id == PROP_LATENCY)
        self->latency_ms = g_value_get_uint(value);
    else if (id == PROP_DO_RETRANSMISSION)
        self->do_retransmission = g_value_get_boolean(value);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    GST_OBJECT_UNLOCK(self);
}

void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    MgwRtpPass *self = from(object);
    if (id == PROP_STATS) {
        g_value_take_boxed(value, stats_of(self));
        return;
    }
    GST_OBJECT_LOCK(self);
    if (id == PROP_LATENCY)
        g_value_set_uint(value, self->latency_ms);
    else if (id == PROP_DO_RETRANSMISSION)
        g_value_set_boolean(value, self->do_retransmission);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    GST_OBJECT_UNLOCK(self);
}

// Counts the packet (RFC 3550 A.1's extended highest sequence number,
// without its probation); the buffer goes on untouched.
GstFlowReturn count(GstBaseTransform *base, GstBuffer *buffer)
{
    guint8 header[4];
    if (gst_buffer_extract(buffer, 0, header, sizeof header) != sizeof header || (header[0] >> 6) != 2)
        return GST_FLOW_OK; // not RTP: rtpbin's session let it through, not ours to judge
    const guint16 seq = guint16(header[2] << 8 | header[3]);
    MgwRtpPass *self = from(base);
    GST_OBJECT_LOCK(self);
    if (!self->started) {
        self->started = true;
        self->base_seq = self->highest_seq = seq;
    } else {
        const gint16 ahead = gint16(seq - guint16(self->highest_seq));
        if (ahead > 0)
            self->highest_seq += guint32(ahead);
    }
    ++self->received;
    GST_OBJECT_UNLOCK(self);
    return GST_FLOW_OK;
}

void class_init(gpointer klass, gpointer)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->set_property = set_property;
    object_class->get_property = get_property;
    const auto rw = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
    g_object_class_install_property(object_class, PROP_LATENCY,
                                    g_param_spec_uint("latency", "Latency", "rtpbin's jitter buffer latency (ignored)",
                                                      0, G_MAXUINT, 0, rw));
    g_object_class_install_property(
        object_class, PROP_DO_RETRANSMISSION,
        g_param_spec_boolean("do-retransmission", "Do retransmission", "webrtcbin's NACK setting (ignored)", FALSE, rw));
    g_object_class_install_property(
        object_class, PROP_STATS,
        g_param_spec_boxed("stats", "Statistics", "Packets passed and missing, as rtpjitterbuffer's", GST_TYPE_STRUCTURE,
                           static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);
    gst_element_class_set_static_metadata(element_class, "mediagw RTP pass", "Filter/Network/RTP",
                                          "Stands in for a jitter buffer where RTP is forwarded", "mediagw");
    GST_BASE_TRANSFORM_CLASS(klass)->transform_ip = count;
}

void instance_init(GTypeInstance *instance, gpointer)
{
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(instance), TRUE);
}

} // namespace

namespace mgwrtp {

GType rtp_pass_type()
{
    static gsize type = 0;
    if (g_once_init_enter(&type)) {
        GType t = g_type_from_name("MgwRtpPass"); // the other plugin's, if it came first
        if (!t)
            t = g_type_register_static_simple(GST_TYPE_BASE_TRANSFORM, "MgwRtpPass", sizeof(MgwRtpPassClass),
                                              class_init, sizeof(MgwRtpPass), instance_init, GTypeFlags(0));
        g_once_init_leave(&type, t);
    }
    return type;
}

GstElement *make_rtp_pass()
{
    return GST_ELEMENT(g_object_new(rtp_pass_type(), nullptr));
}

} // namespace mgwrtp
