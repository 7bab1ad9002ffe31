#include "media/room_media.hpp"

#include "rtp/peer_caps.hpp"
#include "rtp/rtp_forward.hpp"

#include "common/main_loop.hpp"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <cmath>
#include <vector>

namespace webrtcdirect {

struct RoomMedia::Branch {
    std::vector<GstElement *> elements;
    GstElement *tee = nullptr;       // fed from this tee's request pad...
    GstPad *tee_pad = nullptr;
    GstElement *sink_owner = nullptr; // ...into this element's request pad
    GstPad *sink_pad = nullptr;
    // A subscriber's stream: what it sends into (webrtcbin's pad, owned by
    // it) and as what; its tail (payloader or RTP forwarding) is made when
    // the fan-out's caps are known.
    GstPad *send_pad = nullptr;
    OfferedMedia media;
    guint32 ssrc = 0;
    std::string tag;
    bool has_tail = false;
};

struct RoomMedia::Publisher {
    std::string participant;
    std::weak_ptr<Session> session;
    GstElement *audio_tee = nullptr;  // the browser's RTP: passthrough + mix
    GstPad *audio_pad = nullptr;      // on audio_sel_
    GstPad *video_pad = nullptr;      // on video_sel_ (speaker) or grid_ (grid)
    bool mixed = false;
    std::atomic<double> level_db{-100};
};

namespace {

const char *depayloader(const std::string &codec)
{
    return codec == "OPUS" ? "rtpopusdepay" : codec == "VP8" ? "rtpvp8depay" : "rtph264depay";
}

std::string name_of(gpointer object)
{
    gchar *name = gst_object_get_name(GST_OBJECT(object));
    std::string out = name ? name : "?";
    g_free(name);
    return out;
}

void link(GstElement *from, GstElement *to)
{
    if (!gst_element_link(from, to))
        throw std::runtime_error("cannot link " + name_of(from) + " to " + name_of(to));
}

GstPad *request_pad(GstElement *element, const char *templ)
{
    GstPad *pad = gst_element_request_pad_simple(element, templ);
    if (!pad)
        throw std::runtime_error(name_of(element) + " gave no " + templ + " pad");
    return pad;
}

GstPadProbeReturn without_foreign_ssrc(GstPad *, GstPadProbeInfo *info, gpointer)
{
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    if (!gst_video_event_is_force_key_unit(event) || !gst_structure_has_field(gst_event_get_structure(event), "ssrc"))
        return GST_PAD_PROBE_OK;
    GstEvent *plain = gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, gst_structure_copy(gst_event_get_structure(event)));
    gst_structure_remove_field(gst_event_writable_structure(plain), "ssrc");
    gst_event_unref(event);
    info->data = plain;
    return GST_PAD_PROBE_OK;
}

void set_active(GstElement *selector, GstPad *pad)
{
    GstPad *current = nullptr;
    g_object_get(selector, "active-pad", &current, nullptr);
    if (current != pad)
        g_object_set(selector, "active-pad", pad, nullptr);
    if (current)
        gst_object_unref(current);
}

} // namespace

