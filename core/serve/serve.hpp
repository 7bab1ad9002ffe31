// `mediagw serve FILE`: the supervisor's main (serve_config.hpp for the file).
#pragma once

#include <string>

namespace mediagw::serve {

// Runs until SIGTERM/SIGINT (drained) ; returns the exit code (0, 1 runtime
// failure, 2 bad input).
int run(const std::string &file);

} // namespace mediagw::serve
