// The node's end of the local WebRTC session with the page (inject.js): a
// webrtcbin that offers one sendrecv Opus and one sendrecv VP8 m-line. What
// arrives on the node's inputs (the caller) is payloaded and sent to the
// page, which hands it out as its camera and microphone; what the page sends
// back (its tab, or the room mixed) is depayloaded to the node's outputs.
// A page that loads a new document starts a new session: restart() builds a
// fresh webrtcbin while the payloaders stay (their packets are dropped while
// no webrtcbin takes them, never pushed into an unlinked pad).
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace browsercapture {

class LocalPeer {
public:
    struct Callbacks {
        std::function<void(const std::string &sdp)> offer;     // gathered, for the page
        std::function<void()> connected;
        std::function<void(const std::string &why)> failed;    // negotiation, ICE or DTLS
        std::function<void(const std::string &why)> fail_node; // an exception in a callback (a bug)
    };

    // Ghost pads of the node. Throws std::runtime_error when an element is missing.
    LocalPeer(GstBin *bin, GstPad *audio_in, GstPad *video_in, GstPad *audio_out, GstPad *video_out,
              guint jitter_ms, Callbacks cb);
    ~LocalPeer();

    // A new webrtcbin and offer (the page's document is new). Main loop.
    void restart();
    void apply_answer(const std::string &sdp);
    // Ask the page for a keyframe of what it sends (RTCP PLI).
    void request_keyframe();
    // Ask the caller for one (upstream through the core's link into the SIP
    // node: RTCP PLI/FIR or SIP INFO); false when no caller video is linked.
    bool request_input_keyframe();
    // Takes the webrtcbin out (main loop).
    void close();
    // The gateway stops: end what flows out of the node (the page sends
    // nothing that would).
    void end_streams();

private:
    struct Sender {
        GstElement *queue = nullptr, *pay = nullptr;
        GstPad *src = nullptr;      // the payloader's src pad
        std::atomic<bool> attached{false};
    };
    void make_sender(Sender &s, GstPad *ghost, const char *queue, const char *payloader, const char *caps);
    GstPad *request_sendrecv(const char *caps);
    void detach_senders();
    void on_offer_created(GstPromise *promise);
    void when_gathered();
    void pad_added(GstPad *pad); // streaming thread
    void later(std::function<void(LocalPeer &)> fn);

    GstBin *bin_;
    // Outputs: a selector each, so that the stream out of the node goes on
    // (and can be ended) across sessions; each session's depayloader feeds
    // a pad of its own.
    GstElement *audio_sel_ = nullptr, *video_sel_ = nullptr;
    guint jitter_ms_;
    Callbacks cb_;
    Sender audio_, video_;
    GstElement *webrtc_ = nullptr;
    GstObject *ice_agent_ = nullptr;
    struct Depayloader {
        GstElement *element;
        GstPad *selector_pad;
    };
    std::vector<Depayloader> depayloaders_;
    std::mutex lock_; // depayloaders_ (pad-added runs on a streaming thread)
    bool offered_ = false, connected_ = false;
    unsigned generation_ = 0;
    guint gather_timer_ = 0;
    std::shared_ptr<LocalPeer *> self_ = std::make_shared<LocalPeer *>(this);
};

} // namespace browsercapture
