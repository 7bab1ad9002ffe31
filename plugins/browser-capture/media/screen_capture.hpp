// Output "screen" (devices mode): what the visible Chromium shows on its
// private X display (ximagesrc) and plays into its private PulseAudio's
// null sink (pulsesrc on the monitor), raw out of the node's output ports:
// the core's links encode once for whoever takes them.
// The capture joins the running pipeline only once its display and sound
// server exist (start()); its errors (the display or the sound server gone)
// do not stop the gateway from inside GStreamer but come to `failed` on the
// main loop, so that the node reports them as room.failed like a Chromium
// exit.
#pragma once

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

namespace browsercapture {

class ScreenCapture {
public:
    struct Source {
        std::string display;      // ":N"
        std::string pulse_server; // "unix:/.../native"
        std::string monitor;      // "sink.monitor"
        int width = 1280, height = 720, framerate = 25;
    };

    // `audio_out`, `video_out`: the node's output ghost pads.
    ScreenCapture(GstBin *bin, GstPad *audio_out, GstPad *video_out, std::function<void(const std::string &)> failed);
    ~ScreenCapture(); // stop()s

    // Builds the capture and starts it with the pipeline. Throws
    // std::runtime_error when an element is missing.
    void start(const Source &source);
    // Takes the capture out (main loop); the output ports stay.
    void stop();
    // The gateway stops: end what flows out of the node.
    void end_streams();
    bool running() const { return capture_ != nullptr; }

    // The capture's description (gst-launch syntax), for the log.
    static std::string describe(const Source &source);

private:
    GstBin *bin_;
    GstPad *audio_out_, *video_out_;
    std::function<void(const std::string &)> failed_;
    GstElement *capture_ = nullptr;
    std::shared_ptr<ScreenCapture *> self_ = std::make_shared<ScreenCapture *>(this);
};

} // namespace browsercapture
