#include "local_peer.hpp"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <chrono>
#include <condition_variable>
#include <stdexcept>

namespace browsercapture {
namespace {

constexpr const char *opus_caps =
    "application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,encoding-params=(string)2,payload=111";
constexpr const char *vp8_caps = "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=96,"
                                 "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true";

GstElement *make(const char *factory)
{
    GstElement *e = gst_element_factory_make(factory, nullptr);
    if (!e)
        throw std::runtime_error(std::string("GStreamer element '") + factory + "' is missing");
    return e;
}

// Unlinks `src` from its peer between two buffers: after the caller stopped
// new ones (the drop probe), the one in flight finishes first, so nothing
// meets a pad that is going away (FLUSHING would stop the upstream queue).
void unlink_when_idle(GstPad *src)
{
    struct Wait {
        std::mutex m;
        std::condition_variable cv;
        bool done = false;
    };
    auto wait = std::make_shared<Wait>();
    auto *held = new std::shared_ptr<Wait>(wait);
    gst_pad_add_probe(
        src, GST_PAD_PROBE_TYPE_IDLE,
        [](GstPad *pad, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
            if (GstPad *peer = gst_pad_get_peer(pad)) {
                gst_pad_unlink(pad, peer);
                gst_object_unref(peer);
            }
            auto &w = **static_cast<std::shared_ptr<Wait> *>(data);
            std::lock_guard<std::mutex> g(w.m);
            w.done = true;
            w.cv.notify_all();
            return GST_PAD_PROBE_REMOVE;
        },
        held, [](gpointer data) { delete static_cast<std::shared_ptr<Wait> *>(data); });
    std::unique_lock<std::mutex> g(wait->m);
    wait->cv.wait_for(g, std::chrono::milliseconds(500), [&] { return wait->done; });
}

} // namespace

LocalPeer::LocalPeer(GstBin *bin, GstPad *audio_in, GstPad *video_in, GstPad *audio_out, GstPad *video_out,
                     guint jitter_ms, Callbacks cb)
    : bin_(bin), jitter_ms_(jitter_ms), cb_(std::move(cb))
{
    for (auto [sel, ghost] : {std::pair{&audio_sel_, audio_out}, std::pair{&video_sel_, video_out}}) {
        *sel = make("input-selector");
        g_object_set(*sel, "sync-streams", FALSE, "cache-buffers", FALSE, nullptr);
        gst_bin_add(bin_, *sel);
        GstPad *src = gst_element_get_static_pad(*sel, "src");
        gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), src);
        gst_object_unref(src);
    }
    make_sender(audio_, audio_in, "audio_queue", "rtpopuspay", opus_caps);
    make_sender(video_, video_in, "video_queue", "rtpvp8pay", vp8_caps);
    g_object_set(audio_.pay, "pt", 111, nullptr);
    g_object_set(video_.pay, "pt", 96, "picture-id-mode", 2 /* 15-bit */, nullptr);
}

LocalPeer::~LocalPeer()
{
    *self_ = nullptr;
    close();
    for (Sender *s : {&audio_, &video_})
        if (s->src)
            gst_object_unref(s->src);
}

void LocalPeer::make_sender(Sender &s, GstPad *ghost, const char *queue_name, const char *payloader, const char *caps)
{
    GstElement *queue = s.queue = make("queue");
    gst_object_set_name(GST_OBJECT(queue), queue_name);
    // Leaky: a page that is not taking media yet never holds the caller back.
    g_object_set(queue, "max-size-buffers", 50u, "max-size-time", guint64(0), "max-size-bytes", 0u, "leaky", 2,
                 nullptr);
    s.pay = make(payloader);
    GstElement *filter = make("capsfilter");
    GstCaps *c = gst_caps_from_string(caps);
    GstStructure *st = gst_caps_get_structure(c, 0);
    gst_structure_remove_fields(st, "rtcp-fb-nack-pli", "rtcp-fb-ccm-fir", nullptr);
    g_object_set(filter, "caps", c, nullptr);
    gst_caps_unref(c);
    gst_bin_add_many(bin_, queue, s.pay, filter, nullptr);
    if (!gst_element_link_many(queue, s.pay, filter, nullptr))
        throw std::runtime_error(std::string("cannot link ") + payloader);
    GstPad *sink = gst_element_get_static_pad(queue, "sink");
    gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), sink);
    gst_object_unref(sink);
    s.src = gst_element_get_static_pad(filter, "src");
    gst_pad_add_probe(
        s.src, GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        [](GstPad *, GstPadProbeInfo *, gpointer data) -> GstPadProbeReturn {
            return static_cast<Sender *>(data)->attached ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
        },
        &s, nullptr);
}

