// A minimal well-formed plugin for the registry tests: no ports, one property.
#pragma once

#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::string("note", "", "unused"),
};

class Nothing : public mediagw::Node {
public:
    using Node::Node;
};

} // namespace
