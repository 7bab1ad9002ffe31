// What plugins pass to the core and throw at it: log levels out of range
// (any int reaches the host api) and exceptions from every ops entry point.
// The gateway reports a failure naming the node; the process lives on.
#include "unit.hpp"

#include "gateway.hpp"
#include "log_capture.hpp"

namespace {

bool contains(const std::string &text, const std::string &part) { return text.find(part) != std::string::npos; }

// Builds and runs `toml` (test plugins); returns the exit code.
int run_gateway(const std::string &toml)
{
    auto r = unit::check(toml);
    REQUIRE_MESSAGE(r.graph, r.errors);
    mediagw::Gateway gateway(std::move(*r.graph));
    std::string error;
    REQUIRE_MESSAGE(gateway.build(error), error);
    return gateway.run();
}

// A source that ends by itself, so that every gateway below stops on its own.
const std::string media = R"(
[node.src]
plugin = "test-source"
buffers = 5

[node.rec]
plugin = "test-sink"
path = "unused"
inputs = { audio = "src.audio" }
)";

} // namespace

TEST_CASE("log levels out of range are clamped, never used as an index")
{
    CHECK(mediagw::clamp_log_level(0) == MGW_LOG_ERROR);
    CHECK(mediagw::clamp_log_level(-1) == MGW_LOG_ERROR);
    CHECK(mediagw::clamp_log_level(99) == MGW_LOG_DEBUG);
    CHECK(mediagw::clamp_log_level(MGW_LOG_INFO) == MGW_LOG_INFO);
    unit::LogCapture capture;
    mediagw::log(static_cast<mgw_log_level>(-2147483647 - 1), "core", "lowest int");
    CHECK(capture.has("ERROR [core] lowest int"));
}

TEST_CASE("the host api's log takes any int as a level")
{
    unit::LogCapture capture;
    CHECK(run_gateway(media + R"(
[node.logger]
plugin = "test-misbehave"
log_levels = ["0", "99", "-1", "3"]
)") == 0);
    const std::string log = capture.text();
    CHECK(contains(log, "ERROR [test-misbehave/logger] level 0\n"));
    CHECK(contains(log, "DEBUG [test-misbehave/logger] level 99\n"));
    CHECK(contains(log, "ERROR [test-misbehave/logger] level -1\n"));
    CHECK(contains(log, "INFO  [test-misbehave/logger] level 3\n"));
}

TEST_CASE("a node throwing from stop: a failure naming it, no crash")
{
    for (const char *kind : {"std", "other"}) {
        CAPTURE(kind);
        unit::LogCapture capture;
        CHECK(run_gateway(media + R"(
[node.bad]
plugin = "test-misbehave"
throw_in = "stop"
throw_kind = ")" + kind + "\"\n") == 1);
        CHECK(capture.has(std::string("node 'bad': stop threw: ") +
                          (kind == std::string("std") ? "boom in stop" : "an exception that is not a std::exception")));
    }
}

TEST_CASE("a node throwing from event: a failure naming it, no crash")
{
    unit::LogCapture capture;
    CHECK(run_gateway(media + R"(
[node.bad]
plugin = "test-misbehave"
throw_in = "event"

[node.talker]
plugin = "test-misbehave"
emit = "ping"
)") == 1);
    CHECK(capture.has("node 'bad': event threw: boom in event"));
}

TEST_CASE("a node throwing from query: the asker gets no answer, the failure names the node")
{
    unit::LogCapture capture;
    CHECK(run_gateway(media + R"(
[node.bad]
plugin = "test-misbehave"
throw_in = "query"

[node.asker]
plugin = "test-misbehave"
ask = "bad"
)") == 1);
    CHECK(capture.has("node 'bad': query threw: boom in query"));
    CHECK(capture.has("[test-misbehave/asker] asked bad: no answer"));
}
