// ivr: asks the caller for a room number and its PIN by DTMF, then passes
// the room's audio through. The pipeline reads sip.inputs.audio =
// "ivr.audio" and ivr.inputs.audio = "room.audio"; the node starts on the
// call (start_on = "sip/call.established"), plays its prompts (espeak-ng,
// rendered once when the gateway starts; or WAV files from prompt_dir),
// takes the caller's `dtmf` events (RFC 4733 and SIP INFO alike), looks
// the room up in the room directory (plugins/common/room_directory), and
// on success publishes ${ivr.room}, ${ivr.pin}, ... then emits ivr.done,
// on which the room nodes start; or it says goodbye and emits ivr.failed
// with a reason (sip-sofia's hangup_on ends the call with it).
//   dialog/  the conversation as a state machine (digits, timeouts, tries): no pipeline, no clock
//   audio/   prompts: espeak-ng and WAV decoding; the player (mixer of prompts, silence, the room)
// Everything runs on the main loop: events, timers, the prompt feed.
#include "audio/prompt_player.hpp"
#include "dialog/ivr_dialog.hpp"
#include "room_directory/node_properties.hpp"

#include <mediagw/node.hpp>

#include <cstring>
#include <map>
#include <memory>

namespace {

using ivr::Prompt;

constexpr mgw_property_spec properties[] = {
    ROOM_DIRECTORY_PROPERTIES,
    mediagw::prop::choice("pin", "directory|always|never", "directory",
                          "when to ask for a PIN: directory = when the room has one (checked here), always (checked "
                          "when the room has one, else passed on as ${ivr.pin} for the room server to check), never"),
    mediagw::prop::integer("digit_timeout_ms", "5000",
                           "silence after a prompt or between digits that ends an entry: what was typed is taken, "
                           "nothing typed asks again (a try)"),
    mediagw::prop::integer("timeout_ms", "60000", "the whole dialog, from the call's start to the room"),
    mediagw::prop::integer("max_tries", "3", "wrong rooms, wrong PINs or silences per question before goodbye"),
    mediagw::prop::integer("max_digits", "16", "an entry this long is taken without '#'"),
    mediagw::prop::string("dtmf_from", "*", "the node whose dtmf events are the caller's keys (* = any)"),
    mediagw::prop::string("voice", "en", "espeak-ng voice of the spoken prompts (espeak-ng --voices)"),
    mediagw::prop::integer("speed", "160", "espeak-ng speed in words per minute"),
    mediagw::prop::string("prompt_dir", "",
                          "a folder of WAV files replacing spoken prompts: welcome.wav, room.wav, pin.wav, "
                          "no_room.wav, wrong_pin.wav, no_input.wav, connecting.wav, unavailable.wav, goodbye.wav "
                          "(any missing one is spoken)"),
    mediagw::prop::string("say_welcome", "Welcome.", "spoken before the first question (empty: nothing)"),
    mediagw::prop::string("say_room", "Please enter the room number, followed by the hash key.", "the room question"),
    mediagw::prop::string("say_pin", "Please enter the PIN, followed by the hash key.", "the PIN question"),
    mediagw::prop::string("say_no_room", "Sorry, there is no such room.", "after an unknown room"),
    mediagw::prop::string("say_wrong_pin", "Sorry, that PIN is not correct.", "after a wrong PIN"),
    mediagw::prop::string("say_no_input", "Sorry, I did not get that.", "after silence"),
    mediagw::prop::string("say_connecting", "Thank you. Connecting you now.", "when the caller is through"),
    mediagw::prop::string("say_unavailable", "Sorry, rooms cannot be looked up right now.",
                          "when the room directory fails"),
    mediagw::prop::string("say_goodbye", "Goodbye.", "the last words before the call ends"),
};

constexpr mgw_port_spec ports[] = {
    mediagw::port::input("audio", mediagw::port::audio, "audio/x-raw",
                         "the room's audio, passed to the caller once the IVR is through"),
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw",
                          "to the caller: the prompts, then the room's audio"),
};

int64_t now_ms() { return g_get_monotonic_time() / 1000; }

