#include "registry.hpp"

#include "abi.hpp"
#include "elf_probe.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <dlfcn.h>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MEDIAGW_BUILD_ROOT
#define MEDIAGW_BUILD_ROOT ""
#endif
#ifndef MEDIAGW_PLUGIN_INSTALL_DIR
#define MEDIAGW_PLUGIN_INSTALL_DIR "/usr/local/lib/mediagw/plugins"
#endif

namespace mediagw {

static const char *const module_prefix = "mgw-";
static const char *const module_suffix = ".so";

Plugin::~Plugin()
{
    if (handle)
        dlclose(handle);
}

const mgw_property_spec *Plugin::property(const std::string &name) const
{
    for (size_t i = 0; i < info->n_properties; ++i)
        if (name == info->properties[i].name)
            return &info->properties[i];
    return nullptr;
}

const mgw_port_spec *Plugin::port(const std::string &name, mgw_port_direction dir) const
{
    for (size_t i = 0; i < info->n_ports; ++i)
        if (info->ports[i].direction == dir && name == info->ports[i].name)
            return &info->ports[i];
    return nullptr;
}

bool Plugin::provides(const std::string &capability) const
{
    if (!info->provides)
        return false;
    std::string list = std::string(",") + info->provides + ",";
    return list.find("," + capability + ",") != std::string::npos;
}

bool Plugin::publishes(const std::string &value) const
{
    if (!info->values)
        return false;
    std::string item;
    std::istringstream in(info->values);
    while (std::getline(in, item, ',')) {
        if (item == value)
            return true;
        if (item.size() > 2 && item.compare(item.size() - 2, 2, ".*") == 0 &&
            value.size() > item.size() - 1 && value.compare(0, item.size() - 1, item, 0, item.size() - 1) == 0)
            return true;
    }
    return false;
}

static std::string self_exe()
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    return n > 0 ? std::string(buf, n) : std::string();
}

std::vector<std::string> PluginRegistry::default_search_path()
{
    std::vector<std::string> path;
    if (const char *env = std::getenv("MEDIAGW_PLUGIN_PATH")) {
        std::string list = env;
        size_t start = 0;
        while (start <= list.size()) {
            size_t end = list.find(':', start);
            if (end == std::string::npos)
                end = list.size();
            if (end > start)
                path.push_back(list.substr(start, end - start));
            start = end + 1;
        }
    }
    std::string build_root = MEDIAGW_BUILD_ROOT;
    if (!build_root.empty() && self_exe().rfind(build_root + "/", 0) == 0)
        path.push_back(build_root + "/plugins");
    path.push_back(MEDIAGW_PLUGIN_INSTALL_DIR);
    return path;
}

PluginRegistry::PluginRegistry(std::vector<std::string> search_path) : path_(std::move(search_path)) {}

static bool is_module_name(const std::string &file)
{
    size_t p = std::strlen(module_prefix), s = std::strlen(module_suffix);
    return file.size() > p + s && file.rfind(module_prefix, 0) == 0 &&
           file.compare(file.size() - s, s, module_suffix) == 0;
}

static std::string plugin_name_of(const std::string &file)
{
    return file.substr(std::strlen(module_prefix),
                       file.size() - std::strlen(module_prefix) - std::strlen(module_suffix));
}

