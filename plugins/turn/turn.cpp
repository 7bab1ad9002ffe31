// turn: STUN/TURN servers and credentials for the nodes that refer to it
// (a node without media ports). Not implemented yet (issue #6): `run`
// refuses it instead of doing nothing.
#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::list("servers", nullptr, "stun:/turn:/turns: URIs, e.g. \"turn:turn.example.org:3478?transport=udp\"",
                        mediagw::prop::required),
    mediagw::prop::string("username", "", "static TURN username"),
    mediagw::prop::string("password", "", "static TURN password", mediagw::prop::secret),
    mediagw::prop::string("secret", "", "shared secret for ephemeral (REST) credentials", mediagw::prop::secret),
    mediagw::prop::integer("ttl", "86400", "lifetime of ephemeral credentials in seconds"),
    mediagw::prop::choice("policy", "all|relay-only", "all", "relay-only forces media through the TURN server"),
};

class Turn : public mediagw::Node {
public:
    explicit Turn(const mgw_node_init *init) : Node(init)
    {
        throw mediagw::Error("plugin 'turn' is not implemented yet (issue #6)");
    }
};

} // namespace

MEDIAGW_PLUGIN(Turn, "turn", "0.1.0", "STUN/TURN servers and credentials for other nodes (not implemented yet)",
               "ice-servers", nullptr, properties, nullptr);
