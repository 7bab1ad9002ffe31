// libFuzzer entry point for the SIP leg's STUN/TURN parsing: the codec
// (plugins/sip-sofia/nat/stun_message.cpp) and the TURN client's checks
// (turn_checks.cpp) on arbitrary datagrams (tests/fuzz/meson.build, scripts/fuzz).
//
// Seeds: tests/fuzz/corpus/stun/, written by capture_seeds.py from coturn.
#include "../../plugins/sip-sofia/nat/stun_message.hpp"
#include "../../plugins/sip-sofia/nat/turn_checks.hpp"

#include <cstdlib>

using namespace sipsofia;

namespace {

// What must hold for anything parse() accepts; abort() makes it a finding.
void require(bool ok)
{
    if (!ok)
        std::abort();
}

} // namespace

int fuzz_stun(const uint8_t *data, size_t size)
{
    static const std::string key = stun::long_term_key("fuzz", "test", "password");
    static const stun::Address peer{"127.0.0.1", 5004};

    size_t payload = 0;
    if (turn::check_channel_data(data, size, 0x4000, 0x4001, payload) == stun::Problem::None)
        require(payload > 0 && 4 + payload <= size && size - 4 - payload < 4);

    stun::Problem why = stun::Problem::None;
    auto m = stun::Message::parse(data, size, &why);
    if (!m) {
        require(why != stun::Problem::None && why < stun::Problem::Count);
        return 0;
    }
    require(why == stun::Problem::None);
    size_t total = 20;
    for (const auto &[type, value] : m->attributes)
        total += 4 + value.size();
    require(total <= size);
    require(!m->integrity_at || m->integrity_at + 24 <= size);
    for (uint16_t type : {stun::XorRelayedAddress, stun::XorMappedAddress, stun::XorPeerAddress})
        if (auto a = m->address(type))
            require(!a->ip.empty() && a->port >= 0 && a->port <= 0xFFFF);
    (void)m->u32(stun::Lifetime);
    auto [code, reason] = m->error();
    require(code == 0 || (code >= 300 && code < 700));
    require(reason.size() <= 128);
    for (unsigned char c : reason)
        require(c >= 0x20 && c < 0x7F);
    (void)stun::integrity_ok(data, size, *m, key);
    (void)turn::check_response(data, size, *m, m->method, key);
    (void)turn::check_response(data, size, *m, m->method, "");
    (void)turn::check_data_indication(*m, peer);
    // What we parse, we write back the same (attributes and all).
    if (!m->integrity_at && !m->has_fingerprint) {
        const std::string again = m->encode();
        auto back = stun::Message::parse(reinterpret_cast<const uint8_t *>(again.data()), again.size());
        require(back && back->attributes == m->attributes && back->method == m->method && back->cls == m->cls);
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return fuzz_stun(data, size); }
