// The media side of a served room: the SIP caller's audio/video fanned out
// to every subscriber session (payloaded as negotiated), and the publishers'
// media brought back to the node's outputs: the active speaker's audio and
// video passed through untouched while one browser publishes; with several,
// their audio is mixed (decoded, audiomixer) and the loudest one's video
// forwarded, switching with a keyframe request - or, in the grid layout,
// every publisher's video decoded and tiled (compositor), raw out.
#pragma once

#include "common/guard.hpp"
#include "media/session.hpp"

#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

namespace webrtcdirect {

class RoomMedia {
public:
    using Logger = std::function<void(const std::string &)>;
    using SpeakerChanged = std::function<void(const std::string &participant)>;

    // Ghost pads of the node: inputs are targeted at the fan-out, outputs at
    // the selectors.
    enum class Layout { Speaker, Grid };
    // Throws std::runtime_error when an element is missing or will not link
    // (so do attach_*: their callers turn it into the node's failure).
    // `fail`: the node's failure, for exceptions in GStreamer/GLib callbacks.
    // `jitter_ms`: the jitter buffer before a depayloader (webrtcbin has none).
    RoomMedia(GstBin *bin, GstPad *audio_in, GstPad *video_in, GstPad *audio_out, GstPad *video_out,
              Layout layout, guint jitter_ms, Logger log, SpeakerChanged speaker_changed, Fail fail);
    ~RoomMedia();

    // Codec of the caller's video as it flows now ("VP8", "H264"; "" unknown).
    std::string input_video_codec() const;

    // Subscriber or Peer: sender pads for each usable m-line, fed from the
    // fan-out; the mids it sends on.
    std::set<std::string> attach_subscriber(Session &s);
    // Its session connected: the subscriber's branches start receiving.
    void feed_subscriber(Session &s);
    // A new subscriber wants a keyframe of the caller's video.
    void request_input_keyframe();
    // Publisher: called from the streaming thread when a stream appears.
    void attach_publisher_stream(Session &s, GstPad *src, const OfferedMedia &m);
    // Undo what attach_* did for this session (main loop): its branches
    // leave the tees, then `close_session` runs (webrtcbin to NULL, which
    // releases a branch thread blocked in it), then the branches stop.
    void detach(Session &s, const std::function<void()> &close_session);
    // The gateway stops: end what flows out of the node (no session feeds
    // the selectors any more, so nothing else would).
    void end_streams();

private:
    struct Branch;     // elements owned for one session's stream
    struct Publisher;  // one publishing participant
    void add_fanout(const char *kind, const char *caps, GstPad *ghost);
    GstElement *make(const char *factory, const std::string &name = "");
    GstElement *make_capsfilter(const std::string &name, const char *caps);
    void link_subscriber_stream(Session &s, const OfferedMedia &m, GstPad *sink, guint32 ssrc);
    std::optional<bool> fanout_carries_rtp(GstElement *tee) const;
    void make_tail(Branch &b, bool rtp);
    void feed_branches(const std::string &session_id, int tries); // lock not held
    void update_audio_route();          // lock held
    void start_mix(std::unique_lock<std::mutex> &);
    void add_to_mix(Publisher &p);
    void pick_speaker();
    GstElement *jitter_buffered_depayloader(const std::string &codec, const std::string &tag, Branch &b);
    GstElement *grid_input(const std::string &codec, const std::string &tag, Branch &b); // decode + scale
    void layout_grid();
    static gboolean speaker_tick(gpointer self);

    GstBin *bin_;
    Logger log_;
    SpeakerChanged speaker_changed_;
    Fail fail_;
    GstElement *audio_tee_ = nullptr, *video_tee_ = nullptr, *video_filter_ = nullptr;
    Layout layout_;
    GstElement *audio_sel_ = nullptr, *video_sel_ = nullptr;
    GstPad *audio_out_, *video_out_;     // the node's output ghost pads (owned by the node)
    guint jitter_ms_;
    GstElement *grid_ = nullptr;         // compositor, grid layout only
    GstElement *mixer_ = nullptr;
    GstPad *mix_pad_ = nullptr;          // audio_sel_'s pad for the mix
    std::mutex lock_;                    // publishers_, branches_ (streaming threads add to them)
    std::map<std::string, std::unique_ptr<Publisher>> publishers_; // by session id
    std::multimap<std::string, std::unique_ptr<Branch>> branches_; // by session id
    std::string speaker_;                // session id whose video is forwarded
    guint speaker_timer_ = 0;
    unsigned counter_ = 0;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0); // for work queued to the main loop
};

} // namespace webrtcdirect
