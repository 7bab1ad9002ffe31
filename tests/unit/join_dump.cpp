// join-dump SCRIPT [NAME=VALUE...]: prints, as JSON, the exact JS the join
// runner evaluates for each step, [participants], [leave] and [actions] of a
// join script. tests/lib/rooms.py run_join_script() replays it in a real page
// through selenium, so the shipped scripts are checked with the runner's own
// expressions (not a copy of them).
#include "../../plugins/browser-capture/join/join_runner.hpp"

#include <iostream>

using namespace browsercapture;

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::cerr << "usage: join-dump SCRIPT [NAME=VALUE...]\n";
        return 2;
    }
    std::map<std::string, std::string> vars;
    for (int i = 2; i < argc; ++i) {
        std::string a = argv[i];
        auto eq = a.find('=');
        if (eq == std::string::npos) {
            std::cerr << "join-dump: expected NAME=VALUE, got " << a << "\n";
            return 2;
        }
        vars[a.substr(0, eq)] = a.substr(eq + 1);
    }
    JoinScript s;
    try {
        std::string searched;
        s = parse_join_script(find_join_script(argv[1], searched), vars);
    } catch (const std::exception &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
    std::cout << "{\"name\": " << js_string(s.name) << ",\n \"steps\": [";
    for (size_t i = 0; i < s.steps.size(); ++i) {
        const auto &st = s.steps[i];
        std::cout << (i ? ",\n  " : "\n  ") << "{\"name\": " << js_string(st.name) << ", \"kind\": \""
                  << step_kind_name(st.kind) << "\", \"timeout\": " << st.timeout << ", \"seconds\": " << st.seconds
                  << ", \"expression\": " << js_string(step_expression(st)) << "}";
    }
    std::cout << "],\n \"participants\": "
              << (s.participants_count.empty() ? "null" : js_string(participants_expression(s)))
              << ",\n \"leave\": " << (s.leave ? js_string(trigger_expression(*s.leave)) : "null")
              << ",\n \"actions\": {";
    for (size_t i = 0; i < s.actions.size(); ++i)
        std::cout << (i ? ", " : "") << js_string(s.actions[i].key) << ": {\"name\": " << js_string(s.actions[i].name)
                  << ", \"expression\": " << js_string(trigger_expression(s.actions[i].trigger)) << "}";
    std::cout << "}}\n";
    return 0;
}
