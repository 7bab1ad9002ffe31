#include "supervisor.hpp"

#include "log.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <csignal>

namespace mediagw::serve {

const char *state_name(GwState s)
{
    switch (s) {
    case GwState::Starting: return "starting";
    case GwState::Idle: return "idle";
    case GwState::Reserved: return "reserved";
    case GwState::InCall: return "in_call";
    case GwState::Stopping: return "stopping";
    }
    return "?";
}

namespace {

constexpr int kStopGraceSeconds = 10; // a gateway asked to stop, then SIGKILLed
constexpr double kEpsilon = 1e-9;     // budget sums of decimal fractions

std::string text_member(JsonObject *o, const char *name)
{
    const char *s = json_object_get_string_member_with_default(o, name, nullptr);
    return s ? s : "";
}

void add_string(JsonBuilder *b, const char *name, const std::string &value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_string_value(b, value.c_str());
}

void add_time(JsonBuilder *b, const char *name, gint64 real_us)
{
    json_builder_set_member_name(b, name);
    if (!real_us) {
        json_builder_add_null_value(b);
        return;
    }
    GDateTime *t = g_date_time_new_from_unix_utc(real_us / G_USEC_PER_SEC);
    GDateTime *precise = g_date_time_add(t, real_us % G_USEC_PER_SEC);
    gchar *iso = g_date_time_format_iso8601(precise);
    json_builder_add_string_value(b, iso);
    g_free(iso);
    g_date_time_unref(precise);
    g_date_time_unref(t);
}

// Call records and logs keep no secrets: a value whose name says it is one
// (a room PIN from an X-Room-Pin header, a token) is written as "(redacted)".
std::string recordable(const std::string &name, const std::string &value)
{
    gchar *lower = g_ascii_strdown(name.c_str(), -1);
    const std::string n = lower;
    g_free(lower);
    for (const char *secret : {"pin", "pass", "secret", "token", "key", "auth"})
        if (n.find(secret) != std::string::npos)
            return "(redacted)";
    return value;
}

} // namespace

Supervisor::Supervisor(const ServeConfig &config, std::string self_exe, CallRecords &records)
    : config_(config), self_exe_(std::move(self_exe)), records_(records),
      host_cpu_(config.cpu > 0 ? config.cpu : online_cpus()),
      host_memory_mb_(config.memory_mb > 0 ? config.memory_mb : 0.8 * memory_total_mb())
{
}

Supervisor::~Supervisor()
{
    for (auto &[tpl, t] : retry_timer_)
        if (t)
            g_source_remove(t);
    if (drain_timer_)
        g_source_remove(drain_timer_);
    if (stats_timer_)
        g_source_remove(stats_timer_);
    for (auto &[id, g] : gateways_)
        if (g->timer)
            g_source_remove(g->timer);
    gateways_.clear(); // each GatewayProcess kills its group and reaps it
}

void Supervisor::start()
{
    log(MGW_LOG_INFO, "serve",
        "budget: " + std::to_string(host_cpu_).substr(0, 5) + " cores, " + std::to_string(int(host_memory_mb_)) +
            " MB");
    for (auto &t : config_.templates)
        log(MGW_LOG_INFO, "serve",
            "template '" + t.name + "': " + t.pipeline + ", " + std::to_string(t.warm) + " warm, up to " +
                std::to_string(admissible(t)) + " calls now");
    replenish();
    // CPU seconds of a gateway are read while it lives: a call's record
    // gets its last reading (at most 2 s old).
    stats_timer_ = g_timeout_add_seconds(
        2,
        [](gpointer data) -> gboolean {
            static_cast<Supervisor *>(data)->refresh_stats();
            return G_SOURCE_CONTINUE;
        },
        this);
}

const Template *Supervisor::route(const std::string &user) const
{
    const Template *fallback = config_.templates.size() == 1 ? &config_.templates[0] : nullptr;
    for (auto &t : config_.templates) {
        if (!t.match.empty() && g_regex_match_simple(t.match.c_str(), user.c_str(), GRegexCompileFlags(0),
                                                     GRegexMatchFlags(0)))
            return &t;
        if (t.is_default)
            fallback = &t;
    }
    return fallback;
}

int Supervisor::admissible(const Template &t) const
{
    double cpu = 0, memory = 0;
    int of_template = 0;
    for (auto &[id, g] : gateways_)
        if (g->holds_slot) {
            cpu += g->tpl->cpu;
            memory += g->tpl->memory_mb;
            of_template += g->tpl == &t;
        }
    int n = int(std::floor((host_cpu_ - cpu + kEpsilon) / t.cpu));
    n = std::min(n, int(std::floor((host_memory_mb_ - memory + kEpsilon) / t.memory_mb)));
    if (t.max_calls)
        n = std::min(n, t.max_calls - of_template);
    return std::max(n, 0);
}

std::optional<std::string> Supervisor::refusal(const Template &t) const
{
    if (draining_)
        return "draining";
    double cpu = 0, memory = 0;
    int of_template = 0;
    for (auto &[id, g] : gateways_)
        if (g->holds_slot) {
            cpu += g->tpl->cpu;
            memory += g->tpl->memory_mb;
            of_template += g->tpl == &t;
        }
    if (t.max_calls && of_template >= t.max_calls)
        return "template_full";
    if (cpu + t.cpu > host_cpu_ + kEpsilon)
        return "host_cpu";
    if (memory + t.memory_mb > host_memory_mb_ + kEpsilon)
        return "host_memory";
    return std::nullopt;
}

bool Supervisor::accepting() const
{
    if (draining_)
        return false;
    for (auto &t : config_.templates)
        if (!refusal(t))
            return true;
    return false;
}

// Throws std::runtime_error when the process cannot be started.
ManagedGateway *Supervisor::spawn(const Template &t, bool from_api, const std::string &dial,
                                  const std::map<std::string, std::string> &values)
{
    auto g = std::make_unique<ManagedGateway>();
    g->id = t.name + "-" + std::to_string(next_id_++);
    g->tpl = &t;
    g->from_api = from_api;
    g->created_us = g_get_real_time();
    ProcessSpec spec;
    spec.argv = {self_exe_, "run", "--control-fd", "3", "--set", "gateway.after_call=exit",
                 "--set", t.sip_node + ".listen=udp:" + config_.gateway_address + ":0"};
    if (!dial.empty())
        spec.argv.insert(spec.argv.end(), {"--set", t.sip_node + ".dial=" + dial});
    for (auto &o : t.overrides)
        spec.argv.insert(spec.argv.end(), {"--set", o});
    spec.argv.push_back(t.pipeline);
    spec.env = t.env;
    for (auto &[k, v] : values)
        spec.env[k] = v;
    spec.env["MEDIAGW_GATEWAY_ID"] = g->id;
    if (!config_.gateway_logs.empty())
        spec.log_path = config_.gateway_logs + "/" + g->id + ".log";
    const std::string id = g->id;
    g->proc = std::make_unique<GatewayProcess>(
        spec, [this, id](JsonObject *line) { on_line(id, line); },
        [this, id](int status) { on_exit(id, status); });
    g->pid = g->proc->pid();
    ManagedGateway &ref = *g;
    gateways_[id] = std::move(g);
    arm(ref, config_.start_timeout, &Supervisor::start_timed_out);
    log(MGW_LOG_INFO, "serve", "gateway " + id + " started (pid " + std::to_string(ref.pid) + ")");
    return &ref;
}

void Supervisor::replenish()
{
    if (draining_)
        return;
    for (auto &t : config_.templates) {
        if (retry_timer_[t.name])
            continue;
        int idle = 0;
        for (auto &[id, g] : gateways_)
            idle += g->tpl == &t && !g->from_api && !g->holds_slot &&
                    (g->state == GwState::Starting || g->state == GwState::Idle);
        const int want = std::min(t.warm, admissible(t));
        for (int i = idle; i < want; ++i) {
            try {
                spawn(t, false, "", {});
            } catch (const std::exception &e) {
                log(MGW_LOG_ERROR, "serve", "template '" + t.name + "': cannot start a gateway: " + e.what());
                break;
            }
        }
    }
}

void Supervisor::arm(ManagedGateway &g, int seconds, void (Supervisor::*what)(ManagedGateway &))
{
    if (g.timer)
        g_source_remove(g.timer);
    struct Ctx {
        Supervisor *self;
        std::string id;
        void (Supervisor::*what)(ManagedGateway &);
    };
    g.timer = g_timeout_add_full(
        G_PRIORITY_DEFAULT, guint(seconds * 1000),
        [](gpointer data) -> gboolean {
            auto c = static_cast<Ctx *>(data);
            if (ManagedGateway *g = c->self->find(c->id)) {
                g->timer = 0;
                (c->self->*c->what)(*g);
            }
            return G_SOURCE_REMOVE;
        },
        new Ctx{this, g.id, what}, [](gpointer data) { delete static_cast<Ctx *>(data); });
}

void Supervisor::start_timed_out(ManagedGateway &g)
{
    if (g.state != GwState::Starting)
        return;
    log(MGW_LOG_WARNING, "serve",
        "gateway " + g.id + " not ready within " + std::to_string(config_.start_timeout) + " s: stopping it");
    stop(g.id, "supervisor", "not ready within start_timeout");
}

void Supervisor::reservation_expired(ManagedGateway &g)
{
    if (g.state != GwState::Reserved)
        return;
    log(MGW_LOG_INFO, "serve", "gateway " + g.id + ": no INVITE within the reservation: back to the pool");
    ++counters_.reservations_expired[g.tpl->name];
    g.state = GwState::Idle;
    g.holds_slot = false;
    g.reserved_user.clear();
    g.call.reserved_us = 0;
    if (draining_)
        stop(g.id, "supervisor", "drain");
}

void Supervisor::kill_after_grace(ManagedGateway &g)
{
    log(MGW_LOG_WARNING, "serve", "gateway " + g.id + " did not stop within " + std::to_string(kStopGraceSeconds) +
                                      " s: killing it");
    g.proc->kill_group(SIGKILL);
}

void Supervisor::reserve(const Template &t, const std::string &user, std::function<void(const Decision &)> reply)
{
    if (auto why = refusal(t)) {
        ++counters_.refused[*why];
        reply({503, "", *why});
        return;
    }
    auto contact_for = [user](const std::string &contact) {
        // sip:HOST:PORT -> sip:USER@HOST:PORT: the gateway sees the dialled user.
        if (user.empty() || contact.rfind("sip:", 0) != 0)
            return contact;
        return "sip:" + user + "@" + contact.substr(4);
    };
    ManagedGateway *chosen = nullptr;
    for (auto &[id, g] : gateways_)
        if (g->tpl == &t && !g->from_api && g->state == GwState::Idle && !g->holds_slot) {
            chosen = g.get();
            break;
        }
    if (chosen) {
        chosen->state = GwState::Reserved;
        chosen->holds_slot = true;
        chosen->reserved_user = user;
        chosen->call.reserved_us = g_get_real_time();
        arm(*chosen, config_.reservation_timeout, &Supervisor::reservation_expired);
        ++counters_.redirects[t.name];
        reply({302, contact_for(chosen->contact), ""});
        replenish();
        return;
    }
    // No warm gateway: a cold one, answered once it listens.
    try {
        chosen = spawn(t, false, "", {});
    } catch (const std::exception &e) {
        ++counters_.refused["start_failed"];
        reply({503, "", std::string("start_failed: ") + e.what()});
        return;
    }
    chosen->holds_slot = true;
    chosen->reserved_user = user;
    const std::string tname = t.name;
    chosen->waiting = [this, reply, contact_for, tname](bool ok, const std::string &what) {
        if (ok) {
            ++counters_.redirects[tname];
            reply({302, contact_for(what), ""});
        } else {
            ++counters_.refused["start_failed"];
            reply({503, "", "start_failed: " + what});
        }
    };
    replenish();
}

ManagedGateway *Supervisor::start_gateway(const Template &t, const std::string &mode, const std::string &dial,
                                          const std::string &room, const std::map<std::string, std::string> &values,
                                          std::string &refused)
{
    if (auto why = refusal(t)) {
        ++counters_.refused[*why];
        refused = *why;
        return nullptr;
    }
    ManagedGateway *g = nullptr;
    try {
        g = spawn(t, true, mode == "dial" ? dial : "", values);
    } catch (const std::exception &e) {
        refused = std::string("start_failed: ") + e.what();
        return nullptr;
    }
    g->holds_slot = true;
    g->mode = mode;
    g->dial = dial;
    g->room = room;
    g->values = values;
    return g;
}

bool Supervisor::stop(const std::string &id, const std::string &by, const std::string &reason)
{
    ManagedGateway *g = find(id);
    if (!g)
        return false;
    if (g->state == GwState::Stopping)
        return true;
    if (g->waiting) {
        auto waiting = std::move(g->waiting);
        g->waiting = nullptr;
        waiting(false, "stopped");
    }
    g->state = GwState::Stopping;
    g->stop_by = by;
    g->stop_reason = reason;
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "command", "stop");
    add_string(b, "reason", by + ": " + reason);
    json_builder_end_object(b);
    JsonNode *root = json_builder_get_root(b);
    gchar *text = json_to_string(root, FALSE);
    if (!g->proc->send(text))
        g->proc->kill_group(SIGTERM); // no channel: the signal drains it too
    g_free(text);
    json_node_unref(root);
    g_object_unref(b);
    arm(*g, kStopGraceSeconds, &Supervisor::kill_after_grace);
    return true;
}

