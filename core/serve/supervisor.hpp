// The gateways of `mediagw serve`: warm pools per template, admission against
// the budget (per template and host total), reservations for the SIP front,
// gateways started by the API, every exit recorded (call records, counters);
// nothing is restarted silently (a warm gateway that dies is logged, counted
// and replaced). Main loop only.
#pragma once

#include "call_record.hpp"
#include "gateway_process.hpp"
#include "proc_stats.hpp"
#include "serve_config.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace mediagw::serve {

enum class GwState { Starting, Idle, Reserved, InCall, Stopping };
const char *state_name(GwState s);

struct CallInfo {
    bool happened = false;
    gint64 reserved_us = 0, incoming_us = 0, established_us = 0, ended_us = 0; // real time
    std::string from, to, end_reason;
    std::map<std::string, std::string> values;                       // published call values
    std::map<std::string, std::string> codecs;                       // node -> codec
    std::map<std::string, std::map<std::string, double>> rtp;        // node -> statistic -> value
};

struct ManagedGateway {
    std::string id;
    const Template *tpl = nullptr;
    bool from_api = false;
    std::string mode = "wait"; // API: "wait" for a caller or "dial" out
    std::string dial, room;
    std::map<std::string, std::string> values; // API: passed as environment variables
    GwState state = GwState::Starting;
    bool holds_slot = false; // counted against the budget
    std::string contact;     // sip:HOST:PORT, once listening
    gint64 created_us = 0;
    pid_t pid = -1;
    std::unique_ptr<GatewayProcess> proc;
    guint timer = 0; // start timeout, reservation timeout or stop grace
    std::function<void(bool ok, const std::string &contact_or_reason)> waiting; // a cold reservation
    std::string reserved_user;
    std::string stop_by; // "api", "supervisor" (drain, timeouts) when we asked it to stop
    std::string stop_reason;
    std::string exit_line_reason;
    int exit_line_code = -1;
    CallInfo call;
    ProcStats stats;
};

struct Counters {
    std::map<std::string, unsigned long> calls_started, calls_ended; // template
    std::map<std::pair<std::string, std::string>, unsigned long> ended_by; // template, who
    std::map<std::string, unsigned long> refused;                    // reason
    std::map<std::pair<std::string, std::string>, unsigned long> exits; // template, how
    std::map<std::string, unsigned long> warm_replaced;              // template
    std::map<std::string, unsigned long> redirects;                  // template
    std::map<std::string, unsigned long> reservations_expired;       // template
};

class Supervisor {
public:
    struct Decision {
        int status = 503;       // 302, 404 or 503
        std::string contact;    // with 302
        std::string reason;     // with 503/404: "host_cpu", "draining", ...
    };

    Supervisor(const ServeConfig &config, std::string self_exe, CallRecords &records);
    ~Supervisor();

    void start(); // the warm pools
    // The template for a request-URI user: the first `match`, else the default.
    const Template *route(const std::string &user) const;
    // Why a call of `t` is refused now, or nullopt when admitted.
    std::optional<std::string> refusal(const Template &t) const;
    bool accepting() const; // not draining and some template has room
    // A gateway for a caller of `t` (302 to its contact); `reply` may run
    // later, when a cold gateway is ready.
    void reserve(const Template &t, const std::string &user, std::function<void(const Decision &)> reply);
    void count_refusal(const std::string &reason) { ++counters_.refused[reason]; }

    // API: a gateway of its own (values as environment variables).
    ManagedGateway *start_gateway(const Template &t, const std::string &mode, const std::string &dial,
                                  const std::string &room, const std::map<std::string, std::string> &values,
                                  std::string &refused);
    bool stop(const std::string &id, const std::string &by, const std::string &reason);
    bool send_command(const std::string &id, const std::string &json_line);
    ManagedGateway *find(const std::string &id);
    const std::map<std::string, std::unique_ptr<ManagedGateway>> &gateways() const { return gateways_; }

    // SIGTERM: new calls refused, idle gateways stopped, running calls get
    // drain_timeout, then are stopped; `done` when no gateway is left.
    void drain(std::function<void()> done);
    bool draining() const { return draining_; }

    void refresh_stats(); // /proc figures of every gateway
    const Counters &counters() const { return counters_; }
    const ServeConfig &config() const { return config_; }
    double host_cpu() const { return host_cpu_; }
    double host_memory_mb() const { return host_memory_mb_; }

private:
    ManagedGateway *spawn(const Template &t, bool from_api, const std::string &dial,
                          const std::map<std::string, std::string> &values);
    void on_line(const std::string &id, JsonObject *line);
    void on_exit(const std::string &id, int wait_status);
    void became_ready(ManagedGateway &g);
    void replenish();
    int admissible(const Template &t) const; // more calls the budget allows now
    void arm(ManagedGateway &g, int seconds, void (Supervisor::*what)(ManagedGateway &));
    void start_timed_out(ManagedGateway &g);
    void reservation_expired(ManagedGateway &g);
    void kill_after_grace(ManagedGateway &g);
    void record(const ManagedGateway &g, int wait_status, const std::string &ended_by);
    void check_drained();

    const ServeConfig &config_;
    std::string self_exe_;
    CallRecords &records_;
    double host_cpu_, host_memory_mb_;
    std::map<std::string, std::unique_ptr<ManagedGateway>> gateways_;
    std::map<std::string, int> failures_;      // template -> gateways that died before a call, in a row
    std::map<std::string, guint> retry_timer_; // template -> delayed replenish
    unsigned long next_id_ = 1;
    bool draining_ = false;
    guint drain_timer_ = 0, stats_timer_ = 0;
    std::function<void()> drained_;
    Counters counters_;
};

} // namespace mediagw::serve