RoomMedia::RoomMedia(GstBin *bin, GstPad *audio_in, GstPad *video_in, GstPad *audio_out, GstPad *video_out,
                     Layout layout, guint jitter_ms, Logger log, SpeakerChanged speaker_changed, Fail fail)
    : bin_(bin), log_(std::move(log)), speaker_changed_(std::move(speaker_changed)), fail_(std::move(fail)),
      layout_(layout), audio_out_(audio_out), video_out_(video_out), jitter_ms_(jitter_ms)
{
    // Encoded media is payloaded per browser; the caller's RTP of the same
    // codec (the SIP node forwards it) goes on as RTP.
    add_fanout("audio", "audio/x-opus; application/x-rtp, media=audio, encoding-name=OPUS, clock-rate=48000", audio_in);
    add_fanout("video", "video/x-vp8; video/x-h264; application/x-rtp, media=video, encoding-name=(string){ VP8, H264 }, "
                        "clock-rate=90000", video_in);
    // Publishers come and go: input-selectors pick what reaches the caller;
    // sync-streams off, every branch is live.
    audio_sel_ = make("input-selector", "audio_sel");
    video_sel_ = make("input-selector", "video_sel");
    for (GstElement *sel : {audio_sel_, video_sel_})
        g_object_set(sel, "sync-streams", FALSE, "cache-buffers", FALSE, nullptr);
    GstPad *pad = gst_element_get_static_pad(audio_sel_, "src");
    gst_ghost_pad_set_target(GST_GHOST_PAD(audio_out), pad);
    gst_object_unref(pad);
    if (layout_ == Layout::Grid) {
        // Tiles on a fixed 640x360 canvas at 15 fps; the core's link encodes
        // it for the caller.
        grid_ = make("compositor", "grid");
        g_object_set(grid_, "background", 1 /* black */, "latency", (guint64)50 * GST_MSECOND,
                     "ignore-inactive-pads", TRUE, nullptr);
        GstElement *caps = make_capsfilter("grid_caps", "video/x-raw,format=I420,width=640,height=360,framerate=15/1");
        link(grid_, caps);
        pad = gst_element_get_static_pad(caps, "src");
    } else {
        pad = gst_element_get_static_pad(video_sel_, "src");
    }
    gst_ghost_pad_set_target(GST_GHOST_PAD(video_out), pad);
    // A keyframe request from the next node (the caller's PLI, relayed by
    // sip-sofia's rtpsession) names that session's SSRC: webrtcbin's would
    // find no such browser and send no PLI. Without it, webrtcbin's SSRC
    // demuxer names the browser whose stream the request goes up.
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, without_foreign_ssrc, nullptr, nullptr);
    gst_object_unref(pad);
    speaker_timer_ = g_timeout_add(250, &RoomMedia::speaker_tick, this);
}

RoomMedia::~RoomMedia()
{
    if (speaker_timer_)
        g_source_remove(speaker_timer_);
}

GstElement *RoomMedia::make(const char *factory, const std::string &name)
{
    GstElement *e = gst_element_factory_make(factory, name.empty() ? nullptr : name.c_str());
    if (!e)
        throw std::runtime_error(std::string("GStreamer element '") + factory + "' is missing");
    if (!gst_bin_add(bin_, e))
        throw std::runtime_error("cannot add " + name_of(e) + " to the node's bin (a name taken twice)");
    return e;
}

GstElement *RoomMedia::make_capsfilter(const std::string &name, const char *caps)
{
    GstElement *filter = make("capsfilter", name);
    GstCaps *c = gst_caps_from_string(caps);
    if (!c)
        throw std::runtime_error(std::string("unparsable caps ") + caps);
    g_object_set(filter, "caps", c, nullptr);
    gst_caps_unref(c);
    return filter;
}

// The caller's media, restricted to what browsers decode without help (the
// core transcodes anything else on the link into this node).
void RoomMedia::add_fanout(const char *kind, const char *caps, GstPad *ghost)
{
    GstElement *filter = make_capsfilter(std::string(kind) + "_accepted", caps);
    GstElement *tee = make("tee", std::string(kind) + "_fanout");
    g_object_set(tee, "allow-not-linked", TRUE, nullptr);
    link(filter, tee);
    GstPad *sink = gst_element_get_static_pad(filter, "sink");
    gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), sink);
    gst_object_unref(sink);
    (g_str_equal(kind, "audio") ? audio_tee_ : video_tee_) = tee;
    if (g_str_equal(kind, "video"))
        video_filter_ = filter;
}