bool Supervisor::send_command(const std::string &id, const std::string &json_line)
{
    ManagedGateway *g = find(id);
    return g && g->proc->send(json_line);
}

ManagedGateway *Supervisor::find(const std::string &id)
{
    auto it = gateways_.find(id);
    return it == gateways_.end() ? nullptr : it->second.get();
}

void Supervisor::became_ready(ManagedGateway &g)
{
    failures_[g.tpl->name] = 0;
    if (g.timer)
        g_source_remove(g.timer);
    g.timer = 0;
    if (g.waiting) { // a cold start for a caller
        auto waiting = std::move(g.waiting);
        g.waiting = nullptr;
        g.state = GwState::Reserved;
        g.call.reserved_us = g_get_real_time();
        arm(g, config_.reservation_timeout, &Supervisor::reservation_expired);
        waiting(true, g.contact);
        return;
    }
    g.state = GwState::Idle;
    log(MGW_LOG_DEBUG, "serve", "gateway " + g.id + " ready at " + g.contact);
}

void Supervisor::on_line(const std::string &id, JsonObject *line)
{
    ManagedGateway *gp = find(id);
    if (!gp)
        return;
    ManagedGateway &g = *gp;
    const std::string event = text_member(line, "event");
    const std::string node = text_member(line, "node");
    if (node.empty()) {
        if (event == "exit") {
            g.exit_line_code = int(json_object_get_int_member_with_default(line, "code", -1));
            g.exit_line_reason = text_member(line, "reason");
        }
        return;
    }
    JsonNode *fields_node = json_object_get_member(line, "fields");
    JsonObject *fields =
        fields_node && JSON_NODE_HOLDS_OBJECT(fields_node) ? json_node_get_object(fields_node) : nullptr;
    auto field = [&](const char *name) { return fields ? text_member(fields, name) : std::string(); };
    if (event == "listening" && node == g.tpl->sip_node) {
        g.contact = field("uri");
        if (g.state == GwState::Starting)
            became_ready(g);
    } else if (event == "call.incoming") {
        if (g.timer && g.state == GwState::Reserved) {
            g_source_remove(g.timer);
            g.timer = 0;
        }
        if (g.state != GwState::Stopping)
            g.state = GwState::InCall;
        if (!g.holds_slot)
            log(MGW_LOG_WARNING, "serve", "gateway " + g.id + " took a call it was not reserved for");
        g.holds_slot = true;
        g.call.happened = true;
        g.call.incoming_us = g_get_real_time();
        g.call.from = field("from");
        g.call.to = field("to");
        ++counters_.calls_started[g.tpl->name];
        replenish();
    } else if (event == "call.established") {
        g.call.established_us = g_get_real_time();
        g.call.codecs[node] = field("codec");
        if (!g.call.happened) { // a dial-out: no call.incoming
            g.call.happened = true;
            g.state = g.state == GwState::Stopping ? g.state : GwState::InCall;
            ++counters_.calls_started[g.tpl->name];
        }
    } else if (event == "call.ended") {
        g.call.ended_us = g_get_real_time();
        g.call.end_reason = field("reason");
    } else if (event == "values" && fields) {
        GList *members = json_object_get_members(fields);
        for (GList *m = members; m; m = m->next)
            g.call.values[node + "." + static_cast<const char *>(m->data)] =
                text_member(fields, static_cast<const char *>(m->data));
        g_list_free(members);
    } else if (event == "rtp.stats" && fields) {
        // A node's RTP statistics for its leg: numeric fields (packets, lost, jitter_ms, ...).
        GList *members = json_object_get_members(fields);
        for (GList *m = members; m; m = m->next) {
            JsonNode *v = json_object_get_member(fields, static_cast<const char *>(m->data));
            if (JSON_NODE_HOLDS_VALUE(v) && json_node_get_value_type(v) != G_TYPE_STRING &&
                json_node_get_value_type(v) != G_TYPE_BOOLEAN)
                g.call.rtp[node][static_cast<const char *>(m->data)] = json_node_get_double(v);
        }
        g_list_free(members);
    }
}

