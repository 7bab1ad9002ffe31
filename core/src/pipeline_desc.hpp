// A gateway description as written (TOML file plus --set overrides), before
// the plugins' schemas give the properties their types.
#pragma once

#include "diagnostics.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mediagw {

struct Value {
    enum class Kind { String, Integer, Float, Bool, StringList, Other };
    Kind kind = Kind::String;
    std::string text; // String (interpolated); also the spelling for messages
    int64_t integer = 0;
    double number = 0;
    bool boolean = false;
    std::vector<std::string> list;
    // A string whose text came from ${VAR} or --set may stand for a number or
    // a boolean: the property's type decides.
    bool retypable = false;
    // Its error (e.g. a bad ${...}) is already reported: the property counts
    // as given, so it is not also "missing", but is not checked again.
    bool invalid = false;
    // It refers to call-time values (${node.value}): `text` / `list` keep
    // the references, resolved when the node starts.
    bool call_time = false;
    Location where;
};

struct Property {
    std::string name;
    Location key_where;
    Value value;
};

struct InputDesc {
    std::string port;   // this node's input port
    std::string source; // "node.port"
    Location key_where;
    Location value_where;
};

struct NodeDesc {
    std::string name;
    Location where;
    std::string plugin;
    Location plugin_where;
    std::string start_on; // "node/event"; empty = at once
    Location start_on_where;
    std::vector<Property> properties;
    std::vector<InputDesc> inputs;

    Property *find(const std::string &prop);
};

enum class AfterCall { Exit, Rearm };

struct GatewayDesc {
    std::string name = "mediagw";
    AfterCall after_call = AfterCall::Exit;
    std::string call_start = "*/call.established"; // "node/event", node may be '*'
    std::string call_end = "*/call.ended";
    int64_t idle_timeout = 0;   // s without a call before exiting 0; 0 = wait forever
    int64_t max_duration = 0;   // s the whole run may last; 0 = no limit
    int64_t max_call_duration = 0; // s one call may last; 0 = no limit
    int64_t drain_timeout = 3000; // ms a stop may take before the pipeline goes to NULL
};

struct PipelineDesc {
    std::string file;
    GatewayDesc gateway;
    std::vector<NodeDesc> nodes;

    NodeDesc *find(const std::string &node);
    const NodeDesc *find(const std::string &node) const;
};

using Environment = std::function<std::optional<std::string>(const std::string &name)>;
Environment process_environment();

// ${VAR} and ${VAR:-default} ("$$" is a literal "$"). Returns nullopt and
// sets `error` for an unset variable without default or bad syntax.
// Two stages: at load, `env` is the process environment and call-time
// references (${node.value}) are left in place, the string staying a
// template; at a node's start, `env` gives the published call-time values
// and only such references are allowed.
// Template: a load that keeps the template form even without a reference
// (an element of a list whose other elements have one).
enum class Stage { Load, Template, CallTime };
std::optional<std::string> interpolate(const std::string &in, const Environment &env, std::string &error,
                                       bool *changed = nullptr, Stage stage = Stage::Load);

// The ${node.value} references in a string, in order.
struct CallTimeReference {
    std::string node;
    std::string value;
    size_t offset; // of the '$' in the string
};
std::vector<CallTimeReference> call_time_references(const std::string &in);

// Parse and check the file's structure; every error is appended.
std::optional<PipelineDesc> load_pipeline_file(const std::string &path, const Environment &env,
                                               Diagnostics &diags);
std::optional<PipelineDesc> load_pipeline_string(const std::string &text, const std::string &file_name,
                                                 const Environment &env, Diagnostics &diags);

// "--set node.prop=value" or "--set gateway.key=value".
void apply_override(PipelineDesc &desc, const std::string &assignment, Diagnostics &diags);

} // namespace mediagw