void LocalPeer::later(std::function<void(LocalPeer &)> fn)
{
    struct Job {
        std::weak_ptr<LocalPeer *> self;
        std::function<void(LocalPeer &)> fn;
    };
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            auto *job = static_cast<Job *>(data);
            auto self = job->self.lock();
            if (self && *self) {
                try {
                    job->fn(**self);
                } catch (const std::exception &e) {
                    if ((*self)->cb_.fail_node)
                        (*self)->cb_.fail_node(std::string("local peer: ") + e.what());
                }
            }
            return G_SOURCE_REMOVE;
        },
        new Job{self_, std::move(fn)}, [](gpointer data) { delete static_cast<Job *>(data); });
}

GstPad *LocalPeer::request_sendrecv(const char *caps_text)
{
    GstCaps *caps = gst_caps_from_string(caps_text);
    GstPadTemplate *templ = gst_element_get_pad_template(webrtc_, "sink_%u");
    GstPad *pad = gst_element_request_pad(webrtc_, templ, nullptr, caps);
    if (pad) {
        GstWebRTCRTPTransceiver *trans = nullptr;
        g_object_get(pad, "transceiver", &trans, nullptr);
        if (trans) {
            g_object_set(trans, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV, "codec-preferences", caps,
                         nullptr);
            gst_object_unref(trans);
        }
    }
    gst_caps_unref(caps);
    return pad;
}

void LocalPeer::detach_senders()
{
    for (Sender *s : {&audio_, &video_}) {
        s->attached = false;
        if (gst_pad_is_linked(s->src))
            unlink_when_idle(s->src);
    }
}

void LocalPeer::close()
{
    if (gather_timer_) {
        g_source_remove(gather_timer_);
        gather_timer_ = 0;
    }
    if (!webrtc_)
        return;
    detach_senders();
    g_signal_handlers_disconnect_by_data(webrtc_, this);
    gst_element_set_locked_state(webrtc_, TRUE);
    gst_element_set_state(webrtc_, GST_STATE_NULL);
    std::vector<Depayloader> depay;
    {
        std::lock_guard<std::mutex> g(lock_);
        depay.swap(depayloaders_);
    }
    for (const Depayloader &d : depay) {
        gst_element_set_locked_state(d.element, TRUE);
        gst_element_set_state(d.element, GST_STATE_NULL);
        gst_bin_remove(bin_, d.element);
        if (d.selector_pad) {
            GstElement *sel = gst_pad_get_parent_element(d.selector_pad);
            gst_element_release_request_pad(sel, d.selector_pad);
            gst_object_unref(sel);
            gst_object_unref(d.selector_pad);
        }
    }
    gst_bin_remove(bin_, webrtc_);
    webrtc_ = nullptr;
    if (ice_agent_) {
        gst_object_unref(ice_agent_);
        ice_agent_ = nullptr;
    }
    offered_ = connected_ = false;
}

