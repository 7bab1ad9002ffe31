// Join scripts: reading and checking (conf/join/README.md is the format).
// Every error names file:line:col like the rest of mediagw's TOML errors;
// all the errors of a file are reported at once, in file order.
#include "join_script.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace browsercapture {

const char *step_kind_name(StepKind kind)
{
    switch (kind) {
    case StepKind::wait: return "wait";
    case StepKind::wait_until: return "wait_until";
    case StepKind::click: return "click";
    case StepKind::type: return "type";
    case StepKind::eval: return "eval";
    case StepKind::sleep: return "sleep";
    }
    return "?";
}

const JoinAction *JoinScript::action(const std::string &key) const
{
    for (const auto &a : actions)
        if (a.key == key)
            return &a;
    return nullptr;
}

const std::vector<std::string> &join_variables()
{
    static const std::vector<std::string> names{"display_name", "room", "pin", "url", "width", "height", "ice_servers"};
    return names;
}

std::string js_string(std::string_view text)
{
    std::string out = "\"";
    for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<': out += "\\u003c"; break; // "</script>" stays harmless wherever the text lands
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else if (c == 0xe2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                       (static_cast<unsigned char>(text[i + 2]) == 0xa8 ||
                        static_cast<unsigned char>(text[i + 2]) == 0xa9)) {
                out += static_cast<unsigned char>(text[i + 2]) == 0xa8 ? "\\u2028" : "\\u2029";
                i += 2;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

bool valid_dtmf_key(std::string_view key)
{
    if (key.empty() || key.size() > 4)
        return false;
    return std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= '0' && c <= '9') || c == '*' || c == '#' || (c >= 'A' && c <= 'D');
    });
}

namespace {

size_t edit_distance(std::string_view a, std::string_view b)
{
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i)
        for (size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) // a swap is one typo
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

std::string did_you_mean(std::string_view word, const std::vector<std::string> &candidates)
{
    const std::string *best = nullptr;
    size_t best_d = 0;
    for (const auto &c : candidates) {
        size_t d = edit_distance(word, c);
        if (word.size() >= 3 && c.compare(0, word.size(), word) == 0) // "display" -> "display_name"
            d = 1;
        if (!best || d < best_d) {
            best = &c;
            best_d = d;
        }
    }
    if (best && best_d <= std::max<size_t>(1, word.size() / 3))
        return " (did you mean '" + *best + "'?)";
    return "";
}

std::string list(const std::vector<std::string> &names)
{
    std::string out;
    for (const auto &n : names)
        out += (out.empty() ? "" : ", ") + n;
    return out;
}

// A table's entries in file order (toml++ keeps them sorted by key): "the
// second action" and the order of [actions] are the file's.
std::vector<std::pair<const toml::key *, const toml::node *>> ordered(const toml::table &t)
{
    std::vector<std::pair<const toml::key *, const toml::node *>> out;
    for (auto &&[k, v] : t)
        out.emplace_back(&k, &v);
    std::stable_sort(out.begin(), out.end(), [](const auto &a, const auto &b) {
        const auto &x = a.first->source().begin, &y = b.first->source().begin;
        return std::tie(x.line, x.column) < std::tie(y.line, y.column);
    });
    return out;
}

struct Error {
    int line, column;
    std::string text;
};

class Reader {
public:
    Reader(std::string path, const std::map<std::string, std::string> &vars) : path_(std::move(path)), vars_(vars) {}

    std::vector<Error> errors;

    void error(const toml::source_region &at, std::string message)
    {
        errors.push_back({static_cast<int>(at.begin.line), static_cast<int>(at.begin.column), std::move(message)});
    }

    std::string where(const toml::source_region &at) const
    {
        return path_ + ":" + std::to_string(at.begin.line) + ":" + std::to_string(at.begin.column);
    }

    // ${name} -> the variable (as a JS string literal when `js`); "$${" is a
    // literal "${" (for JS template literals).
    std::string substitute(const std::string &text, const toml::source_region &at, bool js)
    {
        std::string out;
        for (size_t i = 0; i < text.size();) {
            if (text.compare(i, 3, "$${") == 0) {
                out += "${";
                i += 3;
                continue;
            }
            if (text.compare(i, 2, "${") != 0) {
                out += text[i++];
                continue;
            }
            size_t end = text.find('}', i + 2);
            if (end == std::string::npos) {
                error(at, "unterminated '${' (write '$${' for a literal '${')");
                return out;
            }
            std::string name = text.substr(i + 2, end - i - 2);
            const auto &known = join_variables();
            if (std::find(known.begin(), known.end(), name) == known.end()) {
                error(at, "unknown variable '${" + name + "}'" + did_you_mean(name, known) + " (known: " +
                              list(known) + ")");
            } else {
                auto v = vars_.find(name);
                std::string value = v == vars_.end() ? std::string() : v->second;
                out += js ? js_string(value) : value;
            }
            i = end + 1;
        }
        return out;
    }

