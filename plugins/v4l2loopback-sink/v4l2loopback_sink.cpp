// v4l2loopback-sink: writes video into a v4l2loopback device, which a browser
// then opens as a camera.
//
// A loopback device carries one fixed format, so the bin fixes it:
// videorate (duplicates/drops to the device's frame rate) ! capsfilter !
// v4l2sink. Pixel format and size conversions are the core's link adapter's
// job (it inserts videoconvert/videoscale when caps differ).
//
// The device is checked (libv4l2 open + VIDIOC_QUERYCAP) in start(), and
// v4l2sink joins the bin only then (mediagw::DeviceSink says why).
#include <mediagw/device_sink.hpp>
#include <mediagw/node.hpp>

#include <libv4l2.h>
#include <linux/videodev2.h>

#include <cerrno>
#include <memory>
#include <cstring>
#include <fcntl.h>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("device", "/dev/video10", "v4l2loopback device to write to"),
    mediagw::prop::choice("format", "YUY2|I420|NV12|RGB", "YUY2",
                          "pixel format written to the device (Chromium reads YUY2 best)"),
    mediagw::prop::integer("width", "1280", "frame width in pixels"),
    mediagw::prop::integer("height", "720", "frame height in pixels"),
    mediagw::prop::integer("framerate", "30", "frames per second written to the device"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("video", mediagw::port::video, "video/x-raw", "video to show as a camera",
                         mediagw::port::required),
};

constexpr const char *modprobe = "modprobe v4l2loopback video_nr=10 exclusive_caps=1";

struct DeviceCheck {
    std::string error;   // the device cannot take our video
    std::string warning; // it can, but a browser may not list it as a camera
};

DeviceCheck check_output_device(const std::string &device)
{
    const std::string name = "video device '" + device + "'";
    const int fd = v4l2_open(device.c_str(), O_RDWR | O_NONBLOCK);
    if (fd < 0) {
        const int err = errno;
        switch (err) {
        case ENOENT:
        case ENODEV:
        case ENXIO:
            return {name + " does not exist: load the v4l2loopback kernel module (" + modprobe + ")", ""};
        case EBUSY:
            return {name + " is busy: another process holds it (fuser -v " + device + ")", ""};
        case EACCES:
            return {name + ": permission denied (is the user in the 'video' group?)", ""};
        case ENOTTY: // libv4l2's own VIDIOC_QUERYCAP failed
            return {name + " is not a V4L2 device: point 'device' at a v4l2loopback device (" + modprobe + ")", ""};
        default:
            return {"cannot open " + name + ": " + std::strerror(err), ""};
        }
    }
    v4l2_capability cap{};
    const int rc = v4l2_ioctl(fd, VIDIOC_QUERYCAP, &cap);
    const int err = errno;
    v4l2_close(fd);
    if (rc < 0)
        return {name + " is not a V4L2 device (VIDIOC_QUERYCAP: " + std::strerror(err) + ")", ""};
    const uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    const std::string driver = reinterpret_cast<const char *>(cap.driver);
    if (!(caps & V4L2_CAP_VIDEO_OUTPUT))
        // With exclusive_caps=1 a loopback device shows only its capture side
        // while a writer is streaming into it.
        return {name + " (driver '" + driver + "') is not a video output device" +
                    (driver == "v4l2 loopback" ? ": another writer is probably streaming into it"
                                               : ": point 'device' at a v4l2loopback device"),
                ""};
    // Chromium lists only devices that announce capture without output.
    if (caps & V4L2_CAP_VIDEO_CAPTURE)
        return {"", name + " announces capture and output at once: Chromium will not list it as a camera "
                           "(load v4l2loopback with exclusive_caps=1)"};
    return {};
}

class V4l2LoopbackSink : public mediagw::Node {
public:
    explicit V4l2LoopbackSink(const mgw_node_init *init) : Node(init), device_(str("device"))
    {
        const int64_t width = integer("width"), height = integer("height"), fps = integer("framerate");
        if (width < 16 || width > 8192 || height < 16 || height > 8192)
            throw mediagw::Error("width and height must be between 16 and 8192 pixels");
        if (fps < 1 || fps > 240)
            throw mediagw::Error("framerate must be between 1 and 240");

        GstElement *rate = gst_element_factory_make("videorate", nullptr);
        filter_ = gst_element_factory_make("capsfilter", nullptr);
        GstElement *sink = gst_element_factory_make("v4l2sink", nullptr);
        if (!rate || !filter_ || !sink) {
            for (GstElement *e : {rate, filter_, sink})
                if (e)
                    gst_object_unref(e);
            throw mediagw::Error("GStreamer elements videorate/capsfilter/v4l2sink are missing "
                                 "(gstreamer1.0-plugins-base/-good)");
        }
        g_object_set(sink, "device", device_.c_str(), "sync", TRUE, nullptr);

        GstCaps *caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, str("format").c_str(), "width",
                                            G_TYPE_INT, static_cast<int>(width), "height", G_TYPE_INT,
                                            static_cast<int>(height), "framerate", GST_TYPE_FRACTION,
                                            static_cast<int>(fps), 1, nullptr);
        g_object_set(filter_, "caps", caps, nullptr);
        gst_caps_unref(caps);
        gst_bin_add_many(bin(), rate, filter_, nullptr);
        gst_element_link(rate, filter_);
        GstPad *in = gst_element_get_static_pad(rate, "sink");
        gst_ghost_pad_set_target(GST_GHOST_PAD(add_input("video")), in);
        gst_object_unref(in);
        sink_ = std::make_unique<mediagw::DeviceSink>(bin(), filter_, sink); // joins in start()
    }

    bool start(std::string &error) override
    {
        if (sink_->attached())
            return true; // started again after a re-arm: the device stays open
        const DeviceCheck check = check_output_device(device_);
        if (!check.warning.empty())
            log(MGW_LOG_WARNING, "%s", check.warning.c_str());
        error = check.error;
        if (!error.empty()) {
            sink_->attach_placeholder();
            return false;
        }
        if (!sink_->attach()) {
            error = "cannot open video device '" + device_ + "' (see the GStreamer error)";
            return false;
        }
        log(MGW_LOG_INFO, "writing video into '%s'", device_.c_str());
        return true;
    }

private:
    std::string device_;
    GstElement *filter_ = nullptr;
    std::unique_ptr<mediagw::DeviceSink> sink_;
};

} // namespace

MEDIAGW_PLUGIN(V4l2LoopbackSink, "v4l2loopback-sink", "0.1.0",
               "Writes video into a v4l2loopback device (a virtual camera)", nullptr, nullptr, properties, ports);
