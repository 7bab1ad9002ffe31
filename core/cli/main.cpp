// mediagw: run, validate and inspect gateway pipelines.
//
// Exit codes: 0 the gateway ended normally (a drain that times out still
// counts as a normal end); 1 runtime failure (a node failed, media error);
// 2 bad input (usage, pipeline errors, a plugin refusing its node).
#include "control_channel.hpp"
#include "gateway.hpp"
#include "gateway_group.hpp"
#include "graph_spec.hpp"
#include "log.hpp"
#include "pipeline_desc.hpp"
#include "plugin_markdown.hpp"
#include "registry.hpp"
#ifdef MEDIAGW_WITH_SERVE
#include "serve.hpp"
#endif

#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <iostream>

using namespace mediagw;

namespace {

constexpr int exit_ok = 0, exit_runtime = 1, exit_bad_input = 2;

const char *usage_text = R"(Usage: mediagw [OPTIONS] COMMAND [ARGS]

Commands:
  run FILE         run the gateway described by the pipeline FILE
  run FILE [--set ...] FILE [--set ...] ...
                   dense mode: several gateways in one process, each with
                   its own nodes and SIP endpoint; a --set after a FILE is
                   that gateway's, one before the first FILE is everyone's
  validate FILE    check FILE (and --set overrides) without running anything
  plugins          list the plugins found: name, version, path, description
  inspect PLUGIN   show a plugin's properties, ports and events
  serve FILE       run many gateways on this host: warm pools, a SIP front
                   (302/503), an HTTP API, metrics (README: mediagw serve)
  inspect --markdown [PLUGIN...]
                   the same as a Markdown reference (every plugin found when
                   none is named; docs/plugins.md is made this way)

Options:
  --set NODE.PROP=VALUE   override a property (repeatable; also gateway.KEY)
  --control-fd N          run: JSON lines of events to descriptor N and
                          commands from it (for a supervisor: mediagw serve)
  -v, --verbose           debug logging (same as --log-level debug)
  --log-level LEVEL       error, warning, info (default) or debug
  --version               print the version
  -h, --help              print this help

Plugins are searched in MEDIAGW_PLUGIN_PATH (colon list), the build tree when
run uninstalled, then the installed plugin directory.
Exit codes: 0 ok, 1 runtime failure, 2 bad input.
)";

struct Options {
    bool markdown = false; // inspect --markdown
    std::string command;
    std::vector<std::string> args;
    std::vector<std::string> overrides;            // before the first FILE: every gateway's
    std::vector<std::vector<std::string>> file_overrides; // after FILE i: its own
    int control_fd = -1;
};

int usage_error(const std::string &message)
{
    std::fprintf(stderr, "mediagw: %s\n(see mediagw --help)\n", message.c_str());
    return exit_bad_input;
}

const char *kind_name(mgw_media_kind k) { return k == MGW_MEDIA_AUDIO ? "audio" : "video"; }

void print_warnings(const PluginRegistry &registry)
{
    for (auto &w : registry.warnings())
        log(MGW_LOG_WARNING, "core", w);
}

int cmd_plugins()
{
    PluginRegistry registry(PluginRegistry::default_search_path());
    std::vector<std::string> errors;
    auto plugins = registry.load_all(errors);
    print_warnings(registry);
    for (auto *p : plugins)
        std::printf("%-20s %-8s %s\n%-20s %-8s %s\n", p->info->name, p->info->version, p->info->description, "", "",
                    p->path.c_str());
    for (auto &e : errors)
        std::fprintf(stderr, "mediagw: %s\n", e.c_str());
    if (plugins.empty() && errors.empty())
        std::fprintf(stderr, "mediagw: no plugins found (set MEDIAGW_PLUGIN_PATH)\n");
    return errors.empty() ? exit_ok : exit_runtime;
}

int cmd_inspect(const std::string &name)
{
    PluginRegistry registry(PluginRegistry::default_search_path());
    std::string error;
    const Plugin *p = registry.load(name, error);
    print_warnings(registry);
    if (!p) {
        if (error.rfind("no plugin", 0) == 0)
            error += did_you_mean(name, registry.available());
        std::fprintf(stderr, "mediagw: %s\n", error.c_str());
        return exit_bad_input;
    }
    const auto *info = p->info;
    std::printf("%s %s\n  %s\n  file: %s\n", info->name, info->version, info->description, p->path.c_str());
    if (info->provides)
        std::printf("  provides: %s\n", info->provides);
    std::printf("\nProperties:\n");
    if (!info->n_properties)
        std::printf("  (none)\n");
    for (size_t i = 0; i < info->n_properties; ++i) {
        const auto &ps = info->properties[i];
        std::string type = property_type_word(ps.type);
        if (ps.type == MGW_PROP_ENUM)
            type += " (" + std::string(ps.choices) + ")";
        if (ps.type == MGW_PROP_NODE)
            type += " providing '" + std::string(ps.choices) + "'";
        std::string def = (ps.flags & MGW_PROP_REQUIRED) ? "required"
                          : ps.default_value             ? std::string("default: ") + ps.default_value
                                                         : "optional";
        std::printf("  %-18s %s, %s%s\n      %s\n", ps.name, type.c_str(), def.c_str(),
                    (ps.flags & MGW_PROP_SECRET) ? ", secret" : "", ps.description ? ps.description : "");
    }
    std::printf("\nPorts:\n");
    if (!info->n_ports)
        std::printf("  (none)\n");
    for (size_t i = 0; i < info->n_ports; ++i) {
        const auto &port = info->ports[i];
        std::printf("  %-6s %-10s %s%s\n      caps: %s\n      %s\n",
                    port.direction == MGW_PORT_INPUT ? "input" : "output", port.name, kind_name(port.kind),
                    (port.flags & MGW_PORT_REQUIRED) ? ", required" : "", port.caps,
                    port.description ? port.description : "");
    }
    if (info->events)
        std::printf("\nEvents: %s\n", info->events);
    if (info->values)
        std::printf("\nValues (call time, ${NODE.VALUE}): %s\n", info->values);
    return exit_ok;
}