void Supervisor::on_exit(const std::string &id, int wait_status)
{
    auto it = gateways_.find(id);
    if (it == gateways_.end())
        return;
    ManagedGateway &g = *it->second;
    if (g.timer)
        g_source_remove(g.timer);
    g.timer = 0;
    const std::string how = GatewayProcess::describe(wait_status);
    const bool signalled = WIFSIGNALED(wait_status);
    // Who ended it: whoever asked it to stop (even if it then needed a
    // SIGKILL), else a signal nobody sent on purpose is a crash, else the
    // call's own end.
    std::string ended_by;
    if (!g.stop_by.empty())
        ended_by = g.stop_by;
    else if (signalled)
        ended_by = "crash";
    else if (g.call.end_reason == "bye" || g.call.end_reason == "cancel")
        ended_by = "caller";
    else if (g.call.end_reason.find("/room.") != std::string::npos)
        ended_by = "room";
    else
        ended_by = "gateway";
    const bool had_call = g.call.happened;
    log(had_call || !g.stop_by.empty() ? MGW_LOG_INFO : MGW_LOG_WARNING, "serve",
        "gateway " + id + " (pid " + std::to_string(g.pid) + ") " + how +
            (g.exit_line_reason.empty() ? "" : ": " + g.exit_line_reason) + (had_call ? "; ended by " + ended_by : ""));
    const std::string exit_kind = signalled ? "signal" : WEXITSTATUS(wait_status) == 0 ? "ok" : "error";
    ++counters_.exits[{g.tpl->name, exit_kind}];
    if (had_call) {
        ++counters_.calls_ended[g.tpl->name];
        ++counters_.ended_by[{g.tpl->name, ended_by}];
    }
    if (had_call || g.from_api)
        record(g, wait_status, ended_by);
    if (g.waiting) {
        auto waiting = std::move(g.waiting);
        g.waiting = nullptr;
        waiting(false, how);
    }
    // Nothing restarts silently: a pool gateway that died without a call
    // is logged above, counted here, and replaced below (with a back-off
    // when they keep dying: a broken pipeline must not fork in a loop).
    if (!had_call && !g.from_api && g.stop_by.empty()) {
        ++counters_.warm_replaced[g.tpl->name];
        const int n = ++failures_[g.tpl->name];
        if (n >= 2 && !draining_) {
            const int delay = 1 << std::min(n, 6);
            log(MGW_LOG_WARNING, "serve", "template '" + g.tpl->name + "': " + std::to_string(n) +
                                              " gateways in a row died before a call: next try in " +
                                              std::to_string(delay) + " s");
            struct Ctx {
                Supervisor *self;
                std::string tpl;
            };
            guint &timer = retry_timer_[g.tpl->name];
            if (!timer)
                timer = g_timeout_add_full(
                    G_PRIORITY_DEFAULT, guint(delay * 1000),
                    [](gpointer data) -> gboolean {
                        auto c = static_cast<Ctx *>(data);
                        c->self->retry_timer_[c->tpl] = 0;
                        c->self->replenish();
                        return G_SOURCE_REMOVE;
                    },
                    new Ctx{this, g.tpl->name}, [](gpointer data) { delete static_cast<Ctx *>(data); });
        }
    }
    gateways_.erase(it);
    replenish();
    check_drained();
}

