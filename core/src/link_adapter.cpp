#include "link_adapter.hpp"

namespace mediagw {

// What any link can turn into something else (a decoder and an encoder exist).
static const char *convertible_caps(mgw_media_kind kind)
{
    return kind == MGW_MEDIA_AUDIO ? "audio/x-raw; audio/x-opus; audio/x-mulaw; audio/x-alaw; audio/G722"
                                   : "video/x-raw; video/x-vp8; video/x-h264; video/x-vp9";
}

// A caps query across the link: what the far side (`across`'s peer) has or
// takes first, so that passthrough wins, then anything of the same media
// the adapter converts.
static void answer_caps_query(GstQuery *query, GstPad *across, mgw_media_kind kind)
{
    GstCaps *filter;
    gst_query_parse_caps(query, &filter);
    GstCaps *far = gst_pad_peer_query_caps(across, nullptr);
    GstCaps *result = gst_caps_copy(far);
    gst_caps_append(result, gst_caps_from_string(convertible_caps(kind)));
    if (filter) {
        GstCaps *f = gst_caps_intersect_full(filter, result, GST_CAPS_INTERSECT_FIRST);
        gst_caps_unref(result);
        result = f;
    }
    gst_query_set_caps_result(query, result);
    gst_caps_unref(result);
    gst_caps_unref(far);
}

std::unique_ptr<LinkAdapter> LinkAdapter::create(const std::string &name, mgw_media_kind kind, Reporter report,
                                                 std::string &error)
{
    GstElement *pass = gst_element_factory_make("identity", nullptr);
    if (!pass) {
        error = "link " + name + ": cannot create GStreamer element 'identity' (is GStreamer's core plugin installed?)";
        return nullptr;
    }
    return std::unique_ptr<LinkAdapter>(new LinkAdapter(name, kind, std::move(report), pass));
}

LinkAdapter::LinkAdapter(const std::string &name, mgw_media_kind kind, Reporter report, GstElement *pass)
    : name_(name), kind_(kind), report_(std::move(report))
{
    bin_ = GST_BIN(gst_object_ref_sink(gst_bin_new(nullptr)));
    g_object_set(pass, "silent", TRUE, nullptr);
    gst_bin_add(bin_, pass); // a fresh bin takes a fresh element
    chain_ = {pass};
    GstPad *in = gst_element_get_static_pad(pass, "sink");
    GstPad *out = gst_element_get_static_pad(pass, "src");
    sink_ = gst_ghost_pad_new("sink", in);
    src_ = gst_ghost_pad_new("src", out);
    gst_object_unref(in);
    gst_object_unref(out);
    gst_element_add_pad(GST_ELEMENT(bin_), sink_);
    gst_element_add_pad(GST_ELEMENT(bin_), src_);
    gst_pad_add_probe(sink_, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, on_sink_event, this, nullptr);
    gst_pad_add_probe(sink_, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_sink_query, this, nullptr);
    gst_pad_add_probe(sink_, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                      on_sink_buffer, this, nullptr);
    gst_pad_add_probe(src_, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, on_src_event, this, nullptr);
    gst_pad_add_probe(src_, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM, on_src_query, this, nullptr);
}

LinkAdapter::~LinkAdapter() { gst_object_unref(bin_); }

std::string LinkAdapter::current_plan() const
{
    std::lock_guard lock(mutex_);
    if (!saw_caps_)
        return "";
    std::string out;
    for (auto &e : plan_)
        out += (out.empty() ? "" : " ! ") + e;
    return out.empty() ? "passthrough" : out;
}

GstPadProbeReturn LinkAdapter::on_sink_event(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
        GstCaps *caps;
        gst_event_parse_caps(event, &caps);
        static_cast<LinkAdapter *>(data)->replan(caps);
    }
    return GST_PAD_PROBE_OK;
}

// Downstream changed what it takes (a node pointed its port at a new
// element: a call began, a re-INVITE changed the codec): the next buffer
// re-plans with the caps in force.
GstPadProbeReturn LinkAdapter::on_src_event(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_RECONFIGURE)
        static_cast<LinkAdapter *>(data)->recheck_ = true;
    return GST_PAD_PROBE_OK;
}

GstPadProbeReturn LinkAdapter::on_sink_buffer(GstPad *pad, GstPadProbeInfo *, gpointer data)
{
    auto self = static_cast<LinkAdapter *>(data);
    if (self->recheck_.exchange(false)) {
        if (GstCaps *caps = gst_pad_get_current_caps(pad)) {
            self->replan(caps);
            gst_caps_unref(caps);
        }
    }
    return GST_PAD_PROBE_OK;
}

