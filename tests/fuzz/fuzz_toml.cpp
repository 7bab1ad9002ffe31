// The TOML pipeline loader (core/src/toml_loader.cpp) on arbitrary text: it
// must report errors, never crash, hang or read out of bounds.
#include "pipeline_desc.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string text(reinterpret_cast<const char *>(data), size);
    mediagw::Diagnostics diags;
    auto env = [](const std::string &name) -> std::optional<std::string> {
        if (name == "SET")
            return std::string("value");
        return std::nullopt;
    };
    auto desc = mediagw::load_pipeline_string(text, "fuzz.toml", env, diags);
    if (desc)
        mediagw::apply_override(*desc, "node.a.x=1", diags);
    return 0;
}
