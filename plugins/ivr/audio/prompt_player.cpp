#include "audio/prompt_player.hpp"

#include <gst/app/gstappsrc.h>

#include <algorithm>
#include <stdexcept>

namespace ivr {
namespace {

constexpr size_t kBlock = kPromptRate / 50;       // 20 ms
constexpr GstClockTime kAhead = 200 * GST_MSECOND; // queued ahead of the running time at most
constexpr GstClockTime kLead = 40 * GST_MSECOND;  // a new prompt starts this far ahead (mixer latency)

GstCaps *prompt_caps()
{
    return gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, kPromptRate,
                               "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr);
}

GstElement *add(GstBin *bin, const char *factory, const char *name)
{
    GstElement *e = gst_element_factory_make(factory, name);
    if (!e)
        throw std::runtime_error(std::string("the GStreamer element ") + factory + " is missing");
    gst_bin_add(bin, e);
    return e;
}

void link(GstElement *a, GstElement *b)
{
    if (!gst_element_link(a, b))
        throw std::runtime_error(std::string("cannot link ") + GST_ELEMENT_NAME(a) + " to " + GST_ELEMENT_NAME(b));
}

} // namespace

PromptPlayer::PromptPlayer(GstBin *bin, GstPad *output_ghost, GstPad *input_ghost) : bin_(bin)
{
    GstElement *silence = add(bin, "audiotestsrc", "silence");
    GstElement *silence_caps = add(bin, "capsfilter", nullptr);
    appsrc_ = add(bin, "appsrc", "prompts");
    GstElement *mixer = add(bin, "audiomixer", "mix");
    GstElement *out_caps = add(bin, "capsfilter", nullptr);
    GstElement *room_queue = add(bin, "queue", "room_queue");
    GstElement *room_convert = add(bin, "audioconvert", nullptr);
    GstElement *room_resample = add(bin, "audioresample", nullptr);

    GstCaps *caps = prompt_caps();
    g_object_set(silence, "wave", 4 /* silence */, "is-live", TRUE, "samplesperbuffer", (int)kBlock, nullptr);
    g_object_set(silence_caps, "caps", caps, nullptr);
    g_object_set(appsrc_, "caps", caps, "format", GST_FORMAT_TIME, "is-live", TRUE, "min-latency", (gint64)0,
                 "max-bytes", (guint64)(kPromptRate * 2), nullptr);
    g_object_set(out_caps, "caps", caps, nullptr);
    gst_caps_unref(caps);
    // The room's audio must never hold the mix back: a late or stuck room loses its oldest audio.
    g_object_set(room_queue, "leaky", 2 /* downstream */, "max-size-time", (guint64)(200 * GST_MSECOND),
                 "max-size-buffers", 0u, "max-size-bytes", 0u, nullptr);

    link(silence, silence_caps);
    link(silence_caps, mixer);
    link(appsrc_, mixer);
    link(room_queue, room_convert);
    link(room_convert, room_resample);
    GstPad *resampled = gst_element_get_static_pad(room_resample, "src");
    room_pad_ = gst_element_request_pad_simple(mixer, "sink_%u");
    const bool linked = room_pad_ && gst_pad_link(resampled, room_pad_) == GST_PAD_LINK_OK;
    gst_object_unref(resampled);
    if (!linked)
        throw std::runtime_error("cannot link the room's audio to the mixer");
    g_object_set(room_pad_, "mute", TRUE, nullptr);
    link(mixer, out_caps);

    GstPad *out = gst_element_get_static_pad(out_caps, "src");
    GstPad *in = gst_element_get_static_pad(room_queue, "sink");
    gst_ghost_pad_set_target(GST_GHOST_PAD(output_ghost), out);
    gst_ghost_pad_set_target(GST_GHOST_PAD(input_ghost), in);
    gst_object_unref(out);
    gst_object_unref(in);
}

PromptPlayer::~PromptPlayer()
{
    if (timer_)
        g_source_remove(timer_);
    if (room_pad_)
        gst_object_unref(room_pad_);
}

bool PromptPlayer::running_time(GstClockTime &now) const
{
    GstClock *clock = gst_element_get_clock(GST_ELEMENT(bin_));
    if (!clock)
        return false;
    const GstClockTime t = gst_clock_get_time(clock);
    gst_object_unref(clock);
    const GstClockTime base = gst_element_get_base_time(GST_ELEMENT(bin_));
    now = t > base ? t - base : 0;
    return true;
}

void PromptPlayer::play(std::vector<const Samples *> clips, std::function<void()> finished)
{
    stop();
    for (const Samples *c : clips)
        if (c)
            queue_.insert(queue_.end(), c->begin(), c->end());
    pos_ = 0;
    finished_ = std::move(finished);
    GstClockTime now = 0;
    if (running_time(now))
        next_pts_ = std::max(next_pts_, now + kLead);
    timer_ = g_timeout_add(20, feed, this);
    push_ahead(); // the first blocks now; the end is only ever noticed by the timer
}

void PromptPlayer::stop()
{
    if (timer_)
        g_source_remove(timer_);
    timer_ = 0;
    queue_.clear();
    pos_ = 0;
    finished_ = nullptr;
}

void PromptPlayer::room_audio(bool on) { g_object_set(room_pad_, "mute", on ? FALSE : TRUE, nullptr); }

void PromptPlayer::push_block(const int16_t *samples, size_t n)
{
    GstBuffer *buf = gst_buffer_new_memdup(samples, n * sizeof(int16_t));
    const GstClockTime duration = gst_util_uint64_scale(n, GST_SECOND, kPromptRate);
    GST_BUFFER_PTS(buf) = next_pts_;
    GST_BUFFER_DURATION(buf) = duration;
    next_pts_ += duration;
    gst_app_src_push_buffer(GST_APP_SRC(appsrc_), buf); // takes it; a flushing src drops it
}

// Pushes blocks up to kAhead past the running time; returns that time.
GstClockTime PromptPlayer::push_ahead()
{
    GstClockTime now = 0;
    if (!running_time(now)) { // no clock (not playing): nothing can be heard, the prompt is over
        pos_ = queue_.size();
        return next_pts_;
    }
    if (next_pts_ + kAhead < now) // fell behind (a stalled loop): never push into the past
        next_pts_ = now + kLead;
    while (pos_ < queue_.size() && next_pts_ < now + kAhead) {
        const size_t n = std::min(kBlock, queue_.size() - pos_);
        push_block(queue_.data() + pos_, n);
        pos_ += n;
    }
    return now;
}

// Main loop, every 20 ms while a prompt plays.
gboolean PromptPlayer::feed(gpointer data)
{
    auto self = static_cast<PromptPlayer *>(data);
    const GstClockTime now = self->push_ahead();
    if (self->pos_ < self->queue_.size() || now < self->next_pts_)
        return G_SOURCE_CONTINUE;
    self->timer_ = 0;
    self->queue_.clear();
    self->pos_ = 0;
    auto done = std::move(self->finished_);
    self->finished_ = nullptr;
    if (done)
        done();
    return G_SOURCE_REMOVE;
}

} // namespace ivr