    // A non-empty string value, substituted; nullopt (error recorded) otherwise.
    std::optional<std::string> string(const toml::node &n, const std::string &what, bool js, bool subst = true)
    {
        const auto *s = n.as_string();
        if (!s) {
            error(n.source(), what + " must be a string");
            return std::nullopt;
        }
        if (s->get().empty()) {
            error(n.source(), what + " must not be empty");
            return std::nullopt;
        }
        return subst ? substitute(s->get(), n.source(), js) : s->get();
    }

    std::optional<double> seconds(const toml::node &n, const std::string &what, bool zero_ok)
    {
        double v;
        if (const auto *i = n.as_integer())
            v = static_cast<double>(i->get());
        else if (const auto *f = n.as_floating_point())
            v = f->get();
        else {
            error(n.source(), what + " must be a number of seconds");
            return std::nullopt;
        }
        if (!(v > 0 || (zero_ok && v == 0)) || v > 86400) {
            error(n.source(), what + " must be " + (zero_ok ? "0" : "more than 0") + " to 86400 seconds");
            return std::nullopt;
        }
        return v;
    }

    const toml::table *table(const toml::node &n, const std::string &what)
    {
        const auto *t = n.as_table();
        if (!t)
            error(n.source(), what + " must be a table");
        return t;
    }

    void unknown_key(const toml::key &k, const std::string &where, const std::vector<std::string> &known)
    {
        std::string key(k.str());
        error(k.source(), "unknown key '" + key + "' in " + where + did_you_mean(key, known) + " (known: " +
                              list(known) + ")");
    }

    void service(const toml::table &t, JoinScript &s)
    {
        static const std::vector<std::string> keys{"name", "source"};
        for (auto [kp, vp] : ordered(t)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            if (k == "name") {
                if (auto x = string(v, "service.name", false, false))
                    s.name = *x;
            } else if (k == "source") {
                if (auto x = string(v, "service.source", false, false))
                    s.source = *x;
            } else
                unknown_key(k, "[service]", keys);
        }
    }

    // click = "selector" or eval = "JS", exactly one: [leave] and actions.
    std::optional<JoinTrigger> trigger(const toml::table &t, const std::string &what,
                                       const std::vector<std::string> &other_keys)
    {
        std::vector<std::string> keys{"click", "eval"};
        keys.insert(keys.end(), other_keys.begin(), other_keys.end());
        std::optional<JoinTrigger> out;
        bool two = false;
        for (auto [kp, vp] : ordered(t)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            if (k != "click" && k != "eval") {
                if (std::find(other_keys.begin(), other_keys.end(), k.str()) == other_keys.end())
                    unknown_key(k, what, keys);
                continue;
            }
            bool click = k == "click";
            auto x = string(v, what + " " + std::string(k.str()), !click);
            if (out) {
                error(k.source(), what + " has both click and eval: give one");
                two = true;
            } else if (x)
                out = JoinTrigger{click, *x};
        }
        if (!out && !two)
            error(t.source(), what + " needs click = \"selector\" or eval = \"JS\"");
        return two ? std::nullopt : out;
    }

