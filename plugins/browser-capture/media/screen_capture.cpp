#include "screen_capture.hpp"

#include <stdexcept>

namespace browsercapture {
namespace {

// (A GType name is process-wide: prefixed so that no other plugin can take it.)
// A bin that keeps its elements' errors for its owner instead of passing
// them up (where the gateway would stop on them at once, as a media error).
struct MgwBrowserCaptureBin {
    GstBin parent;
    std::weak_ptr<ScreenCapture *> *owner;
    std::function<void(const std::string &)> *failed;
};
struct MgwBrowserCaptureBinClass {
    GstBinClass parent_class;
};

G_DEFINE_TYPE(MgwBrowserCaptureBin, mgw_browser_capture_bin, GST_TYPE_BIN)

void mgw_browser_capture_bin_handle_message(GstBin *bin, GstMessage *msg)
{
    auto *self = reinterpret_cast<MgwBrowserCaptureBin *>(bin);
    if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR || !self->owner) {
        GST_BIN_CLASS(mgw_browser_capture_bin_parent_class)->handle_message(bin, msg);
        return;
    }
    GError *err = nullptr;
    gst_message_parse_error(msg, &err, nullptr);
    gchar *name = gst_object_get_name(GST_MESSAGE_SRC(msg));
    struct Job {
        std::weak_ptr<ScreenCapture *> owner;
        std::function<void(const std::string &)> failed;
        std::string why;
    };
    auto *job = new Job{*self->owner, *self->failed,
                        std::string(name ? name : "capture") + ": " + (err ? err->message : "error")};
    g_free(name);
    if (err)
        g_error_free(err);
    gst_message_unref(msg);
    // Streaming thread: to the main loop, unless the capture is gone by then.
    g_main_context_invoke_full(
        nullptr, G_PRIORITY_DEFAULT,
        [](gpointer data) -> gboolean {
            auto *j = static_cast<Job *>(data);
            auto alive = j->owner.lock();
            if (alive && *alive && (*alive)->running() && j->failed)
                j->failed(j->why);
            return G_SOURCE_REMOVE;
        },
        job, [](gpointer data) { delete static_cast<Job *>(data); });
}

void mgw_browser_capture_bin_finalize(GObject *object)
{
    auto *self = reinterpret_cast<MgwBrowserCaptureBin *>(object);
    delete self->owner;
    delete self->failed;
    G_OBJECT_CLASS(mgw_browser_capture_bin_parent_class)->finalize(object);
}

void mgw_browser_capture_bin_class_init(MgwBrowserCaptureBinClass *klass)
{
    GST_BIN_CLASS(klass)->handle_message = mgw_browser_capture_bin_handle_message;
    G_OBJECT_CLASS(klass)->finalize = mgw_browser_capture_bin_finalize;
}

void mgw_browser_capture_bin_init(MgwBrowserCaptureBin *self)
{
    self->owner = nullptr;
    self->failed = nullptr;
}

GstElement *make(const char *factory, const char *name)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        throw std::runtime_error(std::string("GStreamer element '") + factory + "' is missing" +
                                 (g_str_equal(factory, "ximagesrc")  ? " (gstreamer1.0-x)"
                                  : g_str_equal(factory, "pulsesrc") ? " (gstreamer1.0-pulseaudio)"
                                                                     : ""));
    return e;
}

GstCaps *caps(const std::string &text)
{
    return gst_caps_from_string(text.c_str());
}

std::string video_caps(const ScreenCapture::Source &s)
{
    return "video/x-raw,framerate=" + std::to_string(s.framerate) + "/1";
}

constexpr const char *audio_caps = "audio/x-raw,format=S16LE,layout=interleaved,rate=48000,channels=2";

} // namespace

std::string ScreenCapture::describe(const Source &s)
{
    return "ximagesrc display-name=" + s.display + " use-damage=false show-pointer=false endx=" +
           std::to_string(s.width - 1) + " endy=" + std::to_string(s.height - 1) + " ! " + video_caps(s) +
           " ! videoconvert ! video/x-raw,format=I420 ! queue; pulsesrc server=" + s.pulse_server +
           " device=" + s.monitor + " ! " + audio_caps + " ! queue";
}

