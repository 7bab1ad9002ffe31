// turn: STUN/TURN servers and credentials for the nodes that refer to it
// (`ice = "nat"`); a node without media ports. Static credentials, or
// ephemeral ones from a shared secret (the coturn REST scheme), made fresh
// for every query so that no consumer holds expired ones.
//
// query("ice-servers") -> ice-servers {
//     stun: strv   "stun://host:port"
//     turn: strv   "turn(s)://user:pass@host:port[?transport=tcp]" (webrtcbin's form)
//     username, password: string (for consumers that take them apart)
//     policy: "all" | "relay"
//     expires: int64 (unix time; 0 = static credentials)
// }
#include "ice_servers.hpp"

#include <mediagw/node.hpp>

namespace {

constexpr mgw_property_spec properties[] = {
    mediagw::prop::list("servers", nullptr,
                        "stun:/turn:/turns: URIs, e.g. \"turn:turn.example.org:3478?transport=udp\"; empty "
                        "items are skipped, so [\"${TURN_URL:-}\"] with TURN_URL unset means no server",
                        mediagw::prop::required),
    mediagw::prop::string("username", "", "static TURN username; with `secret`: the user part of ephemeral ones"),
    mediagw::prop::string("password", "", "static TURN password", mediagw::prop::secret),
    mediagw::prop::string("secret", "", "shared secret for ephemeral (REST) credentials", mediagw::prop::secret),
    mediagw::prop::integer("ttl", "86400", "lifetime of ephemeral credentials in seconds"),
    mediagw::prop::choice("policy", "all|relay-only", "all", "relay-only forces media through the TURN server"),
};

class Turn : public mediagw::Node {
public:
    explicit Turn(const mgw_node_init *init) : Node(init)
    {
        bool has_turn = false;
        auto uris = list("servers");
        for (size_t i = 0; i < uris.size(); ++i) {
            if (uris[i].empty()) // "${TURN_URL:-}" unset: no server, as a new user would expect
                continue;
            turn::Server s;
            std::string error;
            if (!turn::parse_server(uris[i], s, error))
                throw mediagw::Error("servers[" + std::to_string(i) + "]: " + error);
            has_turn |= s.scheme != "stun";
            servers_.push_back(s);
        }
        if (!str("secret").empty() && !str("password").empty())
            throw mediagw::Error("give either password (static credentials) or secret (ephemeral ones), not both");
        if (has_turn && str("secret").empty() && (str("username").empty() || str("password").empty()))
            throw mediagw::Error("a turn:/turns: server needs username + password, or secret");
        if (integer("ttl") < 60)
            throw mediagw::Error("ttl: at least 60 seconds");
        if (str("policy") == "relay-only" && !has_turn)
            throw mediagw::Error("policy = \"relay-only\" needs a turn:/turns: server");
        if (servers_.empty())
            log(MGW_LOG_INFO, "no STUN/TURN server configured (servers empty): ICE uses the host's own "
                              "addresses only, which reaches peers on the same network or with a public address");
        else
            log(MGW_LOG_INFO, "%zu server(s), %s credentials, policy %s", servers_.size(),
                str("secret").empty() ? "static" : "ephemeral (shared secret)", str("policy").c_str());
    }

    GstStructure *query(std::string_view what) override
    {
        if (what != "ice-servers")
            return nullptr;
        std::string username = str("username"), password = str("password");
        gint64 expires = 0;
        if (!str("secret").empty()) {
            expires = g_get_real_time() / G_USEC_PER_SEC + integer("ttl");
            turn::rest_credentials(str("secret"), str("username"), expires, username, password);
        }
        GStrvBuilder *stun = g_strv_builder_new(), *relay = g_strv_builder_new();
        for (const auto &s : servers_)
            g_strv_builder_add(s.scheme == "stun" ? stun : relay, turn::webrtcbin_uri(s, username, password).c_str());
        GStrv stun_v = g_strv_builder_end(stun), turn_v = g_strv_builder_end(relay);
        g_strv_builder_unref(stun);
        g_strv_builder_unref(relay);
        GstStructure *out = gst_structure_new("ice-servers", "stun", G_TYPE_STRV, stun_v, "turn", G_TYPE_STRV, turn_v,
                                              "username", G_TYPE_STRING, username.c_str(), "password", G_TYPE_STRING,
                                              password.c_str(), "policy", G_TYPE_STRING,
                                              str("policy") == "relay-only" ? "relay" : "all", "expires",
                                              G_TYPE_INT64, expires, nullptr);
        g_strfreev(stun_v);
        g_strfreev(turn_v);
        return out;
    }

private:
    std::vector<turn::Server> servers_;
};

} // namespace

MEDIAGW_PLUGIN(Turn, "turn", "0.2.0", "STUN/TURN servers and credentials (static or ephemeral) for other nodes",
               "ice-servers", nullptr, properties, nullptr);