void LocalPeer::restart()
{
    close();
    ++generation_;
    webrtc_ = make("webrtcbin");
    g_object_set(webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, "latency", jitter_ms_, nullptr);
    g_object_get(webrtc_, "ice-agent", &ice_agent_, nullptr); // webrtcbin 1.22 returns no reference of its own
    if (ice_agent_) {
        // No ICE-TCP, no UPnP (it multicasts SSDP on every interface); the
        // page is on this host: host candidates are all it takes.
        g_object_set(ice_agent_, "ice-tcp", FALSE, nullptr);
        GObject *agent = nullptr;
        g_object_get(ice_agent_, "agent", &agent, nullptr);
        if (agent) {
            g_object_set(agent, "upnp", FALSE, nullptr);
            g_object_unref(agent);
        }
    }
    gst_bin_add(bin_, webrtc_);
    GstPad *a = request_sendrecv(opus_caps), *v = request_sendrecv(vp8_caps);
    if (!a || !v)
        throw std::runtime_error("webrtcbin refused a sendrecv transceiver");
    g_signal_connect(webrtc_, "pad-added", G_CALLBACK(+[](GstElement *, GstPad *pad, gpointer self) {
                         static_cast<LocalPeer *>(self)->pad_added(pad);
                     }),
                     this);
    g_signal_connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(+[](GstElement *, GParamSpec *, gpointer p) {
                         auto *self = static_cast<LocalPeer *>(p);
                         GstWebRTCICEGatheringState state;
                         g_object_get(self->webrtc_, "ice-gathering-state", &state, nullptr);
                         if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) {
                             const unsigned gen = self->generation_;
                             self->later([gen](LocalPeer &me) {
                                 if (me.generation_ == gen)
                                     me.when_gathered();
                             });
                         }
                     }),
                     this);
    g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(+[](GstElement *e, GParamSpec *, gpointer p) {
                         auto *self = static_cast<LocalPeer *>(p);
                         GstWebRTCPeerConnectionState state;
                         g_object_get(e, "connection-state", &state, nullptr);
                         const unsigned gen = self->generation_;
                         self->later([gen, state](LocalPeer &me) {
                             if (me.generation_ != gen)
                                 return;
                             if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED && !me.connected_) {
                                 me.connected_ = true;
                                 if (me.cb_.connected)
                                     me.cb_.connected();
                             } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED && me.cb_.failed) {
                                 me.cb_.failed("the local WebRTC session with the page failed (ICE or DTLS)");
                             }
                         });
                     }),
                     this);
    gst_element_sync_state_with_parent(webrtc_);
    // Linked only now that webrtcbin's pads are active: a buffer pushed into
    // a pad still flushing returns FLUSHING, which stops the queue feeding
    // the payloader for good (seen: the page then never got the caller).
    if (gst_pad_link(audio_.src, a) != GST_PAD_LINK_OK || gst_pad_link(video_.src, v) != GST_PAD_LINK_OK)
        throw std::runtime_error("cannot link the payloaders to webrtcbin");
    audio_.attached = video_.attached = true;
    const unsigned gen = generation_;
    GstPromise *promise = gst_promise_new_with_change_func(
        [](GstPromise *p, gpointer data) {
            auto *job = static_cast<std::pair<LocalPeer *, unsigned> *>(data);
            // Runs on webrtcbin's thread: hand the reply to the main loop.
            LocalPeer *self = job->first;
            const unsigned g = job->second;
            gst_promise_ref(p);
            self->later([p, g](LocalPeer &me) {
                if (me.generation_ == g)
                    me.on_offer_created(p);
                gst_promise_unref(p);
            });
        },
        new std::pair<LocalPeer *, unsigned>(this, gen),
        [](gpointer data) { delete static_cast<std::pair<LocalPeer *, unsigned> *>(data); });
    g_signal_emit_by_name(webrtc_, "create-offer", nullptr, promise);
    // A host candidate is all this local session needs: do not wait long
    // for the rest of the gathering.
    gather_timer_ = g_timeout_add(2000, [](gpointer p) -> gboolean {
        auto *self = static_cast<LocalPeer *>(p);
        self->gather_timer_ = 0;
        self->when_gathered();
        return G_SOURCE_REMOVE;
    }, this);
}

void LocalPeer::on_offer_created(GstPromise *promise)
{
    if (gst_promise_wait(promise) != GST_PROMISE_RESULT_REPLIED)
        throw std::runtime_error("webrtcbin gave no offer");
    const GstStructure *reply = gst_promise_get_reply(promise);
    GstWebRTCSessionDescription *offer = nullptr;
    if (reply)
        gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
    if (!offer) {
        if (cb_.failed)
            cb_.failed("webrtcbin could not create an offer");
        return;
    }
    g_signal_emit_by_name(webrtc_, "set-local-description", offer, nullptr);
    gst_webrtc_session_description_free(offer);
}