std::string RoomMedia::input_video_codec() const
{
    GstPad *sink = gst_element_get_static_pad(video_tee_, "sink");
    GstCaps *caps = gst_pad_get_current_caps(sink);
    gst_object_unref(sink);
    std::string codec;
    if (caps) {
        const GstStructure *st = gst_caps_get_structure(caps, 0);
        const char *name = gst_structure_get_name(st);
        const char *rtp = gst_structure_get_string(st, "encoding-name"); // forwarded RTP
        codec = g_str_equal(name, "video/x-vp8") ? "VP8" : g_str_equal(name, "video/x-h264") ? "H264" : "";
        if (g_str_equal(name, "application/x-rtp") && rtp)
            codec = rtp;
        gst_caps_unref(caps);
    }
    return codec;
}

std::set<std::string> RoomMedia::attach_subscriber(Session &s)
{
    std::set<std::string> sending;
    for (const auto &m : s.offer().media) {
        if (m.payload < 0 || m.port_zero)
            continue;
        if (m.kind == "video") {
            const std::string flowing = input_video_codec();
            if (!flowing.empty() && flowing != m.codec) {
                log_("session " + s.id() + ": the caller's video is " + flowing + ", this browser took " + m.codec +
                     "; its video stays off");
                continue;
            }
        }
        guint32 ssrc = 0;
        if (GstPad *sink = s.add_sender(m, ssrc)) {
            link_subscriber_stream(s, m, sink, ssrc);
            sending.insert(m.mid);
        }
    }
    return sending;
}

void RoomMedia::link_subscriber_stream(Session &s, const OfferedMedia &m, GstPad *sink, guint32 ssrc)
{
    auto b = std::make_unique<Branch>();
    b->tag = s.id() + "_" + std::to_string(counter_++);
    // Leaky: a browser that cannot keep up drops, it never stalls the others.
    GstElement *queue = make("queue", "q_" + b->tag);
    g_object_set(queue, "leaky", 2, "max-size-buffers", 0, "max-size-bytes", 0, "max-size-time",
                 (guint64)500 * GST_MSECOND, nullptr);
    b->elements = {queue};
    b->send_pad = sink;
    b->media = m;
    b->ssrc = ssrc;
    gst_element_sync_state_with_parent(queue);
    b->tee = m.kind == "audio" ? audio_tee_ : video_tee_; // fed once connected: feed_subscriber()
    std::lock_guard<std::mutex> guard(lock_); // publishers' streaming threads add branches too
    branches_.emplace(s.id(), std::move(b));
}

// What the fan-out carries now: RTP (the caller's packets, forwarded as
// they are) or encoded media (payloaded here); nullopt before any caps.
std::optional<bool> RoomMedia::fanout_carries_rtp(GstElement *tee) const
{
    GstPad *sink = gst_element_get_static_pad(tee, "sink");
    GstCaps *caps = gst_pad_get_current_caps(sink);
    gst_object_unref(sink);
    if (!caps)
        return std::nullopt;
    const bool rtp = gst_structure_has_name(gst_caps_get_structure(caps, 0), "application/x-rtp");
    gst_caps_unref(caps);
    return rtp;
}

// The branch's end into webrtcbin: a payloader, or (RTP in the fan-out) the
// caller's packets with this session's payload type and SSRC.
void RoomMedia::make_tail(Branch &b, bool rtp)
{
    GstElement *queue = b.elements.front();
    const OfferedMedia &m = b.media;
    GstPad *from = nullptr;
    if (rtp) {
        from = gst_element_get_static_pad(queue, "src");
        GstCaps *caps = send_caps(m, b.ssrc);
        mgwrtp::RtpForward::attach(
            from, new mgwrtp::RtpForward(caps, (guint8)m.payload, b.ssrc, m.kind == "audio" ? 48000 : 90000));
        gst_caps_unref(caps);
    } else {
        GstElement *pay = nullptr;
        if (m.codec == "OPUS") {
            pay = make("rtpopuspay", "pay_" + b.tag);
        } else if (m.codec == "VP8") {
            pay = make("rtpvp8pay", "pay_" + b.tag);
            g_object_set(pay, "picture-id-mode", 2, nullptr);
        } else {
            pay = make("rtph264pay", "pay_" + b.tag);
            g_object_set(pay, "config-interval", -1, "aggregate-mode", 1, nullptr);
        }
        g_object_set(pay, "pt", (guint)m.payload, "ssrc", b.ssrc, "mtu", 1200u, nullptr);
        link(queue, pay);
        gst_element_sync_state_with_parent(pay);
        b.elements.push_back(pay);
        from = gst_element_get_static_pad(pay, "src");
    }
    const GstPadLinkReturn linked = gst_pad_link(from, b.send_pad);
    gst_object_unref(from);
    b.has_tail = true;
    if (linked != GST_PAD_LINK_OK)
        throw std::runtime_error("branch " + b.tag + ": cannot link " + m.codec + " to webrtcbin (" +
                                 gst_pad_link_get_name(linked) + ")");
    log_("branch " + b.tag + ": " + m.kind + " " + m.codec + (rtp ? " forwarded as RTP" : " payloaded here"));
}

