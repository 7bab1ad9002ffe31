// Who may call in (plugins/sip-sofia/signalling/call_policy.cpp), with INVITEs parsed
// by Sofia-SIP as the gateway gets them: source-address allowlists, the From
// allowlist, and digest challenges (CSPRNG nonces, one use, bound to the
// request URI, nonce-count 1, expiry).
#include "../../plugins/sip-sofia/signalling/call_policy.hpp"

#include <doctest/doctest.h>

#include <glib.h>
#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_parser.h>

#include <set>
#include <string>

using sipsofia::CallPolicy;

namespace {

constexpr int64_t s = 1'000'000;

std::string md5(const std::string &text)
{
    gchar *h = g_compute_checksum_for_string(G_CHECKSUM_MD5, text.c_str(), -1);
    std::string out = h;
    g_free(h);
    return out;
}

// An INVITE as the stack parses it; `auth`: an Authorization value or "".
struct Invite {
    msg_t *msg = nullptr;
    explicit Invite(const std::string &uri, const std::string &auth = "", const std::string &from = "sip:alice@192.0.2.1")
    {
        std::string text = "INVITE " + uri + " SIP/2.0\r\n"
                           "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK" + std::to_string(g_random_int()) + "\r\n"
                           "From: <" + from + ">;tag=1\r\nTo: <" + uri + ">\r\nCall-ID: c1@192.0.2.1\r\n"
                           "CSeq: 1 INVITE\r\nMax-Forwards: 70\r\nContact: <sip:alice@192.0.2.1>\r\n" +
                           (auth.empty() ? "" : "Authorization: " + auth + "\r\n") + "Content-Length: 0\r\n\r\n";
        msg = msg_make(sip_default_mclass(), 0, text.data(), static_cast<ssize_t>(text.size()));
        REQUIRE(msg);
        REQUIRE(sip());
        REQUIRE(sip()->sip_request);
    }
    ~Invite() { msg_destroy(msg); }
    const sip_t *sip() const { return sip_object(msg); }
};

std::string nonce_of(const std::string &challenge)
{
    const auto at = challenge.find("nonce=\"");
    REQUIRE(at != std::string::npos);
    return challenge.substr(at + 7, challenge.find('"', at + 7) - at - 7);
}

// The Authorization a user agent answers `nonce` with (RFC 2617, qop=auth).
std::string answer(const std::string &nonce, const std::string &uri, const std::string &password = "secret",
                   const std::string &nc = "00000001")
{
    const std::string ha1 = md5("bob:gw:" + password), ha2 = md5("INVITE:" + uri);
    const std::string response = md5(ha1 + ":" + nonce + ":" + nc + ":abc:auth:" + ha2);
    return "Digest username=\"bob\", realm=\"gw\", nonce=\"" + nonce + "\", uri=\"" + uri + "\", response=\"" +
           response + "\", algorithm=MD5, qop=auth, nc=" + nc + ", cnonce=\"abc\"";
}

std::unique_ptr<CallPolicy> auth_policy()
{
    CallPolicy::Config c;
    c.mode = "auth";
    c.realm = "gw";
    c.user = "bob";
    c.password = "secret";
    std::string error;
    auto p = CallPolicy::make(c, error);
    REQUIRE(p);
    return p;
}

} // namespace

TEST_CASE("digest: challenge, answer, and no second use of a nonce")
{
    auto p = auth_policy();
    const std::string uri = "sip:gw@192.0.2.5";
    Invite first(uri);
    auto v = p->check(first.sip(), "192.0.2.1", 0);
    REQUIRE(v.status == 401);
    const std::string nonce = nonce_of(v.challenge);
    CHECK(nonce.size() == 32);
    CHECK(nonce.find_first_not_of("0123456789abcdef") == std::string::npos);

    Invite good(uri, answer(nonce, uri));
    CHECK(p->check(good.sip(), "192.0.2.1", s).status == 200);
    Invite replay(uri, answer(nonce, uri));
    v = p->check(replay.sip(), "192.0.2.1", 2 * s);
    CHECK(v.status == 401); // challenged afresh, not let in
    CHECK(v.why.find("used") != std::string::npos);
}

TEST_CASE("digest: nonces are unpredictable and many")
{
    auto p = auth_policy();
    Invite a("sip:gw@192.0.2.5");
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i)
        seen.insert(nonce_of(p->check(a.sip(), "192.0.2.1", i).challenge));
    CHECK(seen.size() == 200);
}

