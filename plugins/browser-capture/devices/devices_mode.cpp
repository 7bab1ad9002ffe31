#include "devices_mode.hpp"

#include <fcntl.h>
#include <linux/videodev2.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace browsercapture {

std::string DevicesMode::camera_problem(const std::string &device)
{
    const int fd = open(device.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        const int err = errno;
        if (err == ENOENT || err == ENODEV || err == ENXIO)
            return "video device '" + device +
                   "' does not exist: the page will find no camera (load v4l2loopback: modprobe v4l2loopback "
                   "video_nr=10 exclusive_caps=1)";
        if (err == EACCES)
            return "video device '" + device + "': permission denied (is the user in the 'video' group?)";
        return "cannot open video device '" + device + "': " + strerror(err);
    }
    v4l2_capability cap{};
    const int rc = ioctl(fd, VIDIOC_QUERYCAP, &cap);
    close(fd);
    if (rc != 0)
        return "'" + device + "' is not a V4L2 device";
    const unsigned caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & (V4L2_CAP_VIDEO_CAPTURE | V4L2_CAP_VIDEO_CAPTURE_MPLANE)))
        return "video device '" + device + "' (" + reinterpret_cast<const char *>(cap.card) +
               ") offers no capture yet: with v4l2loopback exclusive_caps=1 Chromium lists it once the "
               "v4l2loopback-sink node writes frames into it";
    return "";
}

DevicesMode::DevicesMode(GstBin *bin, GstPad *audio_out, GstPad *video_out, Config config, Callbacks cb)
    : bin_(bin), config_(std::move(config)), cb_(std::move(cb)),
      capture_(bin, audio_out, video_out, [this](const std::string &why) { capture_failed(why); })
{
}

// The capture often notices a server going before its exit is reaped: wait
// a moment, so that the exit itself (which says more) is what the room
// fails with.
void DevicesMode::capture_failed(const std::string &why)
{
    if (stopping_ || failed_)
        return;
    struct Job {
        std::weak_ptr<int> alive;
        DevicesMode *self;
        std::string why;
    };
    g_timeout_add_full(G_PRIORITY_DEFAULT, 500, [](gpointer data) -> gboolean {
        auto *job = static_cast<Job *>(data);
        if (job->alive.lock() && !job->self->stopping_ && !job->self->failed_) {
            job->self->failed_ = true;
            if (job->self->cb_.failed)
                job->self->cb_.failed("the screen capture failed: " + job->why);
        }
        return G_SOURCE_REMOVE;
    }, new Job{alive_, this, why}, [](gpointer data) { delete static_cast<Job *>(data); });
}

DevicesMode::~DevicesMode()
{
    stop();
}

void DevicesMode::child_exited(const std::string &what, const std::string &how)
{
    if (stopping_ || failed_)
        return;
    failed_ = true;
    if (cb_.failed)
        cb_.failed(what + " " + how);
}

void DevicesMode::start(ChromiumOptions &o)
{
    stopping_ = failed_ = false;
    dir_ = std::make_unique<PrivateDir>("mediagw-devices-");
    const std::string &dir = dir_->path();
    std::weak_ptr<int> alive = alive_;
    // One pixel wider and taller than the picture: Chromium's kiosk window
    // on an X server without a window manager is one pixel smaller than the
    // screen each way (a 640x360 screen gave a 639x359 page, trap 8 of
    // research/browser-inject.md; 641x361 gives 640x360, also at 1280x720).
    // The capture takes the window's area only.
    xvfb_ = std::make_unique<Xvfb>(config_.width + 1, config_.height + 1,
                                   config_.log_path.empty() ? dir + "/xvfb.log" : config_.log_path,
                                   [this, alive](const std::string &how) {
                                       if (alive.lock())
                                           child_exited("Xvfb", how);
                                   });
    pulse_ = std::make_unique<PulseServer>(dir, config_.audio_device, [this, alive](const std::string &how) {
        if (alive.lock())
            child_exited("PulseAudio", how);
    });
    if (cb_.log)
        cb_.log(false, "Xvfb (pid " + std::to_string(xvfb_->pid()) + ") serves display " + xvfb_->display() +
                           " at " + std::to_string(config_.width + 1) + "x" + std::to_string(config_.height + 1) +
                           "; PulseAudio (pid " + std::to_string(pulse_->pid()) + ") on " + pulse_->server() +
                           ", microphone: ALSA device '" + config_.audio_device + "'");
    const std::string camera = camera_problem(config_.video_device);
    if (cb_.log)
        cb_.log(!camera.empty(), camera.empty() ? "camera: " + config_.video_device : camera);

    ScreenCapture::Source source{xvfb_->display(), pulse_->server(), pulse_->monitor(), config_.width,
                                 config_.height, config_.framerate};
    capture_.start(source);
    if (cb_.log)
        cb_.log(false, "screen capture: " + ScreenCapture::describe(source));

    o.headless = false;
    o.fake_ui = true; // real devices, the permission prompt accepted
    o.tab_capture = false;
    o.env["DISPLAY"] = xvfb_->display();
    for (const auto &[name, value] : pulse_->client_env())
        o.env[name] = value;
}

void DevicesMode::stop()
{
    stopping_ = true;
    capture_.stop();
    pulse_.reset();
    xvfb_.reset();
    dir_.reset();
}

void DevicesMode::end_streams()
{
    capture_.end_streams();
}

} // namespace browsercapture
