// The signalling half of sip-sofia's properties (TLS, REGISTER account,
// inbound call policy, outbound dial, session timers), read into what
// SipAgent takes. The media half stays in sip_node.cpp.
#pragma once

#include "signalling/call_policy.hpp"
#include "signalling/sip_agent.hpp"

#include <mediagw/node.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

// Spliced into sip_node.cpp's property table.
#define SIP_SIGNALLING_PROPERTIES                                                                                  \
    mediagw::prop::string("tls_listen", nullptr,                                                                   \
                          "also listen for SIP over TLS on ADDR:PORT (port 0: any free one); needs tls_cert and "  \
                          "tls_key, or tls_cert_dir"),                                                             \
        mediagw::prop::string("tls_cert", nullptr, "PEM certificate (chain) for SIP over TLS"),                     \
        mediagw::prop::string("tls_key", nullptr, "PEM private key of tls_cert"),                                   \
        mediagw::prop::string("tls_cert_dir", nullptr,                                                              \
                              "instead of tls_cert/tls_key: a Sofia-SIP certificate folder (agent.pem, cafile.pem)"), \
        mediagw::prop::string("account", nullptr, "address of record to REGISTER, sip:user@domain"),                \
        mediagw::prop::string("registrar", nullptr, "registrar URI (default: the account's domain)"),               \
        mediagw::prop::string("username", nullptr, "digest user name (default: the account's user part)"),          \
        mediagw::prop::string("password", nullptr, "digest password for REGISTER and outbound calls",               \
                              mediagw::prop::secret),                                                              \
        mediagw::prop::integer("register_expires", "600",                                                           \
                               "seconds a registration lasts; it is refreshed before it expires"),                  \
        mediagw::prop::choice("answer", "auto|allowlist|auth", "auto",                                              \
                              "inbound calls answered: all (auto), callers matching `allow` (others 403), or "      \
                              "callers passing a digest challenge (auth_user/auth_password)"),                     \
        mediagw::prop::list("allow", nullptr,                                                                       \
                            "From URI patterns (* and ?) for answer = allowlist, e.g. sip:*@example.org; anyone "  \
                            "can write any From header: a filter, not authentication"),                           \
        mediagw::prop::list("allow_sources", nullptr,                                                               \
                            "addresses or CIDR blocks a new call's INVITE may come from (its packet's real "       \
                            "source, e.g. the SIP proxy in front: 10.0.0.0/8); others get 403; empty: any"),      \
        mediagw::prop::string("auth_realm", "mediagw", "digest realm for answer = auth"),                          \
        mediagw::prop::string("auth_user", nullptr, "user name callers authenticate as (answer = auth)"),           \
        mediagw::prop::string("auth_password", nullptr, "its password (answer = auth)", mediagw::prop::secret),     \
        mediagw::prop::string("dial", nullptr, "SIP URI to call at start (outbound) instead of waiting for a call"), \
        mediagw::prop::integer("session_expires", "1800",                                                           \
                               "RFC 4028 session interval in seconds (90 or more); 0 = no session timer"),          \
        mediagw::prop::integer("answer_delay", "0", "milliseconds to ring (180) before answering a new call")

namespace sipsofia {

// Property access without the node's protected helpers.
struct PropertyReader {
    std::function<std::string(const char *)> str;
    std::function<int64_t(const char *)> integer;
    std::function<std::vector<std::string>(const char *)> list;
};

struct SignallingSettings {
    std::string tls_listen; // "ADDR:PORT" or ""
    std::string cert_dir;   // for Sofia: given, or made from tls_cert/tls_key
    std::string made_cert_dir; // one we created (removed by the destructor)
    unsigned session_expires = 1800;
    unsigned answer_delay_ms = 0;
    SipAgent::Account account; // account.aor empty: no registration
    std::string dial;
    CallPolicy::Config policy;

    // Throws mediagw::Error on inconsistent properties.
    explicit SignallingSettings(const PropertyReader &p);
    ~SignallingSettings();
    SignallingSettings(const SignallingSettings &) = delete;
    SignallingSettings &operator=(const SignallingSettings &) = delete;

    // "sips:HOST:PORT" (PORT "*" for 0), or "" without TLS.
    std::string sips_url() const;
    std::unique_ptr<CallPolicy> make_policy() const;
};

} // namespace sipsofia