ScreenCapture::ScreenCapture(GstBin *bin, GstPad *audio_out, GstPad *video_out,
                             std::function<void(const std::string &)> failed)
    : bin_(bin), audio_out_(audio_out), video_out_(video_out), failed_(std::move(failed))
{
}

ScreenCapture::~ScreenCapture()
{
    *self_ = nullptr;
    stop();
}

void ScreenCapture::start(const Source &s)
{
    if (capture_)
        return;
    auto *capture = static_cast<MgwBrowserCaptureBin *>(
        g_object_new(mgw_browser_capture_bin_get_type(), "name", "screen_capture", nullptr));
    GstBin *cbin = GST_BIN(capture);
    gst_object_ref_sink(capture);
    capture->owner = new std::weak_ptr<ScreenCapture *>(self_);
    capture->failed = new std::function<void(const std::string &)>(failed_);
    try {
        GstElement *ximage = make("ximagesrc", "screen");
        // The page's area (the screen may be larger: devices_mode.cpp).
        g_object_set(ximage, "display-name", s.display.c_str(), "use-damage", FALSE, "show-pointer", FALSE, "startx",
                     0u, "starty", 0u, "endx", guint(s.width - 1), "endy", guint(s.height - 1), nullptr);
        GstElement *vrate = make("capsfilter", nullptr), *convert = make("videoconvert", nullptr);
        GstElement *vformat = make("capsfilter", nullptr), *vqueue = make("queue", nullptr);
        GstCaps *c = caps(video_caps(s));
        g_object_set(vrate, "caps", c, nullptr);
        gst_caps_unref(c);
        c = caps("video/x-raw,format=I420");
        g_object_set(vformat, "caps", c, nullptr);
        gst_caps_unref(c);
        GstElement *pulse = make("pulsesrc", "room_sound");
        // Not the pipeline's clock: the sound server never paces the gateway.
        g_object_set(pulse, "server", s.pulse_server.c_str(), "device", s.monitor.c_str(), "client-name", "mediagw",
                     "provide-clock", FALSE, nullptr);
        GstElement *aformat = make("capsfilter", nullptr), *aqueue = make("queue", nullptr);
        c = caps(audio_caps);
        g_object_set(aformat, "caps", c, nullptr);
        gst_caps_unref(c);
        // Leaky: a slow consumer drops old frames rather than stalling the capture.
        for (GstElement *q : {vqueue, aqueue})
            g_object_set(q, "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", guint64(300 * GST_MSECOND),
                         "leaky", 2, nullptr);
        gst_bin_add_many(cbin, ximage, vrate, convert, vformat, vqueue, pulse, aformat, aqueue, nullptr);
        if (!gst_element_link_many(ximage, vrate, convert, vformat, vqueue, nullptr) ||
            !gst_element_link_many(pulse, aformat, aqueue, nullptr))
            throw std::runtime_error("cannot link the screen capture");
        for (auto [q, name] : {std::pair{vqueue, "video"}, std::pair{aqueue, "audio"}}) {
            GstPad *src = gst_element_get_static_pad(q, "src");
            gst_element_add_pad(GST_ELEMENT(cbin), gst_ghost_pad_new(name, src));
            gst_object_unref(src);
        }
    } catch (...) {
        gst_object_unref(capture);
        throw;
    }
    gst_bin_add(bin_, GST_ELEMENT(capture));
    capture_ = GST_ELEMENT(capture);
    for (auto [ghost, name] : {std::pair{video_out_, "video"}, std::pair{audio_out_, "audio"}}) {
        GstPad *src = gst_element_get_static_pad(capture_, name);
        gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), src);
        gst_object_unref(src);
    }
    gst_element_sync_state_with_parent(capture_);
}

void ScreenCapture::stop()
{
    if (!capture_)
        return;
    GstElement *capture = capture_;
    capture_ = nullptr;
    gst_element_set_locked_state(capture, TRUE);
    gst_element_set_state(capture, GST_STATE_NULL);
    for (GstPad *ghost : {video_out_, audio_out_})
        gst_ghost_pad_set_target(GST_GHOST_PAD(ghost), nullptr);
    gst_bin_remove(bin_, capture);
    gst_object_unref(capture);
}

void ScreenCapture::end_streams()
{
    for (GstPad *ghost : {audio_out_, video_out_})
        gst_pad_push_event(ghost, gst_event_new_eos());
}

} // namespace browsercapture
