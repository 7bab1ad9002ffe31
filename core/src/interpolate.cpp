#include "pipeline_desc.hpp"

#include <cctype>
#include <cstdlib>

namespace mediagw {

Environment process_environment()
{
    return [](const std::string &name) -> std::optional<std::string> {
        const char *v = std::getenv(name.c_str());
        if (!v)
            return std::nullopt;
        return std::string(v);
    };
}

static bool valid_name(const std::string &name)
{
    if (name.empty() || !(std::isalpha((unsigned char)name[0]) || name[0] == '_'))
        return false;
    for (char c : name)
        if (!(std::isalnum((unsigned char)c) || c == '_'))
            return false;
    return true;
}

// A reference's name: "VAR" (environment) or "node.value" (call time).
static bool call_time_name(const std::string &name)
{
    auto dot = name.find('.');
    if (dot == std::string::npos || !valid_name(name.substr(0, dot)) || dot + 1 >= name.size())
        return false;
    for (char c : name.substr(dot + 1)) // values may be dotted and dashed: "header.x-room"
        if (!(std::isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-'))
            return false;
    return true;
}

std::vector<CallTimeReference> call_time_references(const std::string &in)
{
    std::vector<CallTimeReference> out;
    for (size_t i = 0; i + 1 < in.size(); ++i) {
        if (in[i] != '$')
            continue;
        if (in[i + 1] == '$') {
            ++i;
            continue;
        }
        if (in[i + 1] != '{')
            continue;
        size_t close = in.find('}', i + 2);
        if (close == std::string::npos)
            break;
        std::string body = in.substr(i + 2, close - i - 2);
        auto sep = body.find(":-");
        std::string name = body.substr(0, sep);
        if (call_time_name(name)) {
            auto dot = name.find('.');
            out.push_back({name.substr(0, dot), name.substr(dot + 1), i});
        }
        i = close;
    }
    return out;
}

static std::string escaped(const std::string &text)
{
    std::string out;
    for (char c : text) {
        out += c;
        if (c == '$')
            out += '$';
    }
    return out;
}

std::optional<std::string> interpolate(const std::string &in, const Environment &env, std::string &error,
                                       bool *changed, Stage stage)
{
    // At load time a string that refers to call-time values (or belongs to
    // a list that does) stays a template for its second pass, at the node's
    // start: its "$$" and the environment's values keep their escapes so
    // that pass reads them right.
    const bool keep_template =
        stage == Stage::Template || (stage == Stage::Load && !call_time_references(in).empty());
    std::string out;
    bool any = false;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '$') {
            out += in[i];
            continue;
        }
        if (i + 1 < in.size() && in[i + 1] == '$') { // "$$" -> "$"
            out += keep_template ? "$$" : "$";
            ++i;
            any = true;
            continue;
        }
        if (i + 1 >= in.size() || in[i + 1] != '{') {
            out += '$';
            continue;
        }
        size_t close = in.find('}', i + 2);
        if (close == std::string::npos) {
            error = "unterminated '${' in \"" + in + "\"";
            return std::nullopt;
        }
        std::string body = in.substr(i + 2, close - i - 2);
        if (body.find("${") != std::string::npos) {
            error = "nested '${' in \"" + in + "\" is not supported";
            return std::nullopt;
        }
        std::string name = body;
        std::optional<std::string> fallback;
        if (auto sep = body.find(":-"); sep != std::string::npos) {
            name = body.substr(0, sep);
            fallback = body.substr(sep + 2);
        }
        const bool call_time = call_time_name(name);
        if (call_time && stage != Stage::CallTime) { // resolved when the node starts
            out += in.substr(i, close - i + 1);
            i = close;
            continue;
        }
        if (call_time != (stage == Stage::CallTime) || (!call_time && !valid_name(name))) {
            error = stage == Stage::CallTime
                        ? "'${" + body + "}' is not a call-time value (write ${node.value})"
                        : "bad variable name '" + name + "' in '${" + body + "}'";
            return std::nullopt;
        }
        auto value = env(name);
        if (!value || (value->empty() && fallback)) // like the shell's ":-"
            value = fallback;
        if (!value) {
            error = call_time ? "the call-time value '" + name + "' has no value (its node has not published it; write ${" +
                                    name + ":-default} to give a default)"
                              : "environment variable '" + name + "' is not set (write ${" + name +
                                    ":-default} to give a default)";
            return std::nullopt;
        }
        out += keep_template ? escaped(*value) : *value;
        any = true;
        i = close;
    }
    if (changed)
        *changed = any;
    return out;
}

} // namespace mediagw