void Supervisor::record(const ManagedGateway &g, int wait_status, const std::string &ended_by)
{
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    add_string(b, "gateway", g.id);
    add_string(b, "template", g.tpl->name);
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, g.pid);
    add_string(b, "origin", g.from_api ? "api" : "sip");
    if (g.from_api) {
        add_string(b, "mode", g.mode);
        if (!g.dial.empty())
            add_string(b, "dial", g.dial);
        add_string(b, "room", g.room);
    }
    add_time(b, "created", g.created_us);
    add_time(b, "reserved", g.call.reserved_us);
    add_time(b, "incoming", g.call.incoming_us);
    add_time(b, "established", g.call.established_us);
    add_time(b, "ended", g.call.ended_us ? g.call.ended_us : g_get_real_time());
    json_builder_set_member_name(b, "duration_s");
    json_builder_add_double_value(
        b, g.call.established_us ? double((g.call.ended_us ? g.call.ended_us : g_get_real_time()) -
                                          g.call.established_us) / G_USEC_PER_SEC
                                 : 0.0);
    add_string(b, "from", g.call.from);
    add_string(b, "to", g.call.to);
    add_string(b, "user", g.reserved_user);
    json_builder_set_member_name(b, "values");
    json_builder_begin_object(b);
    for (auto &[k, v] : g.values) // the API's, then the call's own
        add_string(b, k.c_str(), recordable(k, v));
    for (auto &[k, v] : g.call.values)
        add_string(b, k.c_str(), recordable(k, v));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "codecs");
    json_builder_begin_object(b);
    for (auto &[node, codec] : g.call.codecs)
        add_string(b, node.c_str(), codec);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "rtp");
    json_builder_begin_object(b);
    for (auto &[node, stats] : g.call.rtp) {
        json_builder_set_member_name(b, node.c_str());
        json_builder_begin_object(b);
        for (auto &[k, v] : stats) {
            json_builder_set_member_name(b, k.c_str());
            json_builder_add_double_value(b, v);
        }
        json_builder_end_object(b);
    }
    json_builder_end_object(b);
    add_string(b, "end_reason", !g.call.end_reason.empty() ? g.call.end_reason
                                : !g.stop_reason.empty()   ? g.stop_reason
                                                           : GatewayProcess::describe(wait_status));
    add_string(b, "ended_by", ended_by);
    json_builder_set_member_name(b, "exit");
    json_builder_begin_object(b);
    add_string(b, "status", GatewayProcess::describe(wait_status));
    json_builder_set_member_name(b, "code");
    if (WIFEXITED(wait_status))
        json_builder_add_int_value(b, WEXITSTATUS(wait_status));
    else
        json_builder_add_null_value(b);
    json_builder_set_member_name(b, "signal");
    if (WIFSIGNALED(wait_status))
        json_builder_add_int_value(b, WTERMSIG(wait_status));
    else
        json_builder_add_null_value(b);
    add_string(b, "reason", g.exit_line_reason);
    json_builder_end_object(b);
    json_builder_set_member_name(b, "cpu_seconds");
    json_builder_add_double_value(b, g.stats.cpu_seconds);
    json_builder_end_object(b);
    records_.write(json_builder_get_root(b));
    g_object_unref(b);
}