class Ivr : public mediagw::Node {
public:
    explicit Ivr(const mgw_node_init *init) : Node(init), dialog_(dialog_settings())
    {
        try {
            directory_ = std::make_unique<roomdir::RoomDirectory>(roomdir::directory_settings(
                [this](const char *k) { return str(k); }, [this](const char *k) { return list(k); },
                [this](const char *k) { return integer(k); }));
            player_ = std::make_unique<ivr::PromptPlayer>(bin(), add_output("audio"), add_input("audio"));
        } catch (const mediagw::Error &) {
            throw;
        } catch (const std::exception &e) {
            throw mediagw::Error(e.what());
        }
        if (integer("speed") < 80 || integer("speed") > 450)
            throw mediagw::Error("speed must be 80 to 450 words per minute");
        std::string error;
        if (!render_prompts(false, error))
            throw mediagw::Error(error);
        log(MGW_LOG_INFO, "rooms from %s; prompts ready (%s)", directory_->describe().c_str(), prompt_sources_.c_str());
    }

    ~Ivr() override
    {
        disarm();
        directory_->cancel();
    }

    bool start(std::string &error) override
    {
        if (!render_prompts(true, error)) // texts with call-time values
            return false;
        if (const std::string broken = directory_->refresh(); !broken.empty())
            log(MGW_LOG_ERROR, "the room table no longer loads, keeping the last good one:\n%s", broken.c_str());
        dialog_ = ivr::Dialog(dialog_settings());
        player_->room_audio(false);
        live_ = true;
        dialog_.start(now_ms());
        run();
        return true;
    }

    void stop() override
    {
        live_ = false;
        disarm();
        directory_->cancel();
        player_->stop();
        player_->room_audio(false);
        stopped();
    }

    void on_event(std::string_view source, const GstStructure *event) override
    {
        if (!live_ || !gst_structure_has_name(event, "dtmf"))
            return;
        const std::string from = str("dtmf_from");
        if (from != "*" && source != from)
            return;
        const char *digit = gst_structure_get_string(event, "digit");
        if (!digit || std::strlen(digit) != 1)
            return;
        dialog_.digit(digit[0], now_ms());
        run();
    }

private:
    ivr::DialogSettings dialog_settings() const
    {
        ivr::DialogSettings s;
        s.digit_timeout_ms = integer("digit_timeout_ms");
        s.overall_timeout_ms = integer("timeout_ms");
        s.max_tries = static_cast<int>(integer("max_tries"));
        const int64_t max_digits = integer("max_digits");
        if (s.digit_timeout_ms < 500 || s.overall_timeout_ms < 1000 || s.max_tries < 1 || max_digits < 1 ||
            max_digits > 64)
            throw mediagw::Error("digit_timeout_ms must be 500 or more, timeout_ms 1000 or more, max_tries 1 or "
                                 "more, max_digits 1 to 64");
        s.max_digits = static_cast<size_t>(max_digits);
        const std::string pin = str("pin");
        s.pin = pin == "always" ? ivr::PinPolicy::Always
                                : pin == "never" ? ivr::PinPolicy::Never : ivr::PinPolicy::Directory;
        return s;
    }

    // Each prompt from prompt_dir/NAME.wav, else spoken. `at_start`: only
    // the texts that changed since (call-time values); else all but those
    // with values, which the core fills in before start().
    bool render_prompts(bool at_start, std::string &error)
    {
        const std::string dir = str("prompt_dir");
        std::string sources;
        for (Prompt p : ivr::kAllPrompts) {
            const std::string name = ivr::prompt_name(p);
            if (!dir.empty()) {
                const std::string wav = dir + "/" + name + ".wav";
                if (g_file_test(wav.c_str(), G_FILE_TEST_EXISTS)) {
                    if (!at_start && !ivr::decode_wav(wav, prompts_[p], error)) {
                        error = "prompt_dir: " + error;
                        return false;
                    }
                    sources += (sources.empty() ? "" : ", ") + name + ".wav";
                    continue;
                }
            }
            const std::string key = "say_" + name;
            const std::string text = str(key.c_str());
            if ((!at_start && text.find("${") != std::string::npos) || (at_start && spoken_[p] == text))
                continue;
            spoken_[p] = text;
            prompts_[p].clear();
            if (!text.empty() && !ivr::speak(text, str("voice"), static_cast<int>(integer("speed")), prompts_[p], error)) {
                error = key + ": " + error;
                return false;
            }
        }
        prompt_sources_ = sources.empty() ? "espeak-ng, voice " + str("voice") : "espeak-ng and " + sources;
        return true;
    }

    // Carries out what the dialog asks for, until it asks nothing more
    // (a directory may answer within lookup(): that comes back here).
    void run()
    {
        if (running_)
            return;
        running_ = true;
        try {
            for (auto actions = dialog_.take_actions(); !actions.empty() && live_; actions = dialog_.take_actions())
                for (auto &a : actions)
                    act(a);
        } catch (...) {
            running_ = false;
            throw;
        }
        running_ = false;
        arm();
    }