    void step(const toml::table &t, JoinScript &s, std::map<std::string, std::string> &names)
    {
        static const std::vector<std::string> keys{"name",  "timeout", "wait",  "wait_until",
                                                   "click", "type",    "eval",  "sleep"};
        JoinStep st;
        st.where = where(t.source());
        const toml::key *action_key = nullptr;
        bool ok = true;
        std::string label = "step";
        if (auto n = t.get("name"); n && n->is_string())
            label = "step '" + n->as_string()->get() + "'";
        for (auto [kp, vp] : ordered(t)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            std::string key(k.str());
            if (key == "name") {
                if (auto x = string(v, "step name", false, false)) {
                    st.name = *x;
                    auto [it, fresh] = names.emplace(*x, where(k.source()));
                    if (!fresh) {
                        error(k.source(), "duplicate step name '" + *x + "' (first at " + it->second + ")");
                        ok = false;
                    }
                } else
                    ok = false;
                continue;
            }
            if (key == "timeout") {
                if (auto x = seconds(v, label + ": timeout", false))
                    st.timeout = *x;
                else
                    ok = false;
                continue;
            }
            if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
                unknown_key(k, label, keys);
                ok = false;
                continue;
            }
            // An action.
            if (action_key) {
                error(k.source(), label + " has two actions ('" + std::string(action_key->str()) + "' and '" + key +
                                      "'): give one per step");
                ok = false;
                continue;
            }
            action_key = &k;
            if (key == "wait" || key == "click") {
                st.kind = key == "wait" ? StepKind::wait : StepKind::click;
                if (auto x = string(v, label + ": " + key, false))
                    st.arg = *x;
                else
                    ok = false;
            } else if (key == "wait_until" || key == "eval") {
                st.kind = key == "eval" ? StepKind::eval : StepKind::wait_until;
                if (auto x = string(v, label + ": " + key, true))
                    st.arg = *x;
                else
                    ok = false;
            } else if (key == "sleep") {
                st.kind = StepKind::sleep;
                if (auto x = seconds(v, label + ": sleep", true))
                    st.seconds = *x;
                else
                    ok = false;
            } else { // type
                st.kind = StepKind::type;
                const auto *tt = v.as_table();
                if (!tt) {
                    error(v.source(), label + ": type must be a table: type = { into = \"selector\", text = \"...\" }");
                    ok = false;
                    continue;
                }
                bool into = false, text = false;
                for (auto [tkp, tvp] : ordered(*tt)) {
                    const toml::key &tk = *tkp;
                    const toml::node &tv = *tvp;
                    if (tk == "into") {
                        if (auto x = string(tv, label + ": type.into", false)) {
                            st.arg = *x;
                            into = true;
                        }
                    } else if (tk == "text") {
                        if (const auto *str = tv.as_string()) { // may be empty (clears the field)
                            st.text = substitute(str->get(), tv.source(), false);
                            text = true;
                        } else
                            error(tv.source(), label + ": type.text must be a string");
                    } else
                        unknown_key(tk, label + " type", {"into", "text"});
                }
                if (!into || !text) {
                    error(v.source(), label + ": type needs both into = \"selector\" and text = \"...\"");
                    ok = false;
                }
            }
        }
        if (st.name.empty() && !t.contains("name")) {
            error(t.source(), "a [[step]] needs a name (it names the step in errors)");
            ok = false;
        }
        if (!action_key) {
            error(t.source(), label + " has no action: give one of wait, wait_until, click, type, eval, sleep");
            ok = false;
        }
        if (ok)
            s.steps.push_back(std::move(st));
    }

    void participants(const toml::table &t, JoinScript &s)
    {
        for (auto [kp, vp] : ordered(t)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            if (k == "count") {
                if (auto x = string(v, "participants.count", true))
                    s.participants_count = *x;
            } else if (k == "names") {
                if (auto x = string(v, "participants.names", true))
                    s.participants_names = *x;
            } else
                unknown_key(k, "[participants]", {"count", "names"});
        }
        if (!t.contains("count"))
            error(t.source(), "[participants] needs count = \"JS expression\"");
    }

    void actions(const toml::table &t, JoinScript &s)
    {
        for (auto [kp, vp] : ordered(t)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            std::string key(k.str());
            if (!valid_dtmf_key(key)) {
                error(k.source(), "bad DTMF key '" + key + "' in [actions]: 1 to 4 of 0-9 * # A-D");
                continue;
            }
            const auto *a = table(v, "action '" + key + "'");
            if (!a)
                continue;
            std::string what = "action '" + key + "'";
            JoinAction act;
            act.key = key;
            if (auto n = a->get("name")) {
                if (auto x = string(*n, what + " name", false, false))
                    act.name = *x;
            } else
                error(a->source(), what + " needs a name (\"mute\")");
            auto tr = trigger(*a, what, {"name"});
            if (tr && !act.name.empty()) {
                act.trigger = *tr;
                s.actions.push_back(std::move(act));
            }
        }
    }

