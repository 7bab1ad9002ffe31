// Shared by the unit tests' plugins: a node that only has to exist (ghost
// pads without targets, one per declared port).
#pragma once

#include <mediagw/node.hpp>

namespace testplugin {

template <const mgw_port_spec *Ports, size_t N> class Stub : public mediagw::Node {
public:
    explicit Stub(const mgw_node_init *init) : Node(init)
    {
        for (size_t i = 0; i < N; ++i) {
            if (Ports[i].direction == MGW_PORT_INPUT)
                add_input(Ports[i].name);
            else
                add_output(Ports[i].name);
        }
    }
};

} // namespace testplugin
