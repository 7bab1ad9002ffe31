// browser-capture: the SIP caller joins a web conference through a real
// browser. The node owns a Chromium (DevTools over a pipe), opens the room's
// page with a script that makes the caller the page's camera and microphone
// (input "inject": a local WebRTC session with the node's webrtcbin), runs the
// service's join script, and sends back what the page shows and plays
// (output "tab": the tab's own capture; "peers": the room's tracks mixed and
// laid out in the page). Input "devices" with output "screen" (devices
// mode, devices/devices_mode.hpp): the caller through snd-aloop and
// v4l2loopback devices, Chromium visible on a private Xvfb, the room
// captured from the screen and a private PulseAudio.
#include "browser/chromium.hpp"
#include "devices/devices_mode.hpp"
#include "devtools/json_fields.hpp"
#include "devtools/loggable_url.hpp"
#include "devtools/page_session.hpp"
#include "media/local_peer.hpp"
#include "inject_js.hpp"
#include "join/ice_servers.hpp"
#include "join/join_runner.hpp"
#include "join/join_script.hpp"

#include <mediagw/node.hpp>

#include <json-glib/json-glib.h>
#include <sys/random.h>

#include <map>
#include <memory>
#include <set>
#include <string>

namespace {

using namespace browsercapture;

constexpr mgw_property_spec properties[] = {
    // Secret: a conference URL may carry a token (a Jitsi JWT, ?token=);
    // logs and events show it without user info, query and fragment.
    mediagw::prop::string("url", nullptr, "the conference page to open",
                          mediagw::prop::required | mediagw::prop::secret),
    mediagw::prop::string("join", "",
                          "join script: a name looked up in conf/join (janus-videoroom, serve, easyrtc-multiparty, "
                          "jitsi-meet, bigbluebutton, ...) or a path; empty: the page is joined once loaded; a call-time "
                          "value (\"${route.service}\") must give a name, read when the node starts"),
    mediagw::prop::string("display_name", "SIP caller", "the name the gateway shows in the room (and its devices')"),
    mediagw::prop::string("room", "", "the room, for join scripts that type or pick it (${room})"),
    mediagw::prop::string("pin", "", "the room's PIN or password, for join scripts (${pin})", mediagw::prop::secret),
    mediagw::prop::node("ice", "ice-servers", "a turn node: its servers handed to join scripts (${ice_servers})"),
    mediagw::prop::integer("alone_timeout", "0",
                           "seconds alone in the room (the join script counts participants) before room.empty; 0: never"),
    mediagw::prop::choice("input", "inject|devices", "inject",
                          "inject: the caller is the page's camera and microphone through a script, no devices; "
                          "devices: Chromium opens audio_device and video_device (fed by aloop-sink and "
                          "v4l2loopback-sink nodes), output screen"),
    mediagw::prop::choice("output", "tab|peers|screen", "tab",
                          "tab: what the tab shows and plays; peers: the room's remote tracks mixed and laid out; "
                          "screen (input devices): Chromium's private X display and PulseAudio captured"),
    mediagw::prop::string("audio_device", "hw:Loopback,1,0",
                          "input devices: the ALSA capture PCM that is the page's microphone (snd-aloop's capture "
                          "side of what an aloop-sink node plays into hw:Loopback,0,0)"),
    mediagw::prop::string("video_device", "/dev/video10",
                          "input devices: the V4L2 device that is the page's camera (a v4l2loopback device a "
                          "v4l2loopback-sink node writes)"),
    mediagw::prop::choice("layout", "speaker|grid", "speaker", "output peers: the active speaker, or all tiled"),
    mediagw::prop::integer("width", "1280", "page and captured width in pixels"),
    mediagw::prop::integer("height", "720", "page and captured height in pixels"),
    mediagw::prop::integer("framerate", "25", "captured frames per second"),
    mediagw::prop::integer("load_timeout", "30", "seconds the page may take to load"),
    mediagw::prop::integer("jitter_ms", "30", "jitter buffer for what the page sends back, in ms"),
    mediagw::prop::string("browser", "/usr/bin/chromium", "the Chromium executable"),
    mediagw::prop::list("extra_args", "", "more Chromium command-line flags"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-opus", "the page's microphone"),
    mediagw::port::input("video", mediagw::port::video, "video/x-vp8", "the page's camera"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-opus; audio/x-raw",
                          "what the page plays (the room; raw from output screen)"),
    mediagw::port::output("video", mediagw::port::video, "video/x-vp8; video/x-raw",
                          "what the page shows (the room; raw from output screen)"),
};

// A name the page cannot guess (the binding is our script's line to the
// node; the script takes it off the page's global object at once).
std::string random_binding()
{
    guint32 r[2] = {0, 0};
    if (getrandom(r, sizeof r, 0) != sizeof r)
        r[0] = g_random_int(), r[1] = g_random_int();
    char text[40];
    g_snprintf(text, sizeof text, "__mgw_%08x%08x", r[0], r[1]);
    return text;
}

bool plain_script_name(const std::string &name)
{
    if (name.empty() || name.size() > 64)
        return false;
    for (char c : name)
        if (!g_ascii_isalnum(c) && c != '-' && c != '_')
            return false;
    return true;
}

class BrowserCapture : public mediagw::Node {
public:
    explicit BrowserCapture(const mgw_node_init *init) : Node(init)
    {
        if (str("url").empty())
            throw mediagw::Error("url: the room's page is needed (e.g. ROOM_URL in the shipped pipelines)");
        GstPad *ain = add_input("audio"), *vin = add_input("video");
        GstPad *aout = add_output("audio"), *vout = add_output("video");
        peer_ = std::make_unique<LocalPeer>(
            bin(), ain, vin, aout, vout, guint(integer("jitter_ms")),
            LocalPeer::Callbacks{[this](const std::string &sdp) { send_offer(sdp); },
                                 [this] {
                                     // The page's decoder starts on a keyframe: ask the caller now.
                                     log(MGW_LOG_INFO, "the page receives the caller (%s)",
                                         peer_->request_input_keyframe() ? "keyframe requested from the caller"
                                                                         : "no caller video yet");
                                 },
                                 [this](const std::string &why) { room_failed(why); },
                                 [this](const std::string &why) { fail(why); }});
        make_devices_mode(aout, vout);
        // Read now: a missing or broken join script fails the gateway at
        // start, with the file's line and column, before any call. One
        // named by a call-time value (join = "${route.service}") is read
        // when the node starts.
        join_at_start_ = str("join").find("${") != std::string::npos;
        if (!str("join").empty() && !join_at_start_)
            read_join_script();
    }

    void read_join_script()
    {
        // A name chosen at call time may come from what the caller wrote
        // (an X- header): a script name only, never a path.
        if (join_at_start_ && !plain_script_name(str("join")))
            throw mediagw::Error("join: '" + str("join") + "' (a call-time value) is not a join script name "
                                 "(letters, digits, '-', '_')");
        std::string searched;
        join_path_ = find_join_script(str("join"), searched);
        parse_join_script(join_path_, join_vars("[]"));
    }

    ~BrowserCapture() override { shut_down(); }

    bool start(std::string &error) override
    {
        failed_ = browser_gone_ = false; // a new room session
        try {
            if (join_at_start_)
                read_join_script();
            ChromiumOptions o;
            o.executable = str("browser");
            o.width = int(integer("width"));
            o.height = int(integer("height"));
            o.tab_capture = str("output") == "tab";
            // Inject mode grants nothing: the page never reaches a real device.
            // (The fake-UI flag also makes tab capture fail to start.)
            o.fake_ui = false;
            o.extra_args = list("extra_args");
            // Chromium's own log, for whoever debugs a join script.
            if (const char *path = g_getenv("MEDIAGW_BROWSER_LOG"))
                o.log_path = path;
            if (devices_)
                devices_->start(o);
            chromium_ = std::make_unique<Chromium>(
                o,
                [this](const std::string &method, JsonObject *params, const std::string &session) {
                    guarded("DevTools event", [&] {
                        if (page_)
                            page_->on_event(method, params, session);
                    });
                },
                [this](const std::string &m) { log(MGW_LOG_WARNING, "%s", m.c_str()); },
                [this](const std::string &how) { browser_exited(how); });
        } catch (const std::exception &e) {
            error = e.what();
            return false;
        }
        log(MGW_LOG_INFO, "Chromium started (pid %d), opening %s", int(chromium_->pid()),
            loggable_url(str("url")).c_str());
        page_ = std::make_unique<PageSession>(
            chromium_->devtools(), binding_, page_script(), int(integer("width")), int(integer("height")),
            PageSession::Callbacks{[this] { guarded("page loaded", [&] { page_loaded(); }); },
                                   [this](const std::string &why) { room_failed(why); },
                                   [this](const std::string &payload, int context) {
                                       guarded("page message", [&] { on_message(payload, context); });
                                   }});
        page_->open(str("url"), guint(integer("load_timeout") * 1000));
        return true;
    }

    void on_event(std::string_view, const GstStructure *event) override
    {
        try {
            const char *digit = gst_structure_has_name(event, "dtmf") ? gst_structure_get_string(event, "digit")
                                                                      : nullptr;
            if (!digit || !*digit || !runner_ || !dtmf_keys_)
                return;
            if (auto key = dtmf_keys_->push(digit[0])) {
                std::string error;
                if (runner_->action(*key, error))
                    log(MGW_LOG_INFO, "DTMF %s: action '%s'", key->c_str(),
                        runner_->script().action(*key) ? runner_->script().action(*key)->name.c_str() : "");
                else
                    log(MGW_LOG_WARNING, "DTMF %s: %s", key->c_str(), error.c_str());
            }
        } catch (const std::exception &e) {
            log(MGW_LOG_WARNING, "dtmf: %s", e.what());
        }
    }

    void stop() override
    {
        // Leave the room politely first (the join script's [leave], bounded).
        try {
            if (runner_ && runner_->is_joined() && chromium_) {
                runner_->leave([this] { finish_stop(); });
                return;
            }
        } catch (const std::exception &e) {
            log(MGW_LOG_WARNING, "leaving: %s", e.what());
        }
        finish_stop();
    }

    void finish_stop()
    {
        try {
            shut_down();
            peer_->end_streams();
            if (devices_)
                devices_->end_streams();
            if (joined_)
                emit(gst_structure_new("room.left", "reason", G_TYPE_STRING, "stopping", nullptr));
            joined_ = false;
        } catch (const std::exception &e) {
            log(MGW_LOG_WARNING, "stopping: %s", e.what());
        }
        stopped();
    }

private:
    std::string page_script() const
    {
        std::string config = "{\"binding\":" + json_quote(binding_) + ",\"display\":" + json_quote(str("display_name")) +
                             ",\"width\":" + std::to_string(integer("width")) + ",\"height\":" +
                             std::to_string(integer("height")) + ",\"fps\":" + std::to_string(integer("framerate")) +
                             ",\"input\":" + json_quote(str("input")) + ",\"output\":" + json_quote(str("output")) +
                             ",\"layout\":" + json_quote(str("layout")) + "}";
        std::string script = inject_js;
        const std::string marker = "__MGW_CONFIG__";
        const size_t at = script.find(marker, script.find("const CFG"));
        script.replace(at, marker.size(), config);
        return script;
    }

    // Page -> node: JSON from our script, but the page's own scripts run in
    // the same world: checked like any outside input.
    void on_message(const std::string &payload, int context)
    {
        JsonParser *parser = json_parser_new();
        if (!json_parser_load_from_data(parser, payload.data(), gssize(payload.size()), nullptr) ||
            !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
            g_object_unref(parser);
            return;
        }
        JsonObject *m = json_node_get_object(json_parser_get_root(parser));
        const std::string type = member_string(m, "t");
        try {
            if (type == "hello" && devices_) {
                // devices mode: no local session, the page has real devices
            } else if (type == "hello") {
                page_context_ = context;
                peer_->restart();
            } else if (type == "answer" && context == page_context_) {
                peer_->apply_answer(member_string(m, "sdp"));
            } else if (type == "error") {
                log(MGW_LOG_WARNING, "page: %s: %.200s", member_string(m, "where").c_str(),
                    member_string(m, "message").c_str());
            } else if (type == "media") {
                log(MGW_LOG_INFO, "the page took the caller as its camera/microphone");
            }
        } catch (const std::exception &e) {
            log(MGW_LOG_WARNING, "page message '%s': %s", type.c_str(), e.what());
        }
        g_object_unref(parser);
    }

    void send_offer(const std::string &sdp)
    {
        if (!page_)
            return;
        page_->evaluate("window.__mgw && window.__mgw.offer(" + json_quote(sdp) + ")",
                        [this](const EvalResult &r) {
                            if (!r.ok)
                                log(MGW_LOG_WARNING, "handing the offer to the page: %s", r.error.c_str());
                        },
                        page_context_);
    }

    void page_loaded()
    {
        log(MGW_LOG_INFO, "the page loaded: %s", loggable_url(str("url")).c_str());
        if (join_path_.empty())
            return joined();
        runner_ = std::make_unique<JoinRunner>(parse_join_script(join_path_, join_vars(ice_servers_json())),
                                               [this](const std::string &js, std::function<void(const EvalResult &)> done) {
                                                   if (page_)
                                                       page_->evaluate(js, std::move(done));
                                               });
        runner_->step_started = [this](const std::string &step) {
            log(MGW_LOG_INFO, "join step '%s'", step.c_str());
        };
        runner_->joined = [this] { joined(); };
        runner_->failed = [this](const std::string &step, const std::string &reason) {
            room_failed("join step '" + step + "' failed on " + loggable_url(str("url")) + ": " + reason, step);
        };
        runner_->participants = [this](int count, const std::vector<std::string> &names) {
            on_participants(count, names);
        };
        runner_->action_failed = [this](const std::string &action, const std::string &error) {
            log(MGW_LOG_WARNING, "action '%s' failed: %s", action.c_str(), error.c_str());
        };
        std::vector<std::string> keys;
        for (const auto &a : runner_->script().actions)
            keys.push_back(a.key);
        dtmf_keys_ = std::make_unique<DtmfKeys>(keys);
        runner_->run();
    }

    std::map<std::string, std::string> join_vars(const std::string &ice) const
    {
        return {{"display_name", str("display_name")},
                {"room", str("room")},
                {"pin", str("pin")},
                {"url", str("url")},
                {"width", std::to_string(integer("width"))},
                {"height", std::to_string(integer("height"))},
                {"ice_servers", ice}};
    }

    // The `ice` turn node's servers (fresh ephemeral credentials: asked
    // when the room is joined).
    std::string ice_servers_json()
    {
        if (str("ice").empty())
            return "[]";
        GstStructure *servers = query_node(str("ice"), "ice-servers");
        std::string out = rtc_ice_servers_json(servers);
        if (servers)
            gst_structure_free(servers);
        return out;
    }

    // The join script's count of the others in the room: participant
    // events by name where it gives names, room.empty after alone_timeout.
    void on_participants(int count, const std::vector<std::string> &names)
    {
        std::set<std::string> now(names.begin(), names.end());
        for (const auto &n : now)
            if (!participants_.count(n))
                emit(gst_structure_new("participant.joined", "display", G_TYPE_STRING, n.c_str(), nullptr));
        for (const auto &n : participants_)
            if (!now.count(n))
                emit(gst_structure_new("participant.left", "display", G_TYPE_STRING, n.c_str(), nullptr));
        participants_ = now;
        log(MGW_LOG_INFO, "%d other participant(s) in the room", count);
        if (count > 0 && alone_timer_) {
            g_source_remove(alone_timer_);
            alone_timer_ = 0;
        } else if (count == 0 && !alone_timer_ && integer("alone_timeout") > 0) {
            alone_timer_ = g_timeout_add_seconds(guint(integer("alone_timeout")), [](gpointer self) -> gboolean {
                auto *me = static_cast<BrowserCapture *>(self);
                me->alone_timer_ = 0;
                me->log(MGW_LOG_INFO, "alone in the room for %d s", int(me->integer("alone_timeout")));
                me->emit(gst_structure_new("room.empty", "reason", G_TYPE_STRING, "alone", nullptr));
                return G_SOURCE_REMOVE;
            }, this);
        }
    }

    void joined()
    {
        joined_ = true;
        emit(gst_structure_new("room.joined", "url", G_TYPE_STRING, loggable_url(str("url")).c_str(), nullptr));
        page_->evaluate("window.__mgw.startOutput()", [this](const EvalResult &r) {
            if (r.ok) {
                log(MGW_LOG_INFO, "output '%s' started: %s", str("output").c_str(), r.json.c_str());
                // Infobars ("sharing this tab") come and go and take some of
                // the viewport: keep it at the configured size.
                fit_timer_ = g_timeout_add_seconds(1, [](gpointer self) -> gboolean {
                    auto *me = static_cast<BrowserCapture *>(self);
                    if (me->page_)
                        me->page_->fit_viewport(nullptr);
                    return G_SOURCE_CONTINUE;
                }, this);
                stats_timer_ = g_timeout_add_seconds(8, [](gpointer self) -> gboolean {
                    auto *me = static_cast<BrowserCapture *>(self);
                    me->stats_timer_ = 0;
                    if (me->page_)
                        me->page_->evaluate("window.__mgw.stats()", [me](const EvalResult &s) {
                            me->log(MGW_LOG_INFO, "local session: %s", s.ok ? s.json.c_str() : s.error.c_str());
                        });
                    return G_SOURCE_REMOVE;
                }, this);
            }
            else
                room_failed("the page's output '" + str("output") + "' did not start: " + r.error);
        });
    }

    // What a GLib callback of this node runs goes through here: an
    // exception (a bug, memory) becomes the room's failure, never crosses a
    // C frame.
    template <typename F> void guarded(const char *where, F &&body) noexcept
    {
        try {
            body();
        } catch (const std::exception &e) {
            try {
                room_failed(std::string(where) + ": " + e.what());
            } catch (...) {
            }
        } catch (...) {
            try {
                room_failed(std::string(where) + ": unknown exception");
            } catch (...) {
            }
        }
    }

    void browser_exited(const std::string &how)
    {
        browser_gone_ = true;
        if (exit_wait_timer_) {
            g_source_remove(exit_wait_timer_);
            exit_wait_timer_ = 0;
        }
        room_failed("Chromium " + how);
    }

    void room_failed(const std::string &why, const std::string &step = "")
    {
        if (failed_ || exit_wait_timer_)
            return;
        // When Chromium dies, its DevTools pipe closes first and what waited
        // on it fails with "closed the pipe"; the exit status (crash, killed
        // by a signal) comes a moment later and says more: wait for it, a
        // second at most.
        if (!browser_gone_ && chromium_ && !chromium_->devtools().open()) {
            deferred_failure_ = {why, step};
            exit_wait_timer_ = g_timeout_add(1000, [](gpointer self) -> gboolean {
                auto *me = static_cast<BrowserCapture *>(self);
                me->exit_wait_timer_ = 0;
                me->browser_gone_ = true; // no status came: report what was seen
                me->room_failed(me->deferred_failure_.first, me->deferred_failure_.second);
                return G_SOURCE_REMOVE;
            }, this);
            return;
        }
        failed_ = true;
        log(MGW_LOG_WARNING, "room failed: %s", why.c_str());
        GstStructure *event = gst_structure_new("room.failed", "reason", G_TYPE_STRING, why.c_str(), "url",
                                                G_TYPE_STRING, loggable_url(str("url")).c_str(), nullptr);
        if (!step.empty())
            gst_structure_set(event, "step", G_TYPE_STRING, step.c_str(), nullptr);
        emit(event);
    }

    void shut_down()
    {
        browser_gone_ = true; // from here on a failure is reported at once, never waited on (no timer outlives us)
        runner_.reset();
        for (guint *timer : {&stats_timer_, &fit_timer_, &alone_timer_, &exit_wait_timer_})
            if (*timer) {
                g_source_remove(*timer);
                *timer = 0;
            }
        page_.reset();
        if (peer_)
            peer_->close();
        chromium_.reset();
        if (devices_)
            devices_->stop(); // after Chromium: its display and sound server go last
    }

    // Input "devices" (with output "screen"): see devices/devices_mode.hpp.
    void make_devices_mode(GstPad *audio_out, GstPad *video_out)
    {
        const bool devices = str("input") == "devices", screen = str("output") == "screen";
        if (!devices && !screen)
            return;
        if (!devices)
            throw mediagw::Error("output screen captures Chromium's own display and sound: it needs input = "
                                 "\"devices\" (inject mode runs Chromium headless; use output tab or peers there)");
        if (!screen)
            throw mediagw::Error("input devices sends the room back from the screen: set output = \"screen\" "
                                 "(tab and peers go back over inject mode's local session)");
        DevicesMode::Config config{str("audio_device"), str("video_device"), int(integer("width")),
                                   int(integer("height")), int(integer("framerate")), ""};
        if (const char *path = g_getenv("MEDIAGW_BROWSER_LOG"))
            config.log_path = path;
        devices_ = std::make_unique<DevicesMode>(
            bin(), audio_out, video_out, config,
            DevicesMode::Callbacks{[this](const std::string &why) { room_failed(why); },
                                   [this](bool warning, const std::string &message) {
                                       log(warning ? MGW_LOG_WARNING : MGW_LOG_INFO, "%s", message.c_str());
                                   }});
    }

    std::string binding_ = random_binding();
    std::unique_ptr<LocalPeer> peer_;
    std::unique_ptr<Chromium> chromium_;
    std::unique_ptr<DevicesMode> devices_; // input devices
    std::unique_ptr<PageSession> page_;
    int page_context_ = 0;
    guint stats_timer_ = 0, fit_timer_ = 0, alone_timer_ = 0, exit_wait_timer_ = 0;
    std::pair<std::string, std::string> deferred_failure_; // why, step: held while Chromium's exit is awaited
    std::string join_path_;
    bool join_at_start_ = false; // `join` names a call-time value: read at each start
    std::unique_ptr<JoinRunner> runner_;
    std::unique_ptr<DtmfKeys> dtmf_keys_;
    std::set<std::string> participants_;
    bool joined_ = false, failed_ = false, browser_gone_ = false;
};

} // namespace

MEDIAGW_PLUGIN(BrowserCapture, "browser-capture", "0.2.0",
               "Joins a web conference through Chromium: the caller as its camera and microphone, the room back",
               nullptr, "room.joined,room.left,room.failed,room.empty,participant.joined,participant.left", properties,
               ports);
