// `mediagw inspect --markdown`: the plugin reference (docs/plugins.md) made
// from the plugins' own descriptors, the schema the validator uses, so the
// reference cannot drift from what a pipeline may say.
#pragma once

#include "registry.hpp"

#include <string>
#include <vector>

namespace mediagw {

// One Markdown document for `plugins`, in the order given. Deterministic: no
// paths, dates or anything else that depends on where or when it runs.
std::string plugins_markdown(const std::vector<const Plugin *> &plugins);

// A property type as both `inspect` forms name it ("string list").
const char *property_type_word(mgw_prop_type t);

} // namespace mediagw
