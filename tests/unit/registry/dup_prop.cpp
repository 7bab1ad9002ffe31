// A schema error: one property declared twice. Refused.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::integer("level", "1", "first"),
    mediagw::prop::integer("level", "2", "second"),
};

class Nothing : public mediagw::Node {
public:
    using Node::Node;
};

} // namespace

MEDIAGW_PLUGIN(Nothing, "dup-prop", "1.0", "Duplicate property", nullptr, nullptr, properties, nullptr);