// The session is connected: its branches join the fan-out now. Media pushed
// into a webrtcbin still negotiating can leave its sink pad blocked for
// good (seen with GStreamer 1.22: a browser that never hears the caller).
// Branches are playing before the tee feeds them: a push into a flushing
// pad makes the tee return FLUSHING upstream, stopping the caller's stream.
// A branch whose fan-out has no caps yet (no media from the caller so far)
// waits for them, checked every 20 ms (a packet's time; 5 s at most, then a
// payloader).
void RoomMedia::feed_subscriber(Session &s)
{
    feed_branches(s.id(), 0);
}

void RoomMedia::feed_branches(const std::string &id, int tries)
{
    std::lock_guard<std::mutex> guard(lock_);
    auto range = branches_.equal_range(id);
    bool waiting = false;
    for (auto it = range.first; it != range.second; ++it) {
        Branch &b = *it->second;
        if (!b.tee || b.tee_pad)
            continue;
        if (!b.has_tail) {
            const auto rtp = fanout_carries_rtp(b.tee);
            if (!rtp && tries < 250) {
                waiting = true;
                continue;
            }
            make_tail(b, rtp.value_or(false));
        }
        b.tee_pad = request_pad(b.tee, "src_%u");
        GstPad *qsink = gst_element_get_static_pad(b.elements.front(), "sink");
        const GstPadLinkReturn linked = gst_pad_link(b.tee_pad, qsink);
        gst_object_unref(qsink);
        if (linked != GST_PAD_LINK_OK)
            log_("session " + id + ": cannot feed it the caller's media (" + gst_pad_link_get_name(linked) + ")");
    }
    if (!waiting)
        return;
    struct Retry {
        RoomMedia *self;
        std::weak_ptr<int> alive;
        std::string id;
        int tries;
    };
    g_timeout_add_full(
        G_PRIORITY_DEFAULT, 20,
        [](gpointer data) -> gboolean {
            auto *r = static_cast<Retry *>(data);
            if (r->alive.lock())
                guarded(r->self->fail_, "feed a subscriber", [r] { r->self->feed_branches(r->id, r->tries + 1); });
            return G_SOURCE_REMOVE;
        },
        new Retry{this, alive_, id, tries}, [](gpointer data) { delete static_cast<Retry *>(data); });
}

