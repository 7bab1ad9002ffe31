// How deep a JSON text nests arrays and objects, measured before a parser
// (json-glib recurses) sees text from the network.
#pragma once

#include <cstddef>

namespace mgwsupport {

// The deepest nesting (strings skipped); the scan stops once past `limit`.
int json_nesting(const char *data, std::size_t size, int limit);

} // namespace mgwsupport