// The reference for the named plugins (in that order), or for every plugin
// found (by name). Any plugin that cannot be loaded fails the whole document.
int cmd_inspect_markdown(const std::vector<std::string> &names)
{
    PluginRegistry registry(PluginRegistry::default_search_path());
    std::vector<std::string> errors;
    std::vector<const Plugin *> plugins;
    if (names.empty()) {
        plugins = registry.load_all(errors);
    } else {
        for (auto &name : names) {
            std::string error;
            if (const Plugin *p = registry.load(name, error))
                plugins.push_back(p);
            else
                errors.push_back(error.rfind("no plugin", 0) == 0 ? error + did_you_mean(name, registry.available())
                                                                 : error);
        }
    }
    print_warnings(registry);
    for (auto &e : errors)
        std::fprintf(stderr, "mediagw: %s\n", e.c_str());
    if (!errors.empty())
        return exit_bad_input;
    if (plugins.empty()) {
        std::fprintf(stderr, "mediagw: no plugins found (set MEDIAGW_PLUGIN_PATH)\n");
        return exit_runtime;
    }
    std::fputs(plugins_markdown(plugins).c_str(), stdout);
    return exit_ok;
}

std::optional<GraphSpec> load(const Options &opt, PluginRegistry &registry, size_t file = 0)
{
    Diagnostics diags;
    auto desc = load_pipeline_file(opt.args[file], process_environment(), diags);
    std::optional<GraphSpec> graph;
    if (desc) {
        for (auto &o : opt.overrides)
            apply_override(*desc, o, diags);
        for (auto &o : opt.file_overrides[file])
            apply_override(*desc, o, diags);
        graph = resolve_graph(*desc, registry, diags);
    }
    print_warnings(registry);
    if (!diags.empty()) {
        std::fputs(diags.format().c_str(), stderr);
        std::fprintf(stderr, "%zu error%s\n", diags.size(), diags.size() == 1 ? "" : "s");
        return std::nullopt;
    }
    return graph;
}

int cmd_validate(const Options &opt)
{
    PluginRegistry registry(PluginRegistry::default_search_path());
    auto graph = load(opt, registry);
    if (!graph)
        return exit_bad_input;
    std::printf("%s: ok (%zu node%s, %zu link%s)\n", opt.args[0].c_str(), graph->nodes.size(),
                graph->nodes.size() == 1 ? "" : "s", graph->links.size(), graph->links.size() == 1 ? "" : "s");
    return exit_ok;
}

// Dense mode: every FILE is a gateway of this process. All are built before
// any starts, so one bad FILE leaves nothing running.
int cmd_run_dense(const Options &opt)
{
    PluginRegistry registry(PluginRegistry::default_search_path());
    std::vector<std::unique_ptr<Gateway>> gateways;
    for (size_t i = 0; i < opt.args.size(); ++i) {
        auto graph = load(opt, registry, i);
        if (!graph)
            return exit_bad_input;
        auto gateway = std::make_unique<Gateway>(std::move(*graph));
        gateway->set_label(gateway->name() + "#" + std::to_string(i + 1));
        std::string error;
        if (!gateway->build(error)) {
            log(MGW_LOG_ERROR, "core", opt.args[i] + " (gateway #" + std::to_string(i + 1) + "): " + error);
            return exit_bad_input;
        }
        gateways.push_back(std::move(gateway));
    }
    log(MGW_LOG_INFO, "core", "dense mode: " + std::to_string(gateways.size()) + " gateways in this process");
    return GatewayGroup(std::move(gateways)).run();
}