void RoomMedia::request_input_keyframe()
{
    // Upstream out of the node's video input: through the core's link into
    // the SIP node, which asks the caller (RTCP PLI/FIR or SIP INFO).
    GstPad *sink = gst_element_get_static_pad(video_filter_, "sink");
    const bool sent =
        gst_pad_push_event(sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(sink);
    log_(sent ? "a new browser: keyframe requested from the caller" : "a new browser: no caller video to ask");
}

// A depayloader behind a jitter buffer of the branch's own: webrtcbin has
// none (rtp_pass, session.cpp), and a decoder, a mixer or the next node's
// encoder needs the packets in order and evenly timed.
GstElement *RoomMedia::jitter_buffered_depayloader(const std::string &codec, const std::string &tag, Branch &b)
{
    GstElement *jitter = make("rtpjitterbuffer", "jb_" + tag);
    g_object_set(jitter, "latency", jitter_ms_, "do-lost", TRUE, nullptr); // lost: the decoder conceals
    GstElement *depay = make(depayloader(codec), "depay_" + tag);
    link(jitter, depay);
    b.elements.push_back(jitter);
    b.elements.push_back(depay);
    return depay;
}

// Streaming thread (webrtcbin's pad-added): the browser's RTP (no jitter
// buffer before it) into a selector. While the next node takes this codec's
// RTP (the SIP leg negotiated it), the packets go on as they are, on this
// thread: no jitter buffer, depayloader or queue, as behind a relay.
// Otherwise, and for the grid's decoders, depayloaded behind a jitter buffer.
void RoomMedia::attach_publisher_stream(Session &s, GstPad *src, const OfferedMedia &m)
{
    const bool audio = m.kind == "audio";
    // Asked before taking the lock: the query crosses into the next node.
    const bool forward = !(grid_ && !audio) && mgwrtp::peer_takes_rtp(audio ? audio_out_ : video_out_, m.kind.c_str(),
                                                                      m.codec.c_str(), audio ? 48000 : 90000);
    std::unique_lock<std::mutex> guard(lock_);
    auto &pub = publishers_[s.id()];
    if (!pub) {
        pub = std::make_unique<Publisher>();
        pub->participant = s.participant();
        pub->session = s.weak_from_this();
    }
    auto b = std::make_unique<Branch>();
    const std::string tag = s.id() + "_" + std::to_string(counter_++);
    GstElement *first = nullptr; // what webrtcbin's pad feeds (none: the selector itself)
    GstElement *last = nullptr;  // what feeds the selector (none: the tee's pad, or webrtcbin's)
    GstPadLinkReturn linked = GST_PAD_LINK_OK;
    if (audio) {
        // A tee first: the stream goes straight out while this browser is
        // alone, and into the mix (its own jitter buffer) once it is not.
        pub->audio_tee = first = make("tee", "atee_" + tag);
        g_object_set(pub->audio_tee, "allow-not-linked", TRUE, nullptr);
        b->elements.push_back(pub->audio_tee);
        b->tee = pub->audio_tee;
        b->tee_pad = request_pad(pub->audio_tee, "src_%u");
        if (!forward) {
            last = jitter_buffered_depayloader(m.codec, tag, *b);
            GstPad *jb_sink = gst_element_get_static_pad(b->elements[1], "sink");
            linked = gst_pad_link(b->tee_pad, jb_sink);
            gst_object_unref(jb_sink);
        }
    } else if (!forward) {
        last = jitter_buffered_depayloader(m.codec, tag, *b);
        first = b->elements.front();
        if (grid_)
            last = grid_input(m.codec, tag, *b);
    }
    GstElement *sel = audio ? audio_sel_ : grid_ ? grid_ : video_sel_;
    b->sink_owner = sel;
    b->sink_pad = request_pad(sel, "sink_%u");
    (audio ? pub->audio_pad : pub->video_pad) = b->sink_pad;
    GstPad *out = last ? gst_element_get_static_pad(last, "src") : audio ? GST_PAD(gst_object_ref(b->tee_pad)) : nullptr;
    if (out && linked == GST_PAD_LINK_OK)
        linked = gst_pad_link(out, b->sink_pad);
    if (out)
        gst_object_unref(out);
    for (GstElement *e : b->elements)
        gst_element_sync_state_with_parent(e);
    GstPad *in = first ? gst_element_get_static_pad(first, "sink") : GST_PAD(gst_object_ref(b->sink_pad));
    if (linked == GST_PAD_LINK_OK)
        linked = gst_pad_link(src, in);
    gst_object_unref(in);
    branches_.emplace(s.id(), std::move(b)); // detach() undoes it, linked or not
    if (linked != GST_PAD_LINK_OK)
        throw std::runtime_error("session " + s.id() + ": cannot link its " + m.kind + " (" + m.codec +
                                 ") to the room (" + gst_pad_link_get_name(linked) + ")");
    log_("session " + s.id() + ": receiving " + m.kind + " (" + m.codec + ") from participant " + s.participant() +
         (forward ? ", forwarded as RTP" : ", depayloaded"));
    std::weak_ptr<int> alive = alive_;
    on_main_loop(fail_, [this, alive] {
        if (alive.lock()) {
            std::unique_lock<std::mutex> g(lock_);
            update_audio_route();
            g.unlock();
            layout_grid();
            pick_speaker();
        }
    });
}

// One browser publishing: its Opus passes through untouched. More: mixed.
void RoomMedia::update_audio_route()
{
    std::vector<Publisher *> talking;
    for (auto &[id, p] : publishers_)
        if (p->audio_pad)
            talking.push_back(p.get());
    if (talking.size() == 1) {
        set_active(audio_sel_, talking.front()->audio_pad);
    } else if (talking.size() > 1) {
        if (!mixer_) {
            log_("several browsers publish: mixing their audio (Opus decoded, mixed, re-encoded for the caller)");
            mixer_ = make("audiomixer", "mix");
            g_object_set(mixer_, "start-time-selection", 1 /* first */, "latency", (guint64)20 * GST_MSECOND,
                         nullptr);
            GstElement *caps = make_capsfilter("mix_caps", "audio/x-raw,format=S16LE,rate=48000,channels=1");
            link(mixer_, caps);
            mix_pad_ = request_pad(audio_sel_, "sink_%u");
            GstPad *out = gst_element_get_static_pad(caps, "src");
            const GstPadLinkReturn linked = gst_pad_link(out, mix_pad_);
            gst_object_unref(out);
            if (linked != GST_PAD_LINK_OK)
                throw std::runtime_error(std::string("cannot link the audio mix to its selector (") +
                                         gst_pad_link_get_name(linked) + ")");
            gst_element_sync_state_with_parent(caps);
            gst_element_sync_state_with_parent(mixer_);
        }
        for (Publisher *p : talking)
            if (!p->mixed)
                add_to_mix(*p);
        set_active(audio_sel_, mix_pad_);
    }
}

namespace {
GstPadProbeReturn measure_level(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    auto *level = static_cast<std::atomic<double> *>(data);
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    GstMapInfo map;
    if (buf && gst_buffer_map(buf, &map, GST_MAP_READ)) {
        const auto *s = reinterpret_cast<const int16_t *>(map.data);
        size_t n = map.size / 2;
        double sum = 0;
        for (size_t i = 0; i < n; ++i)
            sum += double(s[i]) * s[i];
        double db = n ? 10 * std::log10(sum / n / (32768.0 * 32768.0) + 1e-10) : -100;
        // Smoothed: a syllable should not steal the picture.
        level->store(0.8 * level->load() + 0.2 * db);
        gst_buffer_unmap(buf, &map);
    }
    return GST_PAD_PROBE_OK;
}
} // namespace

void RoomMedia::add_to_mix(Publisher &p)
{
    p.mixed = true;
    auto b = std::make_unique<Branch>();
    const std::string tag = "mix" + std::to_string(counter_++);
    // The tee carries the browser's RTP: a jitter buffer of the branch's own
    // (its thread decouples the mix from the browser's).
    GstElement *depay = jitter_buffered_depayloader("OPUS", tag, *b);
    GstElement *jitter = b->elements.front();
    GstElement *dec = make("opusdec", "dec_" + tag);
    GstElement *conv = make("audioconvert", "conv_" + tag);
    GstElement *res = make("audioresample", "res_" + tag);
    GstElement *caps = make_capsfilter("caps_" + tag, "audio/x-raw,format=S16LE,rate=48000,channels=1");
    if (!gst_element_link_many(depay, dec, conv, res, caps, nullptr))
        throw std::runtime_error("cannot link the mix branch " + tag);
    for (GstElement *e : {dec, conv, res, caps})
        b->elements.push_back(e);
    GstPad *out = gst_element_get_static_pad(caps, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, measure_level, &p.level_db, nullptr);
    b->sink_owner = mixer_;
    b->sink_pad = request_pad(mixer_, "sink_%u");
    GstPadLinkReturn linked = gst_pad_link(out, b->sink_pad);
    gst_object_unref(out);
    for (GstElement *e : b->elements) // playing before the tee feeds it (see link_subscriber_stream)
        gst_element_sync_state_with_parent(e);
    b->tee = p.audio_tee;
    b->tee_pad = request_pad(p.audio_tee, "src_%u");
    GstPad *jb_sink = gst_element_get_static_pad(jitter, "sink");
    if (linked == GST_PAD_LINK_OK)
        linked = gst_pad_link(b->tee_pad, jb_sink);
    gst_object_unref(jb_sink);
    for (auto &[id, pub] : publishers_)
        if (pub.get() == &p)
            branches_.emplace(id, std::move(b)); // detach() undoes it, linked or not
    if (linked != GST_PAD_LINK_OK)
        throw std::runtime_error("cannot feed " + p.participant + "'s audio to the mix (" +
                                 gst_pad_link_get_name(linked) + ")");
}

namespace {
// The compositor fails its whole output (GST_FLOW_ERROR, posted by no one
// but the source upstream, so the gateway stops) on a single buffer without
// a timestamp; a decoder emits one when a frame's input had none. Such a
// frame cannot be placed in time anyway: dropped, reported once per stream.
struct UntimedFrames {
    RoomMedia::Logger log;
    Fail fail;
    std::string stream;
    std::atomic<bool> reported{false};
};

GstPadProbeReturn drop_untimed_frame(GstPad *, GstPadProbeInfo *info, gpointer data)
{
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
    if (!buf || GST_BUFFER_PTS_IS_VALID(buf))
        return GST_PAD_PROBE_OK;
    auto *u = static_cast<UntimedFrames *>(data);
    if (!u->reported.exchange(true))
        guarded(u->fail, "grid probe",
                [u] { u->log(u->stream + ": a decoded frame without a timestamp was dropped before the grid"); });
    return GST_PAD_PROBE_DROP;
}
} // namespace

// Grid layout: decode and convert, the compositor scales to the tile.
GstElement *RoomMedia::grid_input(const std::string &codec, const std::string &tag, Branch &b)
{
    GstElement *dec = make(codec == "VP8" ? "vp8dec" : "avdec_h264", "vdec_" + tag);
    GstElement *conv = make("videoconvert", "vconv_" + tag);
    GstElement *from = b.elements.back();
    b.elements.push_back(dec);
    b.elements.push_back(conv);
    link(from, dec);
    link(dec, conv);
    GstPad *out = gst_element_get_static_pad(conv, "src");
    gst_pad_add_probe(out, GST_PAD_PROBE_TYPE_BUFFER, drop_untimed_frame, new UntimedFrames{log_, fail_, "video " + tag},
                      [](gpointer u) { delete static_cast<UntimedFrames *>(u); });
    gst_object_unref(out);
    return conv;
}

// Rows and columns for n tiles (n = 1: full canvas; 2: side by side; 3-4: 2x2 ...).
void RoomMedia::layout_grid()
{
    if (!grid_)
        return;
    std::vector<GstPad *> pads;
    {
        std::lock_guard<std::mutex> guard(lock_);
        for (auto &[id, p] : publishers_)
            if (p->video_pad)
                pads.push_back(p->video_pad);
    }
    const int n = (int)pads.size();
    if (n == 0)
        return;
    int cols = 1;
    while (cols * cols < n)
        ++cols;
    const int rows = (n + cols - 1) / cols;
    const int w = 640 / cols, h = 360 / rows;
    for (int i = 0; i < n; ++i)
        g_object_set(pads[i], "xpos", (i % cols) * w, "ypos", (i / cols) * h, "width", w, "height", h, nullptr);
    log_("grid: " + std::to_string(n) + " tile(s), " + std::to_string(cols) + "x" + std::to_string(rows));
}

gboolean RoomMedia::speaker_tick(gpointer self)
{
    auto *media = static_cast<RoomMedia *>(self);
    guarded(media->fail_, "active speaker timer", [media] { media->pick_speaker(); });
    return G_SOURCE_CONTINUE;
}

// The loudest publisher with video gets the picture; a challenger must be
// clearly louder (6 dB) so two people talking do not flicker it.
void RoomMedia::pick_speaker()
{
    std::string best;
    std::shared_ptr<Session> session;
    GstPad *pad = nullptr;
    std::string participant;
    {
        std::lock_guard<std::mutex> guard(lock_);
        auto current = publishers_.find(speaker_);
        if (current != publishers_.end() && !current->second->video_pad)
            current = publishers_.end();
        double bar = current != publishers_.end() ? current->second->level_db.load() + 6 : -1000;
        for (auto &[id, p] : publishers_)
            if (p->video_pad && (current == publishers_.end() || p->level_db.load() > bar) && id != speaker_) {
                bar = p->level_db.load();
                best = id;
            }
        if (best.empty())
            return;
        auto &p = publishers_[best];
        pad = p->video_pad;
        participant = p->participant;
        session = p->session.lock();
    }
    speaker_ = best;
    if (grid_) {
        log_("participant " + participant + " is the active speaker");
    } else {
        set_active(video_sel_, pad);
        if (session)
            session->request_keyframe();
        log_("participant " + participant +
             " is the active speaker: their video goes to the caller (keyframe requested)");
    }
    if (speaker_changed_)
        speaker_changed_(participant);
}

void RoomMedia::end_streams()
{
    for (GstElement *sel : {audio_sel_, grid_ ? grid_ : video_sel_}) {
        GstPad *src = gst_element_get_static_pad(sel, "src");
        gst_pad_push_event(src, gst_event_new_eos());
        gst_object_unref(src);
    }
}

void RoomMedia::detach(Session &s, const std::function<void()> &close_session)
{
    std::unique_lock<std::mutex> guard(lock_);
    auto range = branches_.equal_range(s.id());
    std::vector<std::unique_ptr<Branch>> gone;
    for (auto it = range.first; it != range.second; ++it)
        gone.push_back(std::move(it->second));
    branches_.erase(range.first, range.second);
    std::unique_ptr<Publisher> publisher; // freed once its branches stopped (the level probe points into it)
    if (auto it = publishers_.find(s.id()); it != publishers_.end()) {
        publisher = std::move(it->second);
        publishers_.erase(it);
    }
    if (speaker_ == s.id())
        speaker_.clear();
    update_audio_route();
    guard.unlock();
    for (auto &b : gone) {
        if (b->tee_pad && gst_pad_is_linked(b->tee_pad)) {
            GstPad *peer = gst_pad_get_peer(b->tee_pad);
            gst_pad_unlink(b->tee_pad, peer);
            gst_object_unref(peer);
        }
    }
    close_session();
    // Stop everything, then release request pads, then remove: a branch may
    // hang off a tee that another branch of this session owns.
    for (auto &b : gone)
        for (GstElement *e : b->elements) {
            gst_element_set_locked_state(e, TRUE);
            gst_element_set_state(e, GST_STATE_NULL);
        }
    for (auto &b : gone) {
        if (b->tee_pad) {
            gst_element_release_request_pad(b->tee, b->tee_pad);
            gst_object_unref(b->tee_pad);
        }
        if (b->sink_pad) {
            gst_element_release_request_pad(b->sink_owner, b->sink_pad);
            gst_object_unref(b->sink_pad);
        }
    }
    for (auto &b : gone)
        for (GstElement *e : b->elements)
            gst_bin_remove(bin_, e);
    layout_grid();
    pick_speaker();
}

} // namespace webrtcdirect