void LocalPeer::when_gathered()
{
    if (offered_ || !webrtc_)
        return;
    GstWebRTCSessionDescription *local = nullptr;
    g_object_get(webrtc_, "local-description", &local, nullptr);
    if (!local)
        return; // not set yet: the gathering-complete notification or the timer comes again
    gchar *text = gst_sdp_message_as_text(local->sdp);
    std::string sdp = text;
    g_free(text);
    gst_webrtc_session_description_free(local);
    if (sdp.find("a=candidate") == std::string::npos && gather_timer_)
        return; // nothing gathered yet and time left
    offered_ = true;
    if (gather_timer_) {
        g_source_remove(gather_timer_);
        gather_timer_ = 0;
    }
    if (cb_.offer)
        cb_.offer(sdp);
}

void LocalPeer::apply_answer(const std::string &sdp)
{
    if (!webrtc_ || !offered_)
        throw std::runtime_error("an answer without an offer");
    GstSDPMessage *msg = nullptr;
    if (gst_sdp_message_new_from_text(sdp.c_str(), &msg) != GST_SDP_OK || !msg)
        throw std::runtime_error("the page's answer is not SDP");
    GstWebRTCSessionDescription *answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, msg);
    g_signal_emit_by_name(webrtc_, "set-remote-description", answer, nullptr);
    gst_webrtc_session_description_free(answer);
}

void LocalPeer::pad_added(GstPad *pad)
{
    if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
        return;
    GstCaps *caps = gst_pad_get_current_caps(pad);
    if (!caps)
        caps = gst_pad_query_caps(pad, nullptr);
    const GstStructure *st = caps && gst_caps_get_size(caps) ? gst_caps_get_structure(caps, 0) : nullptr;
    const char *encoding = st ? gst_structure_get_string(st, "encoding-name") : nullptr;
    const bool audio = encoding && g_ascii_strcasecmp(encoding, "OPUS") == 0;
    const bool video = encoding && g_ascii_strcasecmp(encoding, "VP8") == 0;
    if (caps)
        gst_caps_unref(caps);
    GstElement *depay = gst_element_factory_make(audio ? "rtpopusdepay" : video ? "rtpvp8depay" : "fakesink", nullptr);
    if (!depay)
        return;
    if (!audio && !video)
        g_object_set(depay, "async", FALSE, "sync", FALSE, nullptr);
    gst_bin_add(bin_, depay);
    GstPad *selector_pad = nullptr;
    if (audio || video) {
        GstElement *sel = audio ? audio_sel_ : video_sel_;
        selector_pad = gst_element_request_pad_simple(sel, "sink_%u");
        GstPad *src = gst_element_get_static_pad(depay, "src");
        gst_pad_link(src, selector_pad);
        gst_object_unref(src);
        g_object_set(sel, "active-pad", selector_pad, nullptr);
    }
    {
        std::lock_guard<std::mutex> g(lock_);
        depayloaders_.push_back({depay, selector_pad});
    }
    GstPad *sink = gst_element_get_static_pad(depay, "sink");
    gst_pad_link(pad, sink);
    gst_object_unref(sink);
    gst_element_sync_state_with_parent(depay);
}

void LocalPeer::request_keyframe()
{
    GstPad *src = gst_element_get_static_pad(video_sel_, "src");
    gst_pad_send_event(src, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(src);
}

bool LocalPeer::request_input_keyframe()
{
    GstPad *sink = gst_element_get_static_pad(video_.queue, "sink");
    const bool sent =
        gst_pad_push_event(sink, gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_object_unref(sink);
    return sent;
}

void LocalPeer::end_streams()
{
    for (GstElement *sel : {audio_sel_, video_sel_}) {
        GstPad *src = gst_element_get_static_pad(sel, "src");
        gst_pad_push_event(src, gst_event_new_eos());
        gst_object_unref(src);
    }
}

} // namespace browsercapture
