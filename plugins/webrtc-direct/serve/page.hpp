// The page a browser opens to join the SIP caller (served at "/").
#pragma once

#include <string>

namespace webrtcdirect {
const std::string &page_html();
}
