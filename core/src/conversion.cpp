#include "conversion.hpp"

#include <functional>

namespace mediagw {

namespace {

std::string caps_name(const GstCaps *caps)
{
    if (!caps || gst_caps_is_empty(caps) || gst_caps_is_any(caps))
        return caps && gst_caps_is_any(caps) ? "ANY" : "nothing";
    return gst_structure_get_name(gst_caps_get_structure(caps, 0));
}

std::string to_string(const GstCaps *caps)
{
    gchar *s = gst_caps_to_string(caps);
    std::string out = s;
    g_free(s);
    return out;
}

// The best-ranked factory of `type` whose `dir` pad can handle `caps` (and
// that `also` accepts, when given).
std::string find_factory(GstElementFactoryListType type, const GstCaps *caps, GstPadDirection dir,
                         const std::function<bool(GstElementFactory *)> &also = {})
{
    GList *all = gst_element_factory_list_get_elements(type, GST_RANK_MARGINAL);
    GList *fit = gst_element_factory_list_filter(all, caps, dir, FALSE);
    fit = g_list_sort(fit, (GCompareFunc)gst_plugin_feature_rank_compare_func);
    std::string name;
    for (GList *l = fit; l && name.empty(); l = l->next)
        if (!also || also(GST_ELEMENT_FACTORY(l->data)))
            name = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(l->data));
    gst_plugin_feature_list_free(fit);
    gst_plugin_feature_list_free(all);
    return name;
}

bool is_raw(const char *name) { return g_str_has_suffix(name, "/x-raw"); }

// A parser that takes `codec` (any framing) and can give `wanted`: one that
// reframes a codec (h264parse, opusparse), not a demuxer-like "parser".
std::string find_parser(const char *codec, const GstCaps *wanted)
{
    GstCaps *any_framing = gst_caps_new_empty_simple(codec);
    GList *all = gst_element_factory_list_get_elements(GST_ELEMENT_FACTORY_TYPE_PARSER, GST_RANK_MARGINAL);
    all = g_list_sort(all, (GCompareFunc)gst_plugin_feature_rank_compare_func);
    std::string name;
    for (GList *l = all; l && name.empty(); l = l->next) {
        auto f = GST_ELEMENT_FACTORY(l->data);
        bool reframes = false;
        for (const GList *t = gst_element_factory_get_static_pad_templates(f); t; t = t->next) {
            auto tmpl = static_cast<GstStaticPadTemplate *>(t->data);
            if (tmpl->presence != GST_PAD_ALWAYS)
                continue;
            GstCaps *caps = gst_static_caps_get(&tmpl->static_caps);
            bool fits = !gst_caps_is_any(caps) &&
                        gst_caps_can_intersect(caps, tmpl->direction == GST_PAD_SINK ? any_framing : wanted);
            gst_caps_unref(caps);
            if (!fits) {
                reframes = false;
                break;
            }
            reframes = true;
        }
        if (reframes)
            name = gst_plugin_feature_get_name(GST_PLUGIN_FEATURE(f));
    }
    gst_plugin_feature_list_free(all);
    gst_caps_unref(any_framing);
    return name;
}

// What a depayloader gives (its src template), for planning what follows it.
GstCaps *depayloaded_caps(const std::string &depayloader)
{
    GstElementFactory *f = gst_element_factory_find(depayloader.c_str());
    GstCaps *caps = nullptr;
    for (const GList *t = f ? gst_element_factory_get_static_pad_templates(f) : nullptr; t && !caps; t = t->next) {
        auto tmpl = static_cast<GstStaticPadTemplate *>(t->data);
        if (tmpl->direction == GST_PAD_SRC)
            caps = gst_static_caps_get(&tmpl->static_caps);
    }
    if (f)
        gst_object_unref(f);
    return caps;
}

} // namespace

// One whose sink template names the encoding: those for static payload
// types (PCMU, G.722, ...) also take any RTP without an encoding-name.
std::string find_depayloader(const GstCaps *rtp)
{
    const GValue *encoding = gst_structure_get_value(gst_caps_get_structure(rtp, 0), "encoding-name");
    if (!encoding)
        return "";
    return find_factory(GST_ELEMENT_FACTORY_TYPE_DEPAYLOADER, rtp, GST_PAD_SINK, [encoding](GstElementFactory *f) {
        bool names_it = false;
        for (const GList *t = gst_element_factory_get_static_pad_templates(f); t && !names_it; t = t->next) {
            auto tmpl = static_cast<GstStaticPadTemplate *>(t->data);
            if (tmpl->direction != GST_PAD_SINK)
                continue;
            GstCaps *caps = gst_static_caps_get(&tmpl->static_caps);
            for (guint i = 0; i < gst_caps_get_size(caps) && !names_it; ++i) {
                const GValue *named = gst_structure_get_value(gst_caps_get_structure(caps, i), "encoding-name");
                names_it = named && gst_value_intersect(nullptr, named, encoding); // (can_intersect: types only)
            }
            gst_caps_unref(caps);
        }
        return names_it;
    });
}

