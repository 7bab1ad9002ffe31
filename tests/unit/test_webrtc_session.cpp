// webrtc-direct's Session setup (plugins/webrtc-direct/media/session.cpp): a TURN
// server webrtcbin refuses is an error naming it (without its credentials),
// not a session that silently gathers no relay.
#include "../../plugins/webrtc-direct/media/session.hpp"

#include <doctest/doctest.h>

using namespace webrtcdirect;

TEST_CASE("TURN URIs lose their credentials in messages")
{
    CHECK(without_credentials("turn://user:s3cret@10.0.0.1:3478?transport=udp") == "turn://10.0.0.1:3478?transport=udp");
    CHECK(without_credentials("turns://u%40x:p%3Aw@[::1]:5349") == "turns://[::1]:5349");
    CHECK(without_credentials("::not a uri") == "(not a URI)");
}

TEST_CASE("a TURN server webrtcbin refuses fails the session's creation")
{
    GstElement *probe = gst_element_factory_make("webrtcbin", nullptr);
    if (!probe) {
        MESSAGE("no webrtcbin here: skipped");
        return;
    }
    gst_object_unref(probe);
    GstBin *bin = GST_BIN(gst_bin_new("node"));
    gst_object_ref_sink(bin);

    IceSettings ice;
    ice.turn = {"turn://alice:s3cret@127.0.0.1:3478?transport=udp"};
    auto ok = Session::create(bin, Session::Role::Subscriber, "1", "p", ice, {});
    CHECK(ok != nullptr);
    ok.reset();

    ice.turn = {"turn://127.0.0.1:3478"}; // no username, no credential
    std::string what;
    try {
        Session::create(bin, Session::Role::Subscriber, "2", "p", ice, {});
    } catch (const IceConfigError &e) {
        what = e.what();
    }
    CHECK(what.find("refused the TURN server turn://127.0.0.1:3478") != std::string::npos);

    ice.turn = {"http://alice:s3cret@127.0.0.1:3478"}; // not a TURN URI
    what.clear();
    try {
        Session::create(bin, Session::Role::Subscriber, "3", "p", ice, {});
    } catch (const IceConfigError &e) {
        what = e.what();
    }
    CHECK(!what.empty());
    CHECK(what.find("s3cret") == std::string::npos);
    CHECK(what.find("alice") == std::string::npos);

    // A refused session leaves nothing in the node's bin.
    CHECK(GST_BIN_NUMCHILDREN(bin) == 0);
    gst_object_unref(bin);
}
