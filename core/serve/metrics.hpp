// Prometheus text exposition (format 0.0.4) of a Supervisor: gateways by
// state and template, calls started/ended (by who ended them), refusals by
// reason, exits, warm gateways replaced, budget, per-gateway CPU seconds and
// RSS/PSS (from /proc) and RTP statistics the nodes report (rtp.stats).
#pragma once

#include <string>

namespace mediagw::serve {

class Supervisor;

std::string render_metrics(Supervisor &supervisor);
std::string prometheus_label(const std::string &value); // escaped, without quotes

} // namespace mediagw::serve
