#include "media/rtp_pass.hpp"

#include <gst/base/gstbasetransform.h>

struct MgwRtpPass {
    GstBaseTransform parent;
    guint latency_ms; // rtpbin's, unused
};
struct MgwRtpPassClass {
    GstBaseTransformClass parent_class;
};

G_DEFINE_TYPE(MgwRtpPass, mgw_rtp_pass, GST_TYPE_BASE_TRANSFORM)

namespace {

enum { PROP_0, PROP_LATENCY };

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS_ANY);

void set_property(GObject *object, guint id, const GValue *value, GParamSpec *pspec)
{
    if (id == PROP_LATENCY)
        reinterpret_cast<MgwRtpPass *>(object)->latency_ms = g_value_get_uint(value);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

void get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    if (id == PROP_LATENCY)
        g_value_set_uint(value, reinterpret_cast<MgwRtpPass *>(object)->latency_ms);
    else
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

} // namespace

static void mgw_rtp_pass_class_init(MgwRtpPassClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);
    object_class->set_property = set_property;
    object_class->get_property = get_property;
    g_object_class_install_property(object_class, PROP_LATENCY,
                                    g_param_spec_uint("latency", "Latency", "rtpbin's jitter buffer latency (ignored)",
                                                      0, G_MAXUINT, 0,
                                                      static_cast<GParamFlags>(G_PARAM_READWRITE |
                                                                               G_PARAM_STATIC_STRINGS)));
    GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
    gst_element_class_add_static_pad_template(element_class, &sink_template);
    gst_element_class_add_static_pad_template(element_class, &src_template);
    gst_element_class_set_static_metadata(element_class, "mediagw RTP pass", "Filter/Network/RTP",
                                          "Stands in for a jitter buffer where RTP is forwarded", "mediagw");
}

static void mgw_rtp_pass_init(MgwRtpPass *self)
{
    gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
}

namespace sipsofia {

GstElement *make_rtp_pass()
{
    return GST_ELEMENT(g_object_new(mgw_rtp_pass_get_type(), nullptr));
}

} // namespace sipsofia
