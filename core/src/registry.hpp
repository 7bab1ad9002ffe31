// Finds plugin modules and loads them. A module is "mgw-<name>.so"; the
// search order is MEDIAGW_PLUGIN_PATH (colon list), the build tree when the
// program runs uninstalled, then ${libdir}/mediagw/plugins. For one name the
// first module found wins; the others are named in a warning.
//
// A module is read before it is loaded (elf_probe.hpp): a wrong ABI version,
// a descriptor smaller than ABI 1's or a file that is not a shared object
// for this machine is refused without running any of its code. dlopen()
// runs a module's constructors, so whatever passes that check runs them
// before the rest of its descriptor (pointers) can be validated.
#pragma once

#include <mediagw/plugin.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace mediagw {

struct Plugin {
    std::string path;
    // The module's descriptor in this host's layout (see abi.hpp): fields the
    // module does not know are zero, its arrays point at `properties` and
    // `ports`, so the rest of the core may index them as usual.
    const mgw_plugin_info *info = nullptr;
    void *handle = nullptr;

    Plugin() = default;
    Plugin(const Plugin &) = delete;
    Plugin &operator=(const Plugin &) = delete;
    ~Plugin();

    mgw_plugin_info descriptor{};
    std::vector<mgw_property_spec> properties;
    std::vector<mgw_port_spec> ports;

    const mgw_property_spec *property(const std::string &name) const;
    const mgw_port_spec *port(const std::string &name, mgw_port_direction dir) const;
    bool provides(const std::string &capability) const;
    // Does it declare the call-time value `value` ("room"; "header.x" by "header.*")?
    bool publishes(const std::string &value) const;
};

class PluginRegistry {
public:
    // Directories in search order (see above).
    explicit PluginRegistry(std::vector<std::string> search_path);
    static std::vector<std::string> default_search_path();

    // Load one plugin by name; nullptr with `error` set when missing or refused.
    const Plugin *load(const std::string &name, std::string &error);
    // Load every module found (for `mediagw plugins`); refusals go to `errors`.
    std::vector<const Plugin *> load_all(std::vector<std::string> &errors);
    // Names of every module found, without loading them.
    std::vector<std::string> available() const;
    // Warnings such as duplicate names, gathered while searching.
    const std::vector<std::string> &warnings() const { return warnings_; }

    // Exposed for tests: load and check one file.
    static std::unique_ptr<Plugin> open_module(const std::string &path, const std::string &expected_name,
                                               std::string &error);

private:
    std::vector<std::string> candidates(const std::string &name) const;
    std::map<std::string, std::vector<std::string>> scan() const;

    std::vector<std::string> path_;
    std::map<std::string, std::unique_ptr<Plugin>> loaded_;
    std::vector<std::string> warnings_;
};

} // namespace mediagw
