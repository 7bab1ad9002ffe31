// A private temporary directory (mode 0700) named after the gateway's PID,
// removed with its contents when the owner goes; ones left behind by a
// gateway that was SIGKILLed are removed by the next one (remove_stale()).
#pragma once

#include <string>

namespace browsercapture {

class PrivateDir {
public:
    // `prefix`: e.g. "mediagw-devices-" (the PID and a random part follow).
    // Throws std::runtime_error when it cannot be created.
    explicit PrivateDir(const std::string &prefix);
    ~PrivateDir();
    PrivateDir(const PrivateDir &) = delete;
    PrivateDir &operator=(const PrivateDir &) = delete;

    const std::string &path() const { return path_; }

    // Removes this user's `prefix`PID-* directories whose PID is gone.
    static void remove_stale(const std::string &prefix);
    static void remove_tree(const std::string &path);

private:
    std::string path_;
};

} // namespace browsercapture
