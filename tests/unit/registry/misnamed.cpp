// File mgw-misnamed.so, but the descriptor says another name: refused.
#include "stub_plugin.hpp"

MEDIAGW_PLUGIN(Nothing, "other-name", "1.0", "Name mismatch", nullptr, nullptr, properties, nullptr);
