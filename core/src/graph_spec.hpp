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

// A property that refers to call-time values: its final value is known
// only when the node starts.
struct CallTimeProperty {
    const mgw_property_spec *spec = nullptr;
    Value value; // as written, the ${node.value} references still in it
};

struct NodeSpec {
    std::string name;
    const Plugin *plugin = nullptr;
    StructurePtr properties;
    std::string start_on; // "node/event", empty = at once
    std::vector<CallTimeProperty> call_time;
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

// Resolve `node`'s call-time properties with the published `values`
// ("node.value" -> text) into its property structure, before it starts.
bool resolve_call_time(NodeSpec &node, const Environment &values, std::string &error);

// Text for a property value in logs: secrets are masked.
std::string printable_value(const mgw_property_spec &spec, const GValue *value);

} // namespace mediagw
