// mediagw serve's pure parts: the serve file (defaults, errors, paths), the
// template a request-URI user selects, the control channel's event lines,
// Prometheus label escaping.
#include "unit.hpp"

#include "call_record.hpp"
#include "control_channel.hpp"
#include "metrics.hpp"
#include "serve_config.hpp"
#include "supervisor.hpp"

using namespace mediagw;

namespace {

std::optional<serve::ServeConfig> load(const std::string &text, std::string &errors)
{
    Diagnostics diags;
    auto env = unit::fake_env({{"TOKEN", "t0k"}});
    auto c = serve::load_serve_string(text, "/etc/mediagw/serve.toml", env, diags);
    errors = diags.format();
    return c;
}

} // namespace

TEST_CASE("serve file: defaults, relative pipelines, template env")
{
    std::string errors;
    auto c = load("[serve]\ntoken = \"${TOKEN}\"\n[template.echo]\npipeline = \"p/echo.toml\"\n"
                  "env = { ROOM = \"1\" }\nset = [\"sip.jitter_ms=40\"]\n",
                  errors);
    REQUIRE_MESSAGE(c, errors);
    CHECK(c->token == "t0k");
    CHECK(c->api == "127.0.0.1:8088");
    CHECK(c->sip == "udp:127.0.0.1:5060");
    REQUIRE(c->templates.size() == 1);
    const auto &t = c->templates[0];
    CHECK(t.pipeline == "/etc/mediagw/p/echo.toml");
    CHECK(t.cpu == doctest::Approx(serve::kDefaultGatewayCpu));
    CHECK(t.memory_mb == doctest::Approx(serve::kDefaultGatewayMemoryMb));
    CHECK(t.env.at("ROOM") == "1");
    CHECK(t.overrides == std::vector<std::string>{"sip.jitter_ms=40"});
}

TEST_CASE("serve file: errors name the place")
{
    std::string errors;
    CHECK_FALSE(load("[serve]\napi = \"\"\n[template.a]\npipeline = \"x\"\nwarm = \"two\"\n", errors));
    CHECK(errors.find("/etc/mediagw/serve.toml:5:8: error: 'warm' must be an integer") != std::string::npos);
    CHECK_FALSE(load("[serve]\napi = \"\"\n[template.a]\npipeline = \"x\"\nset = [\"nonsense\"]\n", errors));
    CHECK(errors.find(":5:8: error: 'set': \"nonsense\" is not NODE.PROPERTY=VALUE") != std::string::npos);
    CHECK_FALSE(load("[serve]\napi = \"\"\n[template.a]\npipeline = \"x\"\nenv = { 1X = \"v\" }\n", errors));
    CHECK(errors.find("'env': '1X' is not a variable name") != std::string::npos);
    CHECK_FALSE(load("[serve]\napi = \"\"\n[templates.a]\npipeline = \"x\"\n", errors));
    CHECK(errors.find("unknown section 'templates' (expected [serve] or [template.NAME]) (did you mean 'template'?)") !=
          std::string::npos);
    CHECK_FALSE(load("[serve]\napi = \"\"\n", errors));
    CHECK(errors.find("no [template.NAME]") != std::string::npos);
    CHECK_FALSE(load("[serve]\napi = \"\"\n[template.a]\npipeline = \"x\"\ndefault = true\n"
                     "[template.b]\npipeline = \"y\"\ndefault = true\n",
                     errors));
    CHECK(errors.find("more than one template has default = true") != std::string::npos);
}

TEST_CASE("serve: the request-URI user selects the template")
{
    std::string errors;
    auto c = load("[serve]\napi = \"\"\n[template.janus]\npipeline = \"j\"\nmatch = \"^room-[0-9]+$\"\n"
                  "[template.echo]\npipeline = \"e\"\ndefault = true\n",
                  errors);
    REQUIRE_MESSAGE(c, errors);
    serve::CallRecords records("", "");
    serve::Supervisor s(*c, "/bin/false", records);
    CHECK(s.route("room-42")->name == "janus");
    CHECK(s.route("room-x")->name == "echo");
    CHECK(s.route("")->name == "echo");
    CHECK_FALSE(s.refusal(*s.route("room-1"))); // an empty host has room
    auto c2 = load("[serve]\napi = \"\"\n[template.janus]\npipeline = \"j\"\nmatch = \"^room\"\n"
                   "[template.other]\npipeline = \"o\"\nmatch = \"^x\"\n",
                   errors);
    REQUIRE(c2);
    serve::Supervisor s2(*c2, "/bin/false", records);
    CHECK(s2.route("nobody") == nullptr); // no default among several: 404 at the front
}

TEST_CASE("control channel: an event as a JSON line")
{
    GstStructure *ev = gst_structure_new("call.ended", "reason", G_TYPE_STRING, "bye \"now\"", "code", G_TYPE_INT,
                                         486, "video", G_TYPE_BOOLEAN, FALSE, nullptr);
    CHECK(ControlChannel::event_line("sip", ev) ==
          R"({"node":"sip","event":"call.ended","fields":{"reason":"bye \"now\"","code":486,"video":false}})");
    gst_structure_free(ev);
}

TEST_CASE("metrics: label values escaped")
{
    CHECK(serve::prometheus_label("a\"b\\c\nd") == "a\\\"b\\\\c\\nd");
}
