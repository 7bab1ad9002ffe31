#include "plugin_markdown.hpp"

#include <cctype>
#include <sstream>

namespace mediagw {

namespace {

// The call-time values a plugin's nodes publish ("room,pin,header.*"). The
// descriptor field is appended by a later ABI-1 revision: read it when this
// header has it (the registry zeroes it for modules built without it).
template <typename Info> const char *published_values(const Info *info)
{
    if constexpr (requires { info->values; })
        return info->values;
    else
        return nullptr;
}

std::vector<std::string> split_list(const char *list, char sep)
{
    std::vector<std::string> out;
    if (!list)
        return out;
    std::string item;
    for (const char *c = list;; ++c) {
        if (*c == sep || !*c) {
            size_t b = item.find_first_not_of(' '), e = item.find_last_not_of(' ');
            if (b != std::string::npos)
                out.push_back(item.substr(b, e - b + 1));
            item.clear();
            if (!*c)
                break;
        } else {
            item += *c;
        }
    }
    return out;
}

// Text for one table cell: pipes escaped, line breaks flattened.
std::string cell(const char *text)
{
    std::string out;
    for (const char *c = text ? text : ""; *c; ++c) {
        if (*c == '|')
            out += "\\|";
        else if (*c == '\n' || *c == '\r')
            out += ' ';
        else
            out += *c;
    }
    return out;
}

std::string code(const std::string &text) { return text.empty() ? "" : "`" + cell(text.c_str()) + "`"; }

std::string anchor(const std::string &name)
{
    std::string out;
    for (char c : name)
        if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
            out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string property_type(const mgw_property_spec &p)
{
    std::string t = property_type_word(p.type);
    if (p.type == MGW_PROP_ENUM && p.choices) {
        std::string choices;
        for (auto &c : split_list(p.choices, '|'))
            choices += (choices.empty() ? "" : ", ") + code(c);
        t += ": " + choices;
    } else if (p.type == MGW_PROP_NODE && p.choices) {
        t += " providing " + code(p.choices);
    }
    return t;
}

std::string property_flags(const mgw_property_spec &p)
{
    std::string f;
    if (p.flags & MGW_PROP_REQUIRED)
        f = "required";
    if (p.flags & MGW_PROP_SECRET)
        f += f.empty() ? "secret" : ", secret";
    return f;
}

void write_plugin(std::ostringstream &md, const mgw_plugin_info *info)
{
    md << "## " << info->name << "\n\n";
    md << cell(info->description) << "\n\n";
    md << "Version " << info->version;
    auto provides = split_list(info->provides, ',');
    if (!provides.empty()) {
        md << "; provides";
        for (size_t i = 0; i < provides.size(); ++i)
            md << (i ? ", " : " ") << code(provides[i]);
        md << " (for other nodes' `node` properties)";
    }
    md << ".\n\n";

    md << "### Properties\n\n";
    if (!info->n_properties) {
        md << "None.\n\n";
    } else {
        md << "| property | type | default | flags | description |\n|---|---|---|---|---|\n";
        for (size_t i = 0; i < info->n_properties; ++i) {
            const auto &p = info->properties[i];
            md << "| " << code(p.name) << " | " << property_type(p) << " | "
               << (p.default_value ? code(p.default_value) : std::string()) << " | " << property_flags(p) << " | "
               << cell(p.description) << " |\n";
        }
        md << "\n";
    }

    md << "### Ports\n\n";
    if (!info->n_ports) {
        md << "None.\n\n";
    } else {
        md << "| port | direction | media | caps | description |\n|---|---|---|---|---|\n";
        for (size_t i = 0; i < info->n_ports; ++i) {
            const auto &p = info->ports[i];
            std::string direction = p.direction == MGW_PORT_INPUT ? "input" : "output";
            if (p.flags & MGW_PORT_REQUIRED)
                direction += " (required)";
            md << "| " << code(p.name) << " | " << direction << " | "
               << (p.kind == MGW_MEDIA_AUDIO ? "audio" : "video") << " | " << code(p.caps ? p.caps : "") << " | "
               << cell(p.description) << " |\n";
        }
        md << "\n";
    }

    md << "### Events\n\n";
    auto events = split_list(info->events, ',');
    if (events.empty())
        md << "None.\n\n";
    for (size_t i = 0; i < events.size(); ++i)
        md << (i ? ", " : "") << code(events[i]) << (i + 1 == events.size() ? "\n\n" : "");

    auto values = split_list(published_values(info), ',');
    if (!values.empty()) {
        md << "### Call-time values\n\n"
              "Published during a call; a node with `start_on` may use them as `${"
           << "NODE.VALUE}` ([pipeline-format.md](pipeline-format.md#call-time-values-nodevalue)): ";
        for (size_t i = 0; i < values.size(); ++i)
            md << (i ? ", " : "") << code(values[i]);
        md << ".\n\n";
    }
}

} // namespace

std::string plugins_markdown(const std::vector<const Plugin *> &plugins)
{
    std::ostringstream md;
    md << "# Plugin reference\n\n"
          "<!-- Generated by `mediagw inspect --markdown` from the plugins' own descriptors;\n"
          "     do not edit. Regenerate with `scripts/docs`. -->\n\n"
          "Every property, port and event below comes from the plugin's descriptor, the schema\n"
          "`mediagw validate` checks pipelines against; `mediagw inspect PLUGIN` prints the same\n"
          "for an installed plugin. How properties, inputs and events are written in a pipeline:\n"
          "[pipeline-format.md](pipeline-format.md).\n\n";
    for (const auto *p : plugins)
        md << "- [" << p->info->name << "](#" << anchor(p->info->name) << "): " << cell(p->info->description)
           << "\n";
    md << "\n";
    for (const auto *p : plugins)
        write_plugin(md, p->info);
    std::string out = md.str();
    while (out.size() > 1 && out[out.size() - 1] == '\n' && out[out.size() - 2] == '\n')
        out.pop_back();
    return out;
}

const char *property_type_word(mgw_prop_type t)
{
    switch (t) {
    case MGW_PROP_STRING: return "string";
    case MGW_PROP_INT: return "integer";
    case MGW_PROP_DOUBLE: return "number";
    case MGW_PROP_BOOL: return "boolean";
    case MGW_PROP_ENUM: return "enum";
    case MGW_PROP_NODE: return "node";
    case MGW_PROP_STRING_LIST: return "string list";
    }
    return "?";
}

} // namespace mediagw