    JoinScript document(const toml::table &root)
    {
        static const std::vector<std::string> keys{"service", "step", "participants", "leave", "actions"};
        JoinScript s;
        s.path = path_;
        std::map<std::string, std::string> names;
        for (auto [kp, vp] : ordered(root)) {
            const toml::key &k = *kp;
            const toml::node &v = *vp;
            if (k == "service") {
                if (const auto *t = table(v, "[service]"))
                    service(*t, s);
            } else if (k == "step") {
                const auto *arr = v.as_array();
                if (!arr || !arr->is_array_of_tables()) {
                    error(v.source(), "'step' must be an array of tables: [[step]]");
                    continue;
                }
                for (const auto &e : *arr)
                    step(*e.as_table(), s, names);
            } else if (k == "participants") {
                if (const auto *t = table(v, "[participants]"))
                    participants(*t, s);
            } else if (k == "leave") {
                if (const auto *t = table(v, "[leave]"))
                    s.leave = trigger(*t, "[leave]", {});
            } else if (k == "actions") {
                if (const auto *t = table(v, "[actions]"))
                    actions(*t, s);
            } else
                unknown_key(k, "the join script", keys);
        }
        if (!root.contains("service"))
            errors.push_back({1, 1, "the join script has no [service] table (name = \"...\")"});
        else if (s.name.empty() && root["service"].is_table() && !root["service"].as_table()->contains("name"))
            error(root["service"].node()->source(), "[service] needs name = \"...\"");
        if (!root.contains("step"))
            errors.push_back({1, 1, "the join script has no [[step]]"});
        return s;
    }

private:
    std::string path_;
    const std::map<std::string, std::string> &vars_;
};

} // namespace

JoinScript parse_join_script_text(const std::string &text, const std::string &path,
                                  const std::map<std::string, std::string> &vars)
{
    toml::table root;
    try {
        root = toml::parse(text, path);
    } catch (const toml::parse_error &e) {
        const auto &b = e.source().begin;
        throw std::runtime_error(path + ":" + std::to_string(b.line) + ":" + std::to_string(b.column) +
                                 ": error: " + std::string(e.description()));
    }
    Reader r(path, vars);
    JoinScript s = r.document(root);
    if (!r.errors.empty()) {
        std::stable_sort(r.errors.begin(), r.errors.end(), [](const Error &a, const Error &b) {
            return std::tie(a.line, a.column) < std::tie(b.line, b.column);
        });
        std::string out;
        for (const auto &e : r.errors)
            out += (out.empty() ? "" : "\n") + path + ":" + std::to_string(e.line) + ":" + std::to_string(e.column) +
                   ": error: " + e.text;
        throw std::runtime_error(out);
    }
    return s;
}

JoinScript parse_join_script(const std::string &path, const std::map<std::string, std::string> &vars)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(path + ": error: cannot read the join script: " + std::strerror(errno));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_join_script_text(text.str(), path, vars);
}

namespace {

std::vector<std::string> search_folders()
{
    std::vector<std::string> out;
    if (const char *p = std::getenv("MEDIAGW_JOIN_PATH")) {
        std::string s = p;
        size_t start = 0;
        while (start <= s.size()) {
            size_t end = s.find(':', start);
            if (end == std::string::npos)
                end = s.size();
            if (end > start)
                out.push_back(s.substr(start, end - start));
            start = end + 1;
        }
    }
    const char *xdg = std::getenv("XDG_CONFIG_HOME");
    if (xdg && *xdg)
        out.push_back(std::string(xdg) + "/mediagw/join");
    else if (const char *home = std::getenv("HOME"); home && *home)
        out.push_back(std::string(home) + "/.config/mediagw/join");
#ifdef MGW_JOIN_SOURCE_DIR
    out.push_back(MGW_JOIN_SOURCE_DIR);
#endif
#ifdef MGW_JOIN_INSTALL_DIR
    out.push_back(MGW_JOIN_INSTALL_DIR);
#endif
    return out;
}

} // namespace

std::string find_join_script(const std::string &name_or_path, std::string &searched)
{
    searched.clear();
    const std::string &v = name_or_path;
    bool is_path = v.find('/') != std::string::npos || (v.size() >= 5 && v.compare(v.size() - 5, 5, ".toml") == 0);
    if (is_path) {
        searched = v;
        std::error_code ec;
        if (std::filesystem::is_regular_file(v, ec))
            return v;
        throw std::runtime_error("join script '" + v + "' not found (no such file)");
    }
    if (v.empty())
        throw std::runtime_error("empty join script name");
    for (const auto &dir : search_folders()) {
        searched += (searched.empty() ? "" : ": ") + dir;
        std::string file = dir + "/" + v + ".toml";
        std::error_code ec;
        if (std::filesystem::is_regular_file(file, ec))
            return file;
    }
    throw std::runtime_error("join script '" + v + "' not found: looked for " + v + ".toml in " +
                             (searched.empty() ? std::string("no folder") : searched) +
                             " (set MEDIAGW_JOIN_PATH, or give a path)");
}

} // namespace browsercapture
