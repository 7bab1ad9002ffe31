// Input "devices" with output "screen": the deployment with kernel modules.
// The caller reaches Chromium through real devices written by other nodes
// of the pipeline (aloop-sink: an snd-aloop card, read back as the
// microphone; v4l2loopback-sink: a /dev/videoN, the camera), and the room
// comes back from the screen. The node then owns, besides Chromium:
//   - Xvfb at the configured size: Chromium runs visible (kiosk) on it;
//   - a private PulseAudio: its default source reads the microphone's ALSA
//     PCM, its default sink (a null sink) takes what the page plays;
//   - the capture of both (media/screen_capture.hpp), raw out of the node.
// All live in one private directory, removed at the end. An exit of Xvfb
// or PulseAudio, or a capture error, comes to `failed` (room.failed).
#pragma once

#include "../browser/chromium.hpp"
#include "../display/xvfb.hpp"
#include "../media/screen_capture.hpp"
#include "../process/private_dir.hpp"
#include "../sound/pulse_server.hpp"

#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

namespace browsercapture {

class DevicesMode {
public:
    struct Config {
        std::string audio_device; // ALSA capture PCM: the page's microphone
        std::string video_device; // /dev/videoN: the page's camera
        int width = 1280, height = 720, framerate = 25;
        std::string log_path;     // MEDIAGW_BROWSER_LOG: Xvfb's and PulseAudio's output too
    };
    struct Callbacks {
        std::function<void(const std::string &why)> failed;
        std::function<void(bool warning, const std::string &message)> log;
    };

    // `audio_out`, `video_out`: the node's output ghost pads.
    DevicesMode(GstBin *bin, GstPad *audio_out, GstPad *video_out, Config config, Callbacks cb);
    ~DevicesMode(); // stop()

    // Starts Xvfb, PulseAudio and the capture (blocking until both servers
    // answer, well under a second normally), checks the camera, and sets
    // Chromium's options: visible on the display, sound through PulseAudio,
    // real devices granted without a prompt. Throws std::runtime_error.
    void start(ChromiumOptions &options);
    // After Chromium is gone: the capture, then PulseAudio and Xvfb.
    void stop();
    void end_streams();

    // "a camera" check of `video_device`: empty when it is a V4L2 capture
    // device now; otherwise what the user should know (not fatal: Chromium
    // lists a v4l2loopback device with exclusive_caps=1 only while a writer
    // streams into it).
    static std::string camera_problem(const std::string &device);

private:
    void child_exited(const std::string &what, const std::string &how);
    void capture_failed(const std::string &why);

    GstBin *bin_;
    Config config_;
    Callbacks cb_;
    ScreenCapture capture_;
    std::unique_ptr<PrivateDir> dir_;
    std::unique_ptr<Xvfb> xvfb_;
    std::unique_ptr<PulseServer> pulse_;
    bool stopping_ = false, failed_ = false;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

} // namespace browsercapture
