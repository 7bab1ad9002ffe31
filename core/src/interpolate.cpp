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

std::optional<std::string> interpolate(const std::string &in, const Environment &env, std::string &error,
                                       bool *changed)
{
    std::string out;
    bool any = false;
    for (size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '$') {
            out += in[i];
            continue;
        }
        if (i + 1 < in.size() && in[i + 1] == '$') { // "$$" -> "$"
            out += '$';
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
        if (!valid_name(name)) {
            error = "bad variable name '" + name + "' in '${" + body + "}'";
            return std::nullopt;
        }
        auto value = env(name);
        if (!value || (value->empty() && fallback)) // like the shell's ":-"
            value = fallback;
        if (!value) {
            error = "environment variable '" + name + "' is not set (write ${" + name +
                    ":-default} to give a default)";
            return std::nullopt;
        }
        out += *value;
        any = true;
        i = close;
    }
    if (changed)
        *changed = any;
    return out;
}

} // namespace mediagw
