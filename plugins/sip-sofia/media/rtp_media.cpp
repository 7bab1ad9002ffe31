#include "media/rtp_media.hpp"

#include "rtp/rtp_pass.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>

namespace sipsofia {

namespace {
constexpr guint kMaxSendersPerStream = 4;
}

RtpMedia::RtpMedia(GstBin *bin, Port audio, Port video)
    : bin_(bin), audio_(bin, 0, std::move(audio.route), audio.input, audio.output),
      video_(bin, 1, std::move(video.route), video.input, video.output), alive_(std::make_shared<RtpMedia *>(this))
{
    audio_.dtmf_hook = [this](const DtmfDigit &d) {
        if (on_dtmf)
            on_dtmf(d.digit, d.duration_ms);
    };
    video_.keyframe_hook = [this] {
        post([this] {
            if (on_keyframe_by_signalling)
                on_keyframe_by_signalling();
        });
    };
}

RtpMedia::~RtpMedia()
{
    // Streaming threads copy alive_ (post()): they are all stopped before
    // it goes. Posted jobs run on this (the main) thread, never meanwhile.
    stop();
    close();
    alive_.reset();
}

bool RtpMedia::open(const std::string &address, std::string &error, bool video, const TransportFactory &make)
{
    close();
    auto factory = [&make](const char *label) -> RtpStream::TransportFactory {
        if (!make)
            return nullptr;
        return [&make, label] { return make(label); };
    };
    if (!audio_.open(address, error, factory("audio")))
        return false;
    if (video && !video_.open(address, error, factory("video"))) {
        close();
        return false;
    }
    return true;
}

void RtpMedia::when_ready(std::function<void(const std::string &error)> done)
{
    struct Waiting {
        int left = 0;
        std::function<void(const std::string &)> done;
    };
    auto w = std::make_shared<Waiting>();
    w->done = std::move(done);
    std::vector<RtpStream *> open;
    for (auto s : {&audio_, &video_})
        if (s->is_open())
            open.push_back(s);
    w->left = static_cast<int>(open.size());
    if (open.empty()) {
        w->done("no RTP transport is open");
        return;
    }
    // Reported from a main-loop callback of its own, not from inside the
    // transport's stack, and only if no close() came in between.
    const unsigned generation = generation_;
    for (auto s : open)
        s->transport().when_ready([this, w, generation](const std::string &error) {
            if (!w->done || (error.empty() && --w->left > 0))
                return;
            post([this, generation, done = std::move(w->done), error] {
                if (generation == generation_)
                    done(error);
            });
            w->done = nullptr;
        });
}

void RtpMedia::close()
{
    ++generation_;
    audio_.close();
    video_.close();
}

// Run `fn` on the main loop unless this object is gone by then.
void RtpMedia::post(std::function<void()> fn, guint delay_ms)
{
    struct Job {
        std::weak_ptr<RtpMedia *> alive;
        std::function<void()> fn;
    };
    auto job = new Job{alive_, std::move(fn)};
    auto run = [](gpointer data) -> gboolean {
        auto j = static_cast<Job *>(data);
        if (j->alive.lock())
            j->fn();
        return G_SOURCE_REMOVE;
    };
    auto done = [](gpointer data) { delete static_cast<Job *>(data); };
    g_timeout_add_full(G_PRIORITY_DEFAULT, delay_ms, run, job, done);
}

bool RtpMedia::start(const Codec &codec, const RemoteMedia &remote, std::string &error)
{
    Negotiation n;
    n.audio.active = true;
    n.audio.codec = codec;
    n.audio.remote_address = remote.address;
    n.audio.remote_rtp_port = remote.rtp_port;
    n.audio.remote_rtcp_port = remote.rtcp_port;
    return start(n, error);
}

bool RtpMedia::matches(const Negotiation &n) const
{
    auto same = [](const RtpStream &s, const Stream &want) {
        if (s.running() != want.active)
            return false;
        if (!want.active)
            return true;
        Stream have = s.params();
        have.remote_sends = want.remote_sends; // direction alone needs no new chain
        return have == want;
    };
    return running() && same(audio_, n.audio) && same(video_, n.video);
}

bool RtpMedia::start(const Negotiation &n, std::string &error)
{
    stop();
    if (!n.audio.active && !n.video.active) {
        error = "no active stream to start";
        return false;
    }
    if (n.video.active && !video_.is_open()) {
        error = "video negotiated without a video socket pair";
        return false;
    }
    rtpbin_ = gst_element_factory_make("rtpbin", nullptr);
    if (!rtpbin_) {
        error = "GStreamer element 'rtpbin' is missing";
        return false;
    }
    gst_bin_add(bin_, rtpbin_);
    // Each sender SSRC costs a jitter buffer and its thread: at most a few
    // at once (a phone changing SSRC now and then needs two), and the old
    // ones go when they time out.
    g_object_set(rtpbin_, "latency", jitter_ms_, "max-streams", kMaxSendersPerStream, "autoremove", TRUE, nullptr);
    // AVPF: RTCP feedback (PLI/FIR) leaves at once instead of with the next
    // regular report.
    const bool srtp = (n.audio.active && n.audio.srtp.on) || (n.video.active && n.video.srtp.on);
    if (n.video.active && (n.video.nack_pli || n.video.ccm_fir))
        gst_util_set_object_arg(G_OBJECT(rtpbin_), "rtp-profile", srtp ? "savpf" : "avpf");
    g_signal_connect(rtpbin_, "request-pt-map", G_CALLBACK(on_request_pt_map), this);
    // A forwarding stream gets no jitter buffer: its packets go on as they
    // came (the far end has one); rtp_pass stands where rtpbin wants one
    // (its type registered here, on the main loop).
    mgwrtp::rtp_pass_type();
    g_signal_connect(rtpbin_, "request-jitterbuffer",
                     G_CALLBACK(+[](GstElement *, guint session, gpointer data) -> GstElement * {
                         auto self = static_cast<RtpMedia *>(data);
                         const RtpStream &s = session ? self->video_ : self->audio_;
                         return s.forwards_rtp() ? mgwrtp::make_rtp_pass() : nullptr;
                     }),
                     this);
    // Asked for as build() requests rtpbin's pads; a stream without SRTP
    // answers nullptr (no element in its path).
    if (srtp) {
        g_signal_connect(rtpbin_, "request-rtp-encoder", G_CALLBACK(on_request_rtp_encoder), this);
        g_signal_connect(rtpbin_, "request-rtcp-encoder", G_CALLBACK(on_request_rtcp_encoder), this);
        g_signal_connect(rtpbin_, "request-rtp-decoder", G_CALLBACK(on_request_decoder), this);
        g_signal_connect(rtpbin_, "request-rtcp-decoder", G_CALLBACK(on_request_decoder), this);
    }
    g_signal_connect(rtpbin_, "pad-added", G_CALLBACK(on_pad_added), this);
    g_signal_connect(rtpbin_, "pad-removed", G_CALLBACK(on_pad_removed), this);

    if ((n.audio.active && !audio_.build(rtpbin_, n.audio, sources_, stranger_log_, error)) ||
        (n.video.active && !video_.build(rtpbin_, n.video, sources_, stranger_log_, error))) {
        stop();
        return false;
    }
    // Downstream first, so nothing pushes into an element that is not ready.
    std::vector<GstElement *> order;
    for (auto s : {&audio_, &video_})
        order.insert(order.end(), s->sending().begin(), s->sending().end());
    order.push_back(rtpbin_);
    for (auto s : {&audio_, &video_})
        order.insert(order.end(), s->receiving().begin(), s->receiving().end());
    for (GstElement *e : order)
        if (!gst_element_sync_state_with_parent(e)) {
            error = std::string("cannot start ") + GST_ELEMENT_NAME(e);
            stop();
            return false;
        }
    audio_.route();
    video_.route();
    return true;
}

GstStructure *RtpMedia::stats() const
{
    if (!rtpbin_)
        return nullptr;
    GstStructure *out = gst_structure_new_empty("rtp.stats");
    for (guint session = 0; session < 2; ++session) {
        const RtpStream &stream = session ? video_ : audio_;
        if (!stream.running())
            continue;
        GObject *rtp_session = nullptr;
        g_signal_emit_by_name(rtpbin_, "get-session", session, &rtp_session);
        if (!rtp_session)
            continue;
        GstStructure *st = nullptr;
        g_object_get(rtp_session, "stats", &st, nullptr);
        g_object_unref(rtp_session);
        if (!st)
            continue;
        guint64 sent = 0, received = 0;
        gint64 lost = 0;
        double jitter_ms = 0;
        // One structure per source: ours ("internal") and the peer's, in a
        // GValueArray (rtpsession's type, deprecated by GLib but its API).
        const GValue *sources = gst_structure_get_value(st, "source-stats");
        G_GNUC_BEGIN_IGNORE_DEPRECATIONS
        GValueArray *array = sources && G_VALUE_TYPE(sources) == g_value_array_get_type()
                                 ? static_cast<GValueArray *>(g_value_get_boxed(sources))
                                 : nullptr;
        for (guint i = 0; array && i < array->n_values; ++i) {
            const GValue *item = g_value_array_get_nth(array, i);
            if (!item || !GST_VALUE_HOLDS_STRUCTURE(item))
                continue;
            const GstStructure *src = gst_value_get_structure(item);
            gboolean internal = FALSE;
            gst_structure_get_boolean(src, "internal", &internal);
            guint64 n = 0;
            if (internal) {
                if (gst_structure_get_uint64(src, "packets-sent", &n))
                    sent += n;
                continue;
            }
            gint lost_here = 0, rate = 0;
            guint jitter = 0;
            if (gst_structure_get_uint64(src, "packets-received", &n))
                received += n;
            if (gst_structure_get_int(src, "packets-lost", &lost_here))
                lost += lost_here;
            if (gst_structure_get_uint(src, "jitter", &jitter) && gst_structure_get_int(src, "clock-rate", &rate) &&
                rate > 0)
                jitter_ms = std::max(jitter_ms, 1000.0 * jitter / rate);
        }
        G_GNUC_END_IGNORE_DEPRECATIONS
        gst_structure_free(st);
        const std::string prefix = session ? "video_" : "audio_";
        gst_structure_set(out, (prefix + "packets_sent").c_str(), G_TYPE_UINT64, sent,
                          (prefix + "packets_received").c_str(), G_TYPE_UINT64, received,
                          (prefix + "packets_lost").c_str(), G_TYPE_INT64, lost, (prefix + "jitter_ms").c_str(),
                          G_TYPE_DOUBLE, jitter_ms, nullptr);
    }
    return out;
}

void RtpMedia::stop()
{
    if (!rtpbin_)
        return;
    // Park the inputs first: a live source feeding them (a tone, a room)
    // keeps streaming into the parking sink instead of meeting FLUSHING and
    // pausing for good. Then the sockets' sources, so that no packet is on
    // its way into rtpbin while rtpbin stops (an RTCP packet of a relayed
    // ICE call once met it half stopped: "Internal data stream error",
    // reason error, and the gateway exited 1). Then sinks first: their clock
    // waits end, so every streaming thread of the chain gets FLUSHING (not an
    // error) and stops.
    std::vector<GstElement *> order;
    auto is_source = [](GstElement *e) { return GST_OBJECT_FLAG_IS_SET(e, GST_ELEMENT_FLAG_SOURCE); };
    for (auto s : {&audio_, &video_}) {
        if (s->running())
            s->park();
        std::copy_if(s->receiving().begin(), s->receiving().end(), std::back_inserter(order), is_source);
    }
    for (auto s : {&audio_, &video_})
        order.insert(order.end(), s->sending().begin(), s->sending().end());
    order.push_back(rtpbin_);
    for (auto s : {&audio_, &video_})
        std::copy_if(s->receiving().begin(), s->receiving().end(), std::back_inserter(order),
                     [&](GstElement *e) { return !is_source(e); });
    for (GstElement *e : order)
        gst_element_set_state(e, GST_STATE_NULL);
    for (GstElement *e : order)
        gst_bin_remove(bin_, e); // the bin held the only reference
    audio_.forget();
    video_.forget();
    rtpbin_ = nullptr;
}

RemoteMedia RtpMedia::remote() const
{
    const Stream &a = audio_.params();
    return {a.remote_address, a.remote_rtp_port, a.remote_rtcp_port};
}

gint64 RtpMedia::last_rtp() const
{
    gint64 t = audio_.running() ? audio_.last_rtp() : 0;
    if (video_.running())
        t = std::max(t, video_.last_rtp());
    return t;
}

void RtpMedia::request_keyframe()
{
    if (video_.running())
        video_.request_keyframe();
}

// rtpbin's streaming thread: GStreamer work only.
void RtpMedia::on_pad_added(GstElement *, GstPad *pad, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    gchar *name = gst_pad_get_name(pad);
    const bool audio = g_str_has_prefix(name, "recv_rtp_src_0_");
    const bool video = g_str_has_prefix(name, "recv_rtp_src_1_");
    g_free(name);
    if (audio)
        self->audio_.link_recv_pad(pad);
    if (video) {
        self->video_.link_recv_pad(pad);
        // A new sender: ask it for a keyframe at once rather than waiting
        // for its next one (the caps carrying its SSRC are set by then).
        self->post([self] { self->request_keyframe(); }, 100);
    }
}

// A sender's pad goes (its SSRC timed out, a BYE, the chain stopping).
void RtpMedia::on_pad_removed(GstElement *, GstPad *pad, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    self->audio_.unlink_recv_pad(pad);
    self->video_.unlink_recv_pad(pad);
}

GstElement *RtpMedia::on_request_rtp_encoder(GstElement *, guint session, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    return (session == 0 ? self->audio_ : self->video_).srtp_encoder(false);
}

GstElement *RtpMedia::on_request_rtcp_encoder(GstElement *, guint session, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    return (session == 0 ? self->audio_ : self->video_).srtp_encoder(true);
}

GstElement *RtpMedia::on_request_decoder(GstElement *, guint session, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    return (session == 0 ? self->audio_ : self->video_).srtp_decoder();
}

GstCaps *RtpMedia::on_request_pt_map(GstElement *, guint session, guint pt, gpointer data)
{
    auto self = static_cast<RtpMedia *>(data);
    return (session == 0 ? self->audio_ : self->video_).pt_caps(pt);
}

} // namespace sipsofia