// Upstream asks what this link takes (e.g. a SIP node choosing codecs): what
// the downstream port takes first, so passthrough wins, then anything of the
// same media the adapter can convert.
GstPadProbeReturn LinkAdapter::on_sink_query(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    auto self = static_cast<LinkAdapter *>(data);
    if (GST_QUERY_TYPE(query) == GST_QUERY_ACCEPT_CAPS) {
        // Caps are accepted when passed through or converted; replan() decides.
        GstCaps *caps;
        gst_query_parse_accept_caps(query, &caps);
        GstCaps *downstream = gst_pad_peer_query_caps(self->src_, nullptr);
        GstCaps *convertible = gst_caps_from_string(convertible_caps(self->kind_));
        // RTP is taken too when it can be depayloaded (not offered in caps
        // queries: a node would forward RTP to every link).
        bool ok = gst_caps_can_intersect(caps, downstream) || gst_caps_can_intersect(caps, convertible) ||
                  (gst_structure_has_name(gst_caps_get_structure(caps, 0), "application/x-rtp") &&
                   !find_depayloader(caps).empty());
        gst_caps_unref(downstream);
        gst_caps_unref(convertible);
        gst_query_set_accept_caps_result(query, ok);
        return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
        return GST_PAD_PROBE_OK;
    answer_caps_query(query, self->src_, self->kind_);
    return GST_PAD_PROBE_HANDLED;
}

// Downstream asks what this link can give (e.g. a late branch being linked
// before any media flows): what upstream sends, then anything of the same
// media the adapter can convert that into - not only what flows through
// now (before the first buffer, the passthrough chain).
GstPadProbeReturn LinkAdapter::on_src_query(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY(info);
    if (GST_QUERY_TYPE(query) != GST_QUERY_CAPS)
        return GST_PAD_PROBE_OK;
    auto self = static_cast<LinkAdapter *>(data);
    answer_caps_query(query, self->sink_, self->kind_);
    return GST_PAD_PROBE_HANDLED;
}

void LinkAdapter::replan(GstCaps *caps)
{
    GstCaps *accepted = gst_pad_peer_query_caps(src_, nullptr);
    ConversionPlan plan = plan_conversion(caps, accepted);
    gst_caps_unref(accepted);
    {
        std::lock_guard lock(mutex_);
        // Same chain (the first passthrough keeps the initial identity): its
        // elements renegotiate by themselves.
        if (plan.ok && plan.elements == plan_ && (saw_caps_ || plan.passthrough())) {
            if (!saw_caps_)
                report_(false, name_ + ": " + plan.why);
            saw_caps_ = true;
            return;
        }
    }
    if (!plan.ok) {
        report_(true, name_ + ": " + plan.why);
        return;
    }
    if (install(plan))
        report_(false, name_ + ": " + plan.why);
}

// Called on the streaming thread that carries the caps, before the event
// enters the bin: nothing flows inside while the chain is swapped. Relinking
// makes the ghost pad resend its sticky events (stream-start, caps, segment)
// to the new chain.
bool LinkAdapter::install(const ConversionPlan &plan)
{
    std::vector<GstElement *> chain;
    std::vector<std::string> names = plan.elements.empty() ? std::vector<std::string>{"identity"} : plan.elements;
    for (auto &n : names) {
        GstElement *e = make_conversion_element(n);
        if (!e) {
            for (auto c : chain)
                gst_object_unref(c);
            report_(true, name_ + ": cannot create element '" + n + "'");
            return false;
        }
        chain.push_back(GST_ELEMENT(gst_object_ref_sink(e)));
    }
    GstPad *first = gst_element_get_static_pad(chain.front(), "sink");
    GstPad *last = gst_element_get_static_pad(chain.back(), "src");
    if (!first || !last) { // converters have always-pads; a plugin's may not
        report_(true, name_ + ": element '" + names.front() + "' or '" + names.back() + "' lacks a static pad");
        for (auto p : {first, last})
            if (p)
                gst_object_unref(p);
        for (auto c : chain)
            gst_object_unref(c);
        return false;
    }
    // Undo a partly built chain: out of the bin, then our references.
    size_t added = 0;
    auto discard = [&](const std::string &why) {
        for (size_t i = 0; i < added; ++i) {
            gst_element_set_state(chain[i], GST_STATE_NULL);
            gst_bin_remove(bin_, chain[i]);
        }
        for (auto c : chain)
            gst_object_unref(c);
        gst_object_unref(first);
        gst_object_unref(last);
        report_(true, name_ + ": " + why);
        return false;
    };
    for (; added < chain.size(); ++added)
        if (!gst_bin_add(bin_, chain[added]))
            return discard("cannot add element '" + names[added] + "' to the link's bin");
    for (size_t i = 1; i < chain.size(); ++i)
        if (!gst_element_link(chain[i - 1], chain[i]))
            return discard("cannot link '" + names[i - 1] + "' to '" + names[i] + "'");
    for (auto e : chain)
        gst_element_sync_state_with_parent(e);

    GstPad *old_src = gst_ghost_pad_get_target(GST_GHOST_PAD(src_));
    GstPad *old_sink = gst_ghost_pad_get_target(GST_GHOST_PAD(sink_));
    const bool retargeted = gst_ghost_pad_set_target(GST_GHOST_PAD(src_), last) &&
                            gst_ghost_pad_set_target(GST_GHOST_PAD(sink_), first);
    if (!retargeted) { // back to the chain in use
        gst_ghost_pad_set_target(GST_GHOST_PAD(src_), old_src);
        gst_ghost_pad_set_target(GST_GHOST_PAD(sink_), old_sink);
    }
    for (GstPad *p : {old_src, old_sink})
        if (p)
            gst_object_unref(p);
    if (!retargeted)
        return discard("cannot point the link's pads at '" + names.front() + "' and '" + names.back() + "'");
    gst_object_unref(first);
    gst_object_unref(last);

    for (auto e : chain_) {
        gst_element_set_state(e, GST_STATE_NULL);
        gst_bin_remove(bin_, e);
    }
    for (auto e : chain)
        gst_object_unref(e);
    chain_ = chain;
    std::lock_guard lock(mutex_);
    plan_ = plan.elements;
    saw_caps_ = true;
    return true;
}

// Main loop. The EOS enters by the link's own pad, as upstream's would: the
// chain behind it belongs to the streaming thread, which may be swapping it
// right now (a first caps arriving while the gateway drains).
void LinkAdapter::drain_if_idle()
{
    {
        std::lock_guard lock(mutex_);
        if (saw_caps_)
            return;
    }
    gst_pad_send_event(sink_, gst_event_new_eos());
}

} // namespace mediagw
