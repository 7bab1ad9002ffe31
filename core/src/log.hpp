// One line per message on stderr: "12:00:00.123 INFO  [category] text".
// Categories are "core", "link" and one per node ("sip-sofia/sip").
#pragma once

#include <mediagw/plugin.h>

#include <cstdio>
#include <string>

namespace mediagw {

void set_log_level(mgw_log_level level);
// Any int to a valid level (plugins pass what they like).
mgw_log_level clamp_log_level(int level);
// Where lines go; nullptr restores stderr (tests capture the log).
void set_log_output(FILE *stream);
mgw_log_level log_level();
// "error", "warning", "info", "debug"; false when unknown.
bool parse_log_level(const std::string &text, mgw_log_level &level);
void log(mgw_log_level level, const std::string &category, const std::string &message);

} // namespace mediagw