    void act(ivr::Action &a)
    {
        switch (a.kind) {
        case ivr::Action::Kind::Play: {
            std::vector<const ivr::Samples *> clips;
            std::string names;
            for (Prompt p : a.prompts) {
                clips.push_back(&prompts_[p]);
                names += (names.empty() ? "" : ", ") + std::string(ivr::prompt_name(p));
            }
            log(MGW_LOG_INFO, "playing: %s", names.c_str());
            player_->play(std::move(clips), [this] { guarded([this] { dialog_.prompts_finished(now_ms()); }); });
            break;
        }
        case ivr::Action::Kind::Stop:
            player_->stop();
            break;
        case ivr::Action::Kind::Lookup:
            log(MGW_LOG_INFO, "room '%s' typed: looking it up", a.key.c_str());
            if (directory_->empty()) { // no directory: every room, as typed
                roomdir::Room r;
                r.room = a.key;
                r.service = str("service");
                dialog_.lookup_done(roomdir::Result::found(r, "typed"), now_ms());
                break;
            }
            directory_->lookup(a.key, [this, key = a.key](const roomdir::Result &r) {
                guarded([this, &r, &key] {
                    if (r.kind != roomdir::Result::Kind::Found)
                        log(r.kind == roomdir::Result::Kind::Error ? MGW_LOG_WARNING : MGW_LOG_INFO, "room '%s': %s",
                            key.c_str(), r.reason.c_str());
                    dialog_.lookup_done(r, now_ms());
                });
            });
            break;
        case ivr::Action::Kind::Done:
            log(MGW_LOG_INFO, "through to room %s at %s%s", a.room.room.c_str(),
                a.room.service.empty() ? "(no service)" : a.room.service.c_str(),
                a.room.pin.empty() ? "" : " (PIN given)");
            // The values first: the nodes starting on ivr.done read them.
            publish_values(gst_structure_new(
                "values", "room", G_TYPE_STRING, a.room.room.c_str(), "pin", G_TYPE_STRING, a.room.pin.c_str(),
                "service", G_TYPE_STRING, a.room.service.c_str(), "url", G_TYPE_STRING, a.room.url.c_str(), "display",
                G_TYPE_STRING, a.room.display.c_str(), "digits", G_TYPE_STRING, a.digits.c_str(), nullptr));
            emit(gst_structure_new("ivr.done", "room", G_TYPE_STRING, a.room.room.c_str(), "service", G_TYPE_STRING,
                                   a.room.service.c_str(), nullptr));
            player_->room_audio(true);
            break;
        case ivr::Action::Kind::Failed:
            log(MGW_LOG_INFO, "giving up: %s", a.reason.c_str());
            emit(gst_structure_new("ivr.failed", "reason", G_TYPE_STRING, a.reason.c_str(), nullptr));
            break;
        }
    }

    // A GLib callback's body: an exception becomes the node's failure.
    template <typename F> void guarded(F &&body) noexcept
    {
        try {
            body();
            run();
        } catch (const std::exception &e) {
            fail(std::string("ivr: ") + e.what());
        } catch (...) {
            fail("ivr: unexpected exception");
        }
    }

    void arm()
    {
        disarm();
        const int64_t at = dialog_.next_deadline();
        if (at < 0 || !live_)
            return;
        const int64_t wait = std::max<int64_t>(0, at - now_ms());
        timer_ = g_timeout_add(static_cast<guint>(wait), tick, this);
    }

    void disarm()
    {
        if (timer_)
            g_source_remove(timer_);
        timer_ = 0;
    }

    static gboolean tick(gpointer data)
    {
        auto self = static_cast<Ivr *>(data);
        self->timer_ = 0;
        self->guarded([self] { self->dialog_.tick(now_ms()); });
        return G_SOURCE_REMOVE;
    }

    ivr::Dialog dialog_;
    std::unique_ptr<roomdir::RoomDirectory> directory_;
    std::unique_ptr<ivr::PromptPlayer> player_;
    std::map<Prompt, ivr::Samples> prompts_;
    std::map<Prompt, std::string> spoken_; // the text each spoken prompt was rendered from
    std::string prompt_sources_;
    bool live_ = false, running_ = false;
    guint timer_ = 0;
};

} // namespace

MEDIAGW_PLUGIN_VALUES(Ivr, "ivr", "0.1.0",
                      "asks the caller for a room and PIN by DTMF (spoken prompts), then passes the room's audio",
                      nullptr, "ivr.done,ivr.failed", "room,pin,service,url,display,digits", properties, ports);
