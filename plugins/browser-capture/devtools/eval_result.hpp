// What evaluating a script in the page gave (Runtime.evaluate with
// returnByValue and awaitPromise): shared by the page session, which makes
// it, and the join runner, which reads it.
#pragma once

#include <string>

namespace browsercapture {

struct EvalResult {
    bool ok = false;
    std::string error; // !ok: the exception's text or the protocol error
    std::string json;  // ok: the value as JSON text ("true", "3", "[\"a\"]", "null")
};

} // namespace browsercapture