ConversionPlan plan_conversion(const GstCaps *input, const GstCaps *accepted)
{
    ConversionPlan plan;
    if (gst_caps_can_intersect(input, accepted)) {
        plan.why = "passthrough of " + caps_name(input);
        return plan;
    }
    const char *in_name = gst_structure_get_name(gst_caps_get_structure(input, 0));
    if (g_str_equal(in_name, "application/x-rtp")) {
        // A node forwards RTP to one that does not take it (e.g. a re-INVITE
        // changed the SIP leg's codec mid-call): depayloaded here, behind a
        // jitter buffer (make_conversion_element sizes it), then as encoded media.
        const std::string depay = find_depayloader(input);
        GstCaps *encoded = depay.empty() ? nullptr : depayloaded_caps(depay);
        if (!encoded) {
            plan.ok = false;
            plan.why = "no depayloader for " + to_string(input);
            return plan;
        }
        ConversionPlan rest = plan_conversion(encoded, accepted);
        gst_caps_unref(encoded);
        if (!rest.ok)
            return rest;
        plan.elements = {"rtpjitterbuffer", depay};
        plan.elements.insert(plan.elements.end(), rest.elements.begin(), rest.elements.end());
        std::string chain;
        for (auto &e : plan.elements)
            chain += (chain.empty() ? "" : " ! ") + e;
        plan.why = caps_name(input) + " -> " + caps_name(accepted) + " needs " + chain;
        return plan;
    }
    const bool audio = g_str_has_prefix(in_name, "audio/");
    GstCaps *raw = gst_caps_new_empty_simple(audio ? "audio/x-raw" : "video/x-raw");
    const std::vector<std::string> raw_convert =
        audio ? std::vector<std::string>{"audioconvert", "audioresample"}
              : std::vector<std::string>{"videoconvert", "videoscale"};

    if (!is_raw(in_name)) {
        // Same codec, other framing (e.g. H.264 avc vs byte-stream): a parser does.
        GstCaps *same = gst_caps_new_empty_simple(in_name);
        bool same_codec = gst_caps_can_intersect(same, accepted);
        gst_caps_unref(same);
        if (same_codec) {
            std::string parser = find_parser(in_name, accepted);
            if (!parser.empty()) {
                plan.elements = {parser};
                plan.why = std::string("reframe ") + in_name + " with " + parser;
                gst_caps_unref(raw);
                return plan;
            }
        }
        std::string decoder = find_factory(GST_ELEMENT_FACTORY_TYPE_DECODER, input, GST_PAD_SINK);
        if (decoder.empty()) {
            plan.ok = false;
            plan.why = "no decoder for " + to_string(input);
            gst_caps_unref(raw);
            return plan;
        }
        plan.elements.push_back(decoder);
    }
    plan.elements.insert(plan.elements.end(), raw_convert.begin(), raw_convert.end());

    if (!gst_caps_can_intersect(raw, accepted)) {
        std::string encoder;
        for (guint i = 0; i < gst_caps_get_size(accepted) && encoder.empty(); ++i) {
            GstCaps *one = gst_caps_copy_nth(accepted, i);
            encoder = find_factory(GST_ELEMENT_FACTORY_TYPE_ENCODER, one, GST_PAD_SRC);
            gst_caps_unref(one);
        }
        if (encoder.empty()) {
            plan.ok = false;
            plan.why = "no encoder for " + to_string(accepted);
            gst_caps_unref(raw);
            return plan;
        }
        plan.elements.push_back(encoder);
        // Encoders emit one framing; a parser adapts it to what is accepted.
        const char *codec = gst_structure_get_name(gst_caps_get_structure(accepted, 0));
        std::string parser = find_parser(codec, accepted);
        if (!parser.empty())
            plan.elements.push_back(parser);
    }
    gst_caps_unref(raw);

    std::string chain;
    for (auto &e : plan.elements)
        chain += (chain.empty() ? "" : " ! ") + e;
    plan.why = caps_name(input) + " -> " + caps_name(accepted) + " needs " + chain;
    return plan;
}

static void set_if_present(GstElement *e, const char *prop, const char *value)
{
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(e), prop))
        gst_util_set_object_arg(G_OBJECT(e), prop, value);
}

GstElement *make_conversion_element(const std::string &factory)
{
    GstElement *e = gst_element_factory_make(factory.c_str(), nullptr);
    if (!e)
        return nullptr;
    // Real-time settings for the encoders a gateway meets.
    set_if_present(e, "deadline", "1");           // vp8enc/vp9enc: realtime
    set_if_present(e, "cpu-used", "8");           // libvpx: fastest
    set_if_present(e, "tune", "zerolatency");     // x264enc
    set_if_present(e, "speed-preset", "ultrafast");
    set_if_present(e, "key-int-max", "60");
    set_if_present(e, "keyframe-max-dist", "60");
    set_if_present(e, "usage-type", "camera");    // openh264enc
    if (factory == "rtpjitterbuffer")              // RTP depayloaded on a link: in order, lost ones marked
        g_object_set(e, "latency", kLinkJitterMs, "do-lost", TRUE, nullptr);
    return e;
}

} // namespace mediagw