int cmd_run(const Options &opt)
{
    if (opt.args.size() > 1)
        return cmd_run_dense(opt);
    // The channel's last line says how the gateway ended, whatever the way.
    std::unique_ptr<ControlChannel> control;
    if (opt.control_fd >= 0) {
        fcntl(opt.control_fd, F_SETFD, FD_CLOEXEC); // not for the node's own children
        control = std::make_unique<ControlChannel>(opt.control_fd);
    }
    PluginRegistry registry(PluginRegistry::default_search_path());
    auto graph = load(opt, registry);
    if (!graph) {
        if (control)
            control->send_exit(exit_bad_input, "the pipeline has errors (see the gateway's log)");
        return exit_bad_input;
    }
    Gateway gateway(std::move(*graph));
    std::string error;
    if (!gateway.build(error)) {
        log(MGW_LOG_ERROR, "core", error);
        if (control)
            control->send_exit(exit_bad_input, error);
        return exit_bad_input;
    }
    if (control)
        control->attach(gateway);
    const int code = gateway.run();
    if (control)
        control->send_exit(code, gateway.stop_reason());
    return code;
}

} // namespace

#ifndef MEDIAGW_WITH_SERVE
// `mediagw serve` is the program mediagw-serve beside this one: the
// supervisor's libraries (Sofia-SIP, libsoup, libsystemd) stay out of every
// gateway process (serve.cpp says why that matters).
int exec_serve(char **argv)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    std::string self = n > 0 ? std::string(buf, size_t(n)) : "";
    std::string serve = self.substr(0, self.rfind('/') + 1) + "mediagw-serve";
    execv(serve.c_str(), argv);
    std::fprintf(stderr, "mediagw: cannot run %s: %s\n", serve.c_str(), std::strerror(errno));
    return 1;
}
#endif

int main(int argc, char **argv)
{
    Options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&](const char *flag) -> std::optional<std::string> {
            std::string f = flag;
            if (a.rfind(f + "=", 0) == 0)
                return a.substr(f.size() + 1);
            if (a == f && i + 1 < argc)
                return std::string(argv[++i]);
            return std::nullopt;
        };
        if (a == "-h" || a == "--help") {
            std::fputs(usage_text, stdout);
            return exit_ok;
        } else if (a == "--version") {
            gchar *gst = gst_version_string(); // "GStreamer 1.22.0", ours to free (LeakSanitizer)
            std::printf("mediagw %s (plugin ABI %u, %s)\n", MEDIAGW_VERSION, MGW_ABI_VERSION, gst);
            g_free(gst);
            return exit_ok;
        } else if (a == "--markdown") {
            opt.markdown = true;
        } else if (a == "-v" || a == "--verbose") {
            set_log_level(MGW_LOG_DEBUG);
        } else if (a == "--log-level" || a.rfind("--log-level=", 0) == 0) {
            auto v = value("--log-level");
            mgw_log_level level;
            if (!v || !parse_log_level(*v, level))
                return usage_error("--log-level takes error, warning, info or debug");
            set_log_level(level);
        } else if (a == "--set" || a.rfind("--set=", 0) == 0) {
            auto v = value("--set");
            if (!v)
                return usage_error("--set needs NODE.PROPERTY=VALUE");
            (opt.args.empty() ? opt.overrides : opt.file_overrides.back()).push_back(*v);
        } else if (a == "--control-fd" || a.rfind("--control-fd=", 0) == 0) {
            auto v = value("--control-fd");
            char *end = nullptr;
            long fd = v ? strtol(v->c_str(), &end, 10) : -1;
            if (!v || v->empty() || *end || fd < 3 || fd > 65535 || fcntl(int(fd), F_GETFD) < 0)
                return usage_error("--control-fd needs an open descriptor number (3 or more)");
            opt.control_fd = int(fd);
        } else if (a.size() > 1 && a[0] == '-') {
            return usage_error("unknown option '" + a + "'");
        } else if (opt.command.empty()) {
            opt.command = a;
        } else {
            opt.args.push_back(a);
            opt.file_overrides.emplace_back();
        }
    }
    if (opt.command.empty())
        return usage_error("no command given");

    gst_init(nullptr, nullptr);
    auto need = [&](size_t n, const char *what) {
        return opt.args.size() == n ? 0 : usage_error(opt.command + " takes " + what);
    };
    if (opt.command != "inspect" && opt.markdown)
        return usage_error("--markdown goes with inspect");
    if (opt.command == "plugins")
        return need(0, "no arguments") ?: cmd_plugins();
    if (opt.command == "inspect" && opt.markdown)
        return cmd_inspect_markdown(opt.args);
    if (opt.command == "inspect")
        return need(1, "one PLUGIN name") ?: cmd_inspect(opt.args[0]);
    if (opt.command == "validate")
        return need(1, "one pipeline FILE") ?: cmd_validate(opt);
    if (opt.command == "run") {
        if (opt.args.empty())
            return usage_error("run takes a pipeline FILE (several: dense mode)");
        if (opt.args.size() > 1 && opt.control_fd >= 0)
            return usage_error("--control-fd runs one gateway (one FILE)");
        return cmd_run(opt);
    }
    if (opt.command == "serve") {
        if (int bad = need(1, "one serve FILE"))
            return bad;
#ifdef MEDIAGW_WITH_SERVE
        return serve::run(opt.args[0]);
#else
        return exec_serve(argv);
#endif
    }
    return usage_error("unknown command '" + opt.command + "'" +
                       did_you_mean(opt.command, {"run", "validate", "plugins", "inspect", "serve"}));
}
