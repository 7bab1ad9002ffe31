#include "nat/ice_call.hpp"

#include <dlfcn.h>

#include <mutex>

namespace sipsofia {

namespace {

struct IceModule {
    IceCallNew *make = nullptr;
    IceWhenClosed *when_closed = nullptr;
    std::string error;
};

// Loaded once, never unloaded (libnice registers GTypes), from the
// directory this plugin was loaded from.
IceModule &ice_module(bool load)
{
    static IceModule module;
    static bool tried = false;
    if (!load || tried)
        return module;
    tried = true;
    Dl_info self{};
    std::string dir;
    if (dladdr(reinterpret_cast<void *>(&make_ice_call), &self) && self.dli_fname) {
        dir = self.dli_fname;
        dir = dir.substr(0, dir.rfind('/') + 1);
    }
    const std::string path = dir + MGW_SIP_SOFIA_ICE_MODULE;
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!handle) {
        const char *why = dlerror();
        module.error = "cannot load the ICE module " + path + ": " + (why ? why : "unknown error");
        return module;
    }
    module.make = reinterpret_cast<IceCallNew *>(dlsym(handle, "mgw_sip_sofia_ice_call_new"));
    module.when_closed = reinterpret_cast<IceWhenClosed *>(dlsym(handle, "mgw_sip_sofia_ice_when_closed"));
    if (!module.make || !module.when_closed) {
        module.make = nullptr;
        module.error = "the ICE module " + path + " lacks its entry points";
    }
    return module;
}

} // namespace

std::shared_ptr<IceCall> make_ice_call(const IceServers &servers, bool controlling, TurnLog log, std::string &error)
{
    IceModule &module = ice_module(true);
    if (!module.make) {
        error = module.error;
        return nullptr;
    }
    return std::shared_ptr<IceCall>(module.make(servers, controlling, std::move(log)));
}

void when_ice_closed(guint timeout_ms, std::function<void()> done)
{
    IceModule &module = ice_module(false);
    if (module.when_closed)
        module.when_closed(timeout_ms, std::move(done));
    else
        done();
}

} // namespace sipsofia
