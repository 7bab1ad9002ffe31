// One line per message on stderr: "12:00:00.123 INFO  [category] text".
// Categories are "core", "link" and one per node ("sip-sofia/sip").
#pragma once

#include <mediagw/plugin.h>

#include <string>

namespace mediagw {

void set_log_level(mgw_log_level level);
mgw_log_level log_level();
// "error", "warning", "info", "debug"; false when unknown.
bool parse_log_level(const std::string &text, mgw_log_level &level);
void log(mgw_log_level level, const std::string &category, const std::string &message);

} // namespace mediagw
