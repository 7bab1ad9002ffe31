// test-refusing: its output's pad refuses every link (its link function
// says so), so the core's link to it must fail - and say which link.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_port_spec ports[] = {
    mediagw::port::output("audio", mediagw::port::audio, "audio/x-raw", "refuses to be linked"),
};

class Refusing : public mediagw::Node {
public:
    explicit Refusing(const mgw_node_init *init) : Node(init)
    {
        gst_pad_set_link_function(add_output("audio"),
                                  [](GstPad *, GstObject *, GstPad *) { return GST_PAD_LINK_REFUSED; });
    }
};

} // namespace

MEDIAGW_PLUGIN(Refusing, "test-refusing", "1.0", "An output that refuses links", nullptr, nullptr, nullptr, ports);