TEST_CASE("digest: the answer is bound to the challenged request URI")
{
    auto p = auth_policy();
    const std::string uri = "sip:gw@192.0.2.5", other = "sip:other@192.0.2.5";
    Invite first(uri);
    const std::string nonce = nonce_of(p->check(first.sip(), "192.0.2.1", 0).challenge);
    Invite moved(other, answer(nonce, other)); // a valid digest, but for a URI never challenged
    auto v = p->check(moved.sip(), "192.0.2.1", s);
    CHECK(v.status != 200);
    CHECK(v.why.find("request URI") != std::string::npos);

    Invite second(uri);
    const std::string nonce2 = nonce_of(p->check(second.sip(), "192.0.2.1", 0).challenge);
    Invite mismatch(uri, answer(nonce2, other)); // digest-uri differs from the request line
    CHECK(p->check(mismatch.sip(), "192.0.2.1", s).status != 200);

    Invite third(uri); // sipp's and some phones' digest-uri: the request URI's host and port
    const std::string nonce3 = nonce_of(p->check(third.sip(), "192.0.2.1", 0).challenge);
    Invite host_only(uri, answer(nonce3, "sip:192.0.2.5"));
    CHECK(p->check(host_only.sip(), "192.0.2.1", s).status == 200);
    Invite fourth(uri);
    const std::string nonce4 = nonce_of(p->check(fourth.sip(), "192.0.2.1", 0).challenge);
    Invite other_host(uri, answer(nonce4, "sip:192.0.2.99"));
    CHECK(p->check(other_host.sip(), "192.0.2.1", s).status != 200);
}

TEST_CASE("digest: nonce-count, expiry, wrong password")
{
    auto p = auth_policy();
    const std::string uri = "sip:gw@192.0.2.5";
    Invite c1(uri);
    Invite nc2(uri, answer(nonce_of(p->check(c1.sip(), "192.0.2.1", 0).challenge), uri, "secret", "00000002"));
    CHECK(p->check(nc2.sip(), "192.0.2.1", s).status != 200);

    Invite c2(uri);
    Invite late(uri, answer(nonce_of(p->check(c2.sip(), "192.0.2.1", 0).challenge), uri));
    auto v = p->check(late.sip(), "192.0.2.1", 31 * s);
    CHECK(v.status == 401);

    Invite c3(uri);
    Invite wrong(uri, answer(nonce_of(p->check(c3.sip(), "192.0.2.1", 40 * s).challenge), uri, "guess"));
    v = p->check(wrong.sip(), "192.0.2.1", 41 * s);
    CHECK(v.status == 403);
    CHECK(v.why == "digest authentication failed: wrong password");
}

TEST_CASE("source allowlist: the packet's real source, CIDR blocks")
{
    CallPolicy::Config c;
    c.allow_sources = {"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"};
    std::string error;
    auto p = CallPolicy::make(c, error);
    REQUIRE(p);
    CHECK(p->source_allowed("10.200.3.4"));
    CHECK(p->source_allowed("192.0.2.7"));
    CHECK(!p->source_allowed("192.0.2.8"));
    CHECK(p->source_allowed("2001:db8:1::5"));
    CHECK(!p->source_allowed("2001:db9::5"));
    CHECK(!p->source_allowed(""));
    CHECK(!p->source_allowed("not an address"));
    Invite i("sip:gw@192.0.2.5");
    auto v = p->check(i.sip(), "172.16.0.1", 0);
    CHECK(v.status == 403);
    CHECK(v.why.find("172.16.0.1") != std::string::npos);
    CHECK(p->check(i.sip(), "10.0.0.1", 0).status == 200);

    CallPolicy::Config open;
    auto any = CallPolicy::make(open, error);
    REQUIRE(any);
    CHECK(any->source_allowed("203.0.113.1"));

    for (const char *bad : {"10.0.0.0/33", "example.org", "10.0.0.0/", "/8", "1.2.3.4/8x"}) {
        CallPolicy::Config b;
        b.allow_sources = {bad};
        std::string e;
        CHECK_MESSAGE(!CallPolicy::make(b, e), bad);
        CHECK(e.find("allow_sources") != std::string::npos);
    }
}

TEST_CASE("From allowlist patterns (a filter: anyone can write a From)")
{
    CallPolicy::Config c;
    c.mode = "allowlist";
    c.allow = {"sip:*@192.0.2.1"};
    std::string error;
    auto p = CallPolicy::make(c, error);
    REQUIRE(p);
    Invite ok("sip:gw@192.0.2.5", "", "sip:alice@192.0.2.1:5070");
    CHECK(p->check(ok.sip(), "192.0.2.1", 0).status == 200);
    Invite no("sip:gw@192.0.2.5", "", "sip:mallory@198.51.100.1");
    CHECK(p->check(no.sip(), "198.51.100.1", 0).status == 403);
}
