// "dup" is built twice (first/, second/); DUP_VERSION tells the copies apart.
#include "stub_plugin.hpp"

MEDIAGW_PLUGIN(Nothing, "dup", DUP_VERSION, "Two modules, one name", nullptr, nullptr, properties, nullptr);
