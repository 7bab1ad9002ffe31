// A validated gateway: every node resolved to its plugin with typed
// properties, every input resolved to another node's output port.
#pragma once

#include "pipeline_desc.hpp"
#include "registry.hpp"

#include <memory>

namespace mediagw {

struct StructureDeleter {
    void operator()(GstStructure *s) const { gst_structure_free(s); }
};
using StructurePtr = std::unique_ptr<GstStructure, StructureDeleter>;

struct NodeSpec {
    std::string name;
    const Plugin *plugin = nullptr;
    StructurePtr properties;
    std::string start_on; // "node/event", empty = at once
};

struct LinkSpec {
    size_t from = 0; // index into GraphSpec::nodes
    const mgw_port_spec *from_port = nullptr;
    size_t to = 0;
    const mgw_port_spec *to_port = nullptr;
};

struct GraphSpec {
    GatewayDesc gateway;
    std::vector<NodeSpec> nodes;
    std::vector<LinkSpec> links;
};

// Check `desc` against the plugins' schemas, loading only the plugins it
// names. Reports every error found; returns nullopt if there was any.
std::optional<GraphSpec> resolve_graph(const PipelineDesc &desc, PluginRegistry &registry, Diagnostics &diags);

// Text for a property value in logs: secrets are masked.
std::string printable_value(const mgw_property_spec &spec, const GValue *value);

} // namespace mediagw
