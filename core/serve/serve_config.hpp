// `mediagw serve FILE`: the TOML that describes a host of gateways.
//   [serve]          sip, api, token, cpu, memory_mb, gateway_address,
//                    retry_after, reservation_timeout, drain_timeout,
//                    records, records_url, metrics_public, gateway_logs
//   [template.NAME]  pipeline, warm, cpu, memory_mb, max_calls, match,
//                    default, sip_node, env = { ... }, set = [ ... ]
// Errors name file:line:col (Diagnostics), like the pipeline loader's.
#pragma once

#include "diagnostics.hpp"
#include "pipeline_desc.hpp"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mediagw::serve {

// Per gateway (one call) unless a template says otherwise. From
// docs/benchmarks.md: the heaviest measured bridge, PCMU <-> Opus in serve mode,
// took 4.10 % of a core per call (SIP <-> WebRTC table, median) and the
// largest gateway RSS was 37.4 MB (SIP -> Janus, A+V PCMU). A browser-capture
// template needs far more: give it its own figures.
constexpr double kDefaultGatewayCpu = 0.041;
constexpr double kDefaultGatewayMemoryMb = 38;

struct Template {
    std::string name;
    std::string pipeline;           // absolute, or relative to the serve file's folder
    int warm = 1;                   // gateways kept started, waiting for a call
    double cpu = kDefaultGatewayCpu; // cores per call
    double memory_mb = kDefaultGatewayMemoryMb;
    int max_calls = 0;              // 0: only the budget limits it
    std::string match;              // regex on the request-URI's user part
    bool is_default = false;
    std::string sip_node = "sip";   // whose `listen` the supervisor sets
    std::map<std::string, std::string> env;
    std::vector<std::string> overrides; // --set NODE.PROP=VALUE
    Location where;
};

struct ServeConfig {
    std::string file;
    std::string sip = "udp:127.0.0.1:5060"; // the host's SIP front (redirect server)
    std::string api = "127.0.0.1:8088";      // HTTP API; "" turns it off
    std::string token;                        // bearer token for the API (required with an API)
    double cpu = 0;                           // host budget in cores; 0: the online CPUs
    double memory_mb = 0;                     // 0: 80 % of MemTotal
    std::string gateway_address = "127.0.0.1"; // where gateways listen; the 302's Contact host
    int retry_after = 10;                     // seconds, in 503s
    int reservation_timeout = 5;              // a 302'd gateway not called within this is released
    int drain_timeout = 60;                   // SIGTERM: running calls get this long
    int start_timeout = 10;                   // a gateway not ready within this is stopped
    std::string records;                      // call records appended here (JSON lines)
    std::string records_url;                  // and POSTed here
    bool metrics_public = false;              // /metrics without the token
    std::string gateway_logs;                 // a folder: one log per gateway (ID.log); empty: our stderr
    std::vector<Template> templates;

    const Template *find(const std::string &name) const;
};

std::optional<ServeConfig> load_serve_config(const std::string &path, const Environment &env, Diagnostics &diags);
std::optional<ServeConfig> load_serve_string(const std::string &text, const std::string &file, const Environment &env,
                                             Diagnostics &diags);

} // namespace mediagw::serve