void Supervisor::drain(std::function<void()> done)
{
    if (draining_)
        return;
    draining_ = true;
    drained_ = std::move(done);
    // Calls in progress (or a caller on its way: a reservation) may finish;
    // every other gateway, warm or started by the API and still waiting, stops.
    std::vector<std::string> idle, busy;
    for (auto &[id, g] : gateways_)
        (g->state == GwState::InCall || g->state == GwState::Reserved ? busy : idle).push_back(id);
    log(MGW_LOG_INFO, "serve", "draining: " + std::to_string(idle.size()) + " idle gateways stopped, " +
                                   std::to_string(busy.size()) + " calls get " +
                                   std::to_string(config_.drain_timeout) + " s");
    for (auto &id : idle)
        stop(id, "supervisor", "drain");
    drain_timer_ = g_timeout_add_seconds(
        guint(config_.drain_timeout),
        [](gpointer data) -> gboolean {
            auto self = static_cast<Supervisor *>(data);
            self->drain_timer_ = 0;
            std::vector<std::string> ids;
            for (auto &[id, g] : self->gateways_)
                ids.push_back(id);
            for (auto &id : ids)
                self->stop(id, "supervisor", "drain_timeout reached");
            return G_SOURCE_REMOVE;
        },
        this);
    check_drained();
}

void Supervisor::check_drained()
{
    if (!draining_ || !gateways_.empty() || !drained_)
        return;
    auto done = std::move(drained_);
    drained_ = nullptr;
    done();
}

void Supervisor::refresh_stats()
{
    for (auto &[id, g] : gateways_)
        if (g->pid > 0)
            if (auto s = read_proc_stats(g->pid))
                g->stats = *s;
}

} // namespace mediagw::serve
