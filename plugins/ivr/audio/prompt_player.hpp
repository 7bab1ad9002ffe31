// The IVR's audio, inside the node's bin:
//
//   audiotestsrc (silence, live) ------------------+
//   appsrc (prompts, fed from the main loop) ------ audiomixer -> capsfilter -> output port
//   input port -> queue -> audioconvert -> audioresample -+  (muted until the caller is through)
//
// Prompts are pushed in 20 ms blocks from a main-loop timer, timestamped
// in the pipeline's running time, at most 200 ms ahead: stopping a prompt
// (the caller types over it) silences it within that. The silence keeps
// the caller's RTP flowing between prompts; the room's audio joins the
// mix once the IVR is through.
#pragma once

#include "audio/prompt_audio.hpp"

#include <gst/gst.h>

#include <functional>
#include <string>
#include <vector>

namespace ivr {

class PromptPlayer {
public:
    // Builds the elements into `bin` and points the ghost pads at them.
    // Throws std::runtime_error when an element is missing.
    PromptPlayer(GstBin *bin, GstPad *output_ghost, GstPad *input_ghost);
    ~PromptPlayer();
    PromptPlayer(const PromptPlayer &) = delete;
    PromptPlayer &operator=(const PromptPlayer &) = delete;

    // Main loop. Stops what plays, then plays `clips` in order (null or
    // empty ones are skipped); `finished` runs on the main loop once the
    // last block has been heard (not after stop()).
    void play(std::vector<const Samples *> clips, std::function<void()> finished);
    void stop();
    void room_audio(bool on);
    bool playing() const { return timer_ != 0; }

private:
    static gboolean feed(gpointer self);
    GstClockTime push_ahead();
    bool running_time(GstClockTime &now) const;
    void push_block(const int16_t *samples, size_t n);

    GstBin *bin_;
    GstElement *appsrc_ = nullptr;
    GstPad *room_pad_ = nullptr; // the mixer's pad of the room's audio
    std::vector<int16_t> queue_; // what is left to push of the clips
    size_t pos_ = 0;
    GstClockTime next_pts_ = 0; // where the next block goes in running time
    std::function<void()> finished_;
    guint timer_ = 0;
};

} // namespace ivr