// Modules in `dir` and in its immediate subdirectories (a build tree keeps
// one folder per plugin), sorted so the order does not depend on the disk.
static void list_modules(const std::string &dir, int depth, std::vector<std::string> &out)
{
    DIR *d = opendir(dir.c_str());
    if (!d)
        return;
    std::vector<std::string> files, subdirs;
    while (auto *e = readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..")
            continue;
        std::string full = dir + "/" + name;
        struct stat st;
        if (stat(full.c_str(), &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            subdirs.push_back(full);
        else if (is_module_name(name))
            files.push_back(full);
    }
    closedir(d);
    std::sort(files.begin(), files.end());
    std::sort(subdirs.begin(), subdirs.end());
    out.insert(out.end(), files.begin(), files.end());
    if (depth > 0)
        for (auto &s : subdirs)
            list_modules(s, depth - 1, out);
}

std::map<std::string, std::vector<std::string>> PluginRegistry::scan() const
{
    std::map<std::string, std::vector<std::string>> found;
    std::set<std::string> seen_dirs;
    for (const auto &dir : path_) {
        if (!seen_dirs.insert(dir).second)
            continue;
        std::vector<std::string> files;
        list_modules(dir, 1, files);
        for (auto &f : files)
            found[plugin_name_of(f.substr(f.rfind('/') + 1))].push_back(f);
    }
    return found;
}

std::vector<std::string> PluginRegistry::candidates(const std::string &name) const
{
    auto all = scan();
    auto it = all.find(name);
    return it == all.end() ? std::vector<std::string>{} : it->second;
}

std::vector<std::string> PluginRegistry::available() const
{
    std::vector<std::string> names;
    for (auto &[name, files] : scan())
        names.push_back(name);
    return names;
}

static bool check_schema(const mgw_plugin_info *info, std::string &why)
{
    std::set<std::string> props;
    for (size_t i = 0; i < info->n_properties; ++i) {
        const auto &p = info->properties[i];
        if (!p.name || !*p.name) {
            why = "property #" + std::to_string(i) + " has no name";
            return false;
        }
        if (p.type < MGW_PROP_STRING || p.type > MGW_PROP_STRING_LIST) {
            why = std::string("property '") + p.name + "' has an unknown type " + std::to_string(p.type);
            return false;
        }
        if ((p.type == MGW_PROP_ENUM || p.type == MGW_PROP_NODE) && !p.choices) {
            why = std::string("property '") + p.name + "' lacks its choices/capability";
            return false;
        }
        std::string n = p.name;
        if (n == "plugin" || n == "inputs" || n == "start_on") {
            why = "property name '" + n + "' is reserved";
            return false;
        }
        if (!props.insert(n).second) {
            why = "property '" + n + "' is declared twice";
            return false;
        }
    }
    std::set<std::string> ports;
    for (size_t i = 0; i < info->n_ports; ++i) {
        const auto &p = info->ports[i];
        if (!p.name || !*p.name || !p.caps) {
            why = "port #" + std::to_string(i) + " lacks a name or caps";
            return false;
        }
        if ((p.direction != MGW_PORT_INPUT && p.direction != MGW_PORT_OUTPUT) ||
            (p.kind != MGW_MEDIA_AUDIO && p.kind != MGW_MEDIA_VIDEO)) {
            why = std::string("port '") + p.name + "' has a bad direction or media kind";
            return false;
        }
        GstCaps *caps = gst_caps_from_string(p.caps);
        if (!caps) {
            why = std::string("port '") + p.name + "' has unparsable caps \"" + p.caps + "\"";
            return false;
        }
        gst_caps_unref(caps);
        if (!ports.insert(std::to_string(p.direction) + p.name).second) {
            why = std::string("port '") + p.name + "' is declared twice";
            return false;
        }
    }
    return true;
}

// Beyond these a descriptor is surely corrupt (and stepping through it would
// read far past the module's data).
static constexpr size_t max_specs = 4096;
static constexpr size_t max_spec_size = 4096;

// Copy the module's spec array (elements of `element_size` bytes, at least
// `baseline`) into `out`, in this host's layout.
template <typename T>
static bool copy_specs(const T *array, size_t count, size_t element_size, size_t baseline, const char *what,
                       std::vector<T> &out, std::string &why)
{
    if (count == 0)
        return true;
    if (!array || count > max_specs) {
        why = std::string("descriptor lists ") + std::to_string(count) + " " + what + "s at " +
              (array ? "an address" : "NULL");
        return false;
    }
    if (element_size < baseline || element_size > max_spec_size) {
        why = std::string(what) + "_size " + std::to_string(element_size) + " is not between the ABI 1 size " +
              std::to_string(baseline) + " and " + std::to_string(max_spec_size);
        return false;
    }
    auto bytes = reinterpret_cast<const char *>(array);
    for (size_t i = 0; i < count; ++i)
        out.push_back(abi::read_prefix<T>(bytes + i * element_size, element_size));
    return true;
}

std::unique_ptr<Plugin> PluginRegistry::open_module(const std::string &path, const std::string &expected_name,
                                                    std::string &error)
{
    // 1. The file, read without running it: its type, machine, and the
    //    descriptor's ABI version and size.
    ElfDescriptor probed;
    if (!probe_elf_descriptor(path, MGW_PLUGIN_SYMBOL_NAME, probed, error)) {
        error = path + ": " + error;
        return nullptr;
    }
    if (probed.abi_version != MGW_ABI_VERSION) {
        error = path + ": plugin ABI version " + std::to_string(probed.abi_version) +
                ", this mediagw expects version " + std::to_string(MGW_ABI_VERSION) + " (rebuild the plugin)";
        return nullptr;
    }
    if (probed.info_size < abi::info_size_v1) {
        error = path + ": plugin descriptor is " + std::to_string(probed.info_size) +
                " bytes, smaller than the ABI " + std::to_string(MGW_ABI_VERSION) + " baseline of " +
                std::to_string(abi::info_size_v1) + " bytes";
        return nullptr;
    }
    if (probed.symbol_size && probed.info_size > probed.symbol_size) {
        error = path + ": plugin descriptor claims " + std::to_string(probed.info_size) + " bytes but its symbol has " +
                std::to_string(probed.symbol_size);
        return nullptr;
    }

    // 2. Load it (its constructors run here) and find the same descriptor.
    auto plugin = std::make_unique<Plugin>();
    plugin->path = path;
    plugin->handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!plugin->handle) {
        const char *e = dlerror();
        error = path + ": cannot load: " + (e ? e : "unknown error");
        return nullptr;
    }
    auto raw = static_cast<const mgw_plugin_info *>(dlsym(plugin->handle, MGW_PLUGIN_SYMBOL_NAME));
    if (!raw) {
        error = path + ": not a mediagw plugin (no '" MGW_PLUGIN_SYMBOL_NAME "' symbol)";
        return nullptr;
    }
    // The file changed since step 1, or the module rewrote its descriptor
    // while loading: what was checked is not what runs. (Swapping the file
    // between the two steps needs write access to a plugin directory, which
    // is full trust anyway; this catches the accident, not the attacker.)
    if (raw->abi_version != probed.abi_version || raw->info_size != probed.info_size) {
        error = path + ": plugin descriptor changed while loading (ABI version " + std::to_string(probed.abi_version) +
                " -> " + std::to_string(raw->abi_version) + ", size " + std::to_string(probed.info_size) + " -> " +
                std::to_string(raw->info_size) + ")";
        return nullptr;
    }

    // 3. This host's view of it: only the fields within info_size, arrays
    //    stepped by the element sizes the module declares.
    mgw_plugin_info &info = plugin->descriptor;
    info = abi::read_prefix<mgw_plugin_info>(raw, raw->info_size);
    const size_t property_size = info.property_size ? info.property_size : abi::property_size_v1;
    const size_t port_size = info.port_size ? info.port_size : abi::port_size_v1;
    if (!info.name || !info.version || !info.description || !info.create) {
        error = path + ": plugin descriptor is incomplete (name, version, description, create)";
        return nullptr;
    }
    std::string why;
    if (!copy_specs(info.properties, info.n_properties, property_size, abi::property_size_v1, "property",
                    plugin->properties, why) ||
        !copy_specs(info.ports, info.n_ports, port_size, abi::port_size_v1, "port", plugin->ports, why)) {
        error = path + ": plugin descriptor: " + why;
        return nullptr;
    }
    info.properties = plugin->properties.data();
    info.ports = plugin->ports.data();
    info.property_size = sizeof(mgw_property_spec);
    info.port_size = sizeof(mgw_port_spec);
    if (!expected_name.empty() && expected_name != info.name) {
        error = path + ": module file name says '" + expected_name + "' but the plugin calls itself '" + info.name +
                "'";
        return nullptr;
    }
    if (!check_schema(&info, why)) {
        error = path + ": plugin '" + info.name + "': " + why;
        return nullptr;
    }
    plugin->info = &info;
    return plugin;
}

const Plugin *PluginRegistry::load(const std::string &name, std::string &error)
{
    if (auto it = loaded_.find(name); it != loaded_.end())
        return it->second.get();
    auto files = candidates(name);
    if (files.empty()) {
        error = "no plugin '" + name + "'";
        return nullptr;
    }
    for (size_t i = 1; i < files.size(); ++i)
        warnings_.push_back("plugin '" + name + "' found twice: using " + files[0] + ", ignoring " + files[i]);
    auto plugin = open_module(files[0], name, error);
    if (!plugin)
        return nullptr;
    return (loaded_[name] = std::move(plugin)).get();
}

std::vector<const Plugin *> PluginRegistry::load_all(std::vector<std::string> &errors)
{
    std::vector<const Plugin *> out;
    for (auto &name : available()) {
        std::string error;
        if (auto p = load(name, error))
            out.push_back(p);
        else
            errors.push_back(error);
    }
    return out;
}

} // namespace mediagw
