#include "metrics.hpp"

#include "supervisor.hpp"

#include <cstdio>
#include <sstream>

namespace mediagw::serve {

std::string prometheus_label(const std::string &value)
{
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\', out += c;
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

namespace {

struct Writer {
    std::ostringstream out;

    void head(const char *name, const char *type, const char *help)
    {
        out << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    }
    void sample(const char *name, const std::vector<std::pair<const char *, std::string>> &labels, double value)
    {
        out << name;
        if (!labels.empty()) {
            out << "{";
            for (size_t i = 0; i < labels.size(); ++i)
                out << (i ? "," : "") << labels[i].first << "=\"" << prometheus_label(labels[i].second) << "\"";
            out << "}";
        }
        char num[64];
        snprintf(num, sizeof num, "%.17g", value);
        out << " " << num << "\n";
    }
};

} // namespace

std::string render_metrics(Supervisor &s)
{
    s.refresh_stats();
    Writer w;
    const Counters &c = s.counters();

    w.head("mediagw_serve_gateways", "gauge", "Gateway processes by template and state.");
    for (auto &t : s.config().templates)
        for (GwState st : {GwState::Starting, GwState::Idle, GwState::Reserved, GwState::InCall, GwState::Stopping}) {
            int n = 0;
            for (auto &[id, g] : s.gateways())
                n += g->tpl == &t && g->state == st;
            w.sample("mediagw_serve_gateways", {{"template", t.name}, {"state", state_name(st)}}, n);
        }
    w.head("mediagw_serve_accepting", "gauge", "1 when a call would be admitted now (OPTIONS 200, /ready 200).");
    w.sample("mediagw_serve_accepting", {}, s.accepting() ? 1 : 0);
    w.head("mediagw_serve_draining", "gauge", "1 while draining (SIGTERM).");
    w.sample("mediagw_serve_draining", {}, s.draining() ? 1 : 0);
    double used_cpu = 0, used_mem = 0;
    for (auto &[id, g] : s.gateways())
        if (g->holds_slot)
            used_cpu += g->tpl->cpu, used_mem += g->tpl->memory_mb;
    w.head("mediagw_serve_budget_cpu_cores", "gauge", "The host's CPU budget, in cores.");
    w.sample("mediagw_serve_budget_cpu_cores", {}, s.host_cpu());
    w.head("mediagw_serve_budget_used_cpu_cores", "gauge", "CPU budget taken by calls and reservations.");
    w.sample("mediagw_serve_budget_used_cpu_cores", {}, used_cpu);
    w.head("mediagw_serve_budget_memory_bytes", "gauge", "The host's memory budget.");
    w.sample("mediagw_serve_budget_memory_bytes", {}, s.host_memory_mb() * 1048576);
    w.head("mediagw_serve_budget_used_memory_bytes", "gauge", "Memory budget taken by calls and reservations.");
    w.sample("mediagw_serve_budget_used_memory_bytes", {}, used_mem * 1048576);

    auto per_template = [&](const char *name, const char *help, const std::map<std::string, unsigned long> &m) {
        w.head(name, "counter", help);
        for (auto &t : s.config().templates) {
            auto it = m.find(t.name);
            w.sample(name, {{"template", t.name}}, it == m.end() ? 0 : double(it->second));
        }
    };
    per_template("mediagw_serve_calls_started_total", "Calls a gateway took (INVITE reached it, or dial-out answered).",
                 c.calls_started);
    per_template("mediagw_serve_redirects_total", "INVITEs answered 302 to a gateway.", c.redirects);
    per_template("mediagw_serve_reservations_expired_total", "302s not followed by an INVITE in time.",
                 c.reservations_expired);
    per_template("mediagw_serve_warm_replaced_total", "Gateways that died before any call (logged, replaced).",
                 c.warm_replaced);
    w.head("mediagw_serve_calls_ended_total", "counter", "Calls ended, by who ended them.");
    for (auto &[k, n] : c.ended_by)
        w.sample("mediagw_serve_calls_ended_total", {{"template", k.first}, {"ended_by", k.second}}, double(n));
    w.head("mediagw_serve_calls_refused_total", "counter", "Calls and API starts refused, by reason.");
    for (const char *r : {"host_cpu", "host_memory", "template_full", "draining", "no_template", "start_failed"}) {
        auto it = c.refused.find(r);
        w.sample("mediagw_serve_calls_refused_total", {{"reason", r}}, it == c.refused.end() ? 0 : double(it->second));
    }
    w.head("mediagw_serve_gateway_exits_total", "counter", "Gateway process exits (ok, error, signal).");
    for (auto &[k, n] : c.exits)
        w.sample("mediagw_serve_gateway_exits_total", {{"template", k.first}, {"how", k.second}}, double(n));

    w.head("mediagw_serve_gateway_cpu_seconds_total", "counter", "CPU time of a gateway process (user + system).");
    for (auto &[id, g] : s.gateways())
        w.sample("mediagw_serve_gateway_cpu_seconds_total", {{"gateway", id}, {"template", g->tpl->name}},
                 g->stats.cpu_seconds);
    w.head("mediagw_serve_gateway_rss_bytes", "gauge", "Resident memory of a gateway process.");
    for (auto &[id, g] : s.gateways())
        w.sample("mediagw_serve_gateway_rss_bytes", {{"gateway", id}, {"template", g->tpl->name}},
                 g->stats.rss_mb * 1048576);
    w.head("mediagw_serve_gateway_pss_bytes", "gauge", "Proportional set size of a gateway process.");
    for (auto &[id, g] : s.gateways())
        w.sample("mediagw_serve_gateway_pss_bytes", {{"gateway", id}, {"template", g->tpl->name}},
                 g->stats.pss_mb * 1048576);
    w.head("mediagw_serve_gateway_rtp", "gauge", "RTP statistics a gateway's nodes report per leg (rtp.stats).");
    for (auto &[id, g] : s.gateways())
        for (auto &[node, stats] : g->call.rtp)
            for (auto &[stat, v] : stats)
                w.sample("mediagw_serve_gateway_rtp", {{"gateway", id}, {"leg", node}, {"stat", stat}}, v);
    return w.out.str();
}

} // namespace mediagw::serve
