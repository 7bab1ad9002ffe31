#include "nat/turn_checks.hpp"

namespace sipsofia::turn {

using stun::Problem;

namespace {

// The same IP whatever its spelling ("2001:DB8::1" from SDP, "2001:db8::1" decoded).
bool same_ip(const std::string &a, const std::string &b)
{
    GInetAddress *x = g_inet_address_new_from_string(a.c_str()), *y = g_inet_address_new_from_string(b.c_str());
    const bool same = x && y && g_inet_address_equal(x, y);
    g_clear_object(&x);
    g_clear_object(&y);
    return same;
}

} // namespace

Problem check_source(GSocketAddress *from, GSocketAddress *server)
{
    if (!from || !server || !G_IS_INET_SOCKET_ADDRESS(from) || !G_IS_INET_SOCKET_ADDRESS(server))
        return Problem::WrongSource;
    auto *a = G_INET_SOCKET_ADDRESS(from), *b = G_INET_SOCKET_ADDRESS(server);
    if (g_inet_socket_address_get_port(a) != g_inet_socket_address_get_port(b) ||
        !g_inet_address_equal(g_inet_socket_address_get_address(a), g_inet_socket_address_get_address(b)))
        return Problem::WrongSource;
    return Problem::None;
}

Problem check_response(const uint8_t *data, size_t len, const stun::Message &m, uint16_t request_method,
                       const std::string &request_key)
{
    if (m.cls != stun::Success && m.cls != stun::Error)
        return Problem::NotResponse;
    if (m.method != request_method) // the id matched, the method must too
        return Problem::UnknownTransaction;
    if (request_key.empty())
        return Problem::None; // no credentials yet: nothing to check against
    if (!m.integrity_at) {
        const int code = m.error().first;
        const bool asks_credentials = m.cls == stun::Error && (code == 401 || code == 438);
        return asks_credentials ? Problem::None : Problem::MissingIntegrity;
    }
    return stun::integrity_ok(data, len, m, request_key) ? Problem::None : Problem::BadIntegrity;
}

Problem check_channel_data(const uint8_t *data, size_t len, uint16_t bound, uint16_t requested, size_t &payload)
{
    payload = 0;
    if (!data || len < 4)
        return Problem::Truncated;
    const uint16_t channel = static_cast<uint16_t>(data[0] << 8 | data[1]);
    const size_t n = static_cast<size_t>(data[2] << 8 | data[3]);
    if (channel < stun::kFirstChannel || channel > stun::kLastChannel || (channel != bound && channel != requested))
        return Problem::BadChannel;
    // Over UDP the padding is optional (RFC 8656 section 12.5); more is not ChannelData.
    if (n == 0 || n > len - 4 || len - 4 - n > (4 - n % 4) % 4)
        return Problem::BadChannel;
    payload = n;
    return Problem::None;
}

Problem check_data_indication(const stun::Message &m, const std::optional<stun::Address> &peer)
{
    if (m.cls != stun::Indication || m.method != stun::Data)
        return Problem::BadData;
    const std::string *payload = m.find(stun::DataAttr);
    auto from = m.address(stun::XorPeerAddress);
    if (!payload || payload->empty() || !from || !peer || !same_ip(from->ip, peer->ip))
        return Problem::BadData;
    return Problem::None;
}

} // namespace sipsofia::turn
