// What to put between two ports once the caps that flow are known.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace mediagw {

struct ConversionPlan {
    bool ok = true;               // false: no way found, see `why`
    std::vector<std::string> elements; // factory names, upstream first; empty = passthrough
    std::string why;              // one line for the log: what and why
    bool passthrough() const { return ok && elements.empty(); }
};

// `input`: the fixed caps arriving; `accepted`: what the downstream port takes.
ConversionPlan plan_conversion(const GstCaps *input, const GstCaps *accepted);

// Create an element of the plan with live-friendly settings (encoders tuned
// for real time). nullptr if the factory is missing.
GstElement *make_conversion_element(const std::string &factory);

} // namespace mediagw
