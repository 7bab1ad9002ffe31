#!/usr/bin/env python3
"""The plugin SDK from a third party's side.

1. Stage-install the main build (DESTDIR) into a temp sysroot and check the
   installed mediagw-plugin.pc (Cflags, Requires, plugindir, abi_version).
2. Build tests/sdk/plugin (plugin `gain`, its own meson project) out of tree,
   finding the SDK only through pkg-config, and prove the compiler read the
   staged headers, not core/include of the source tree.
3. `mediagw plugins` / `inspect gain` see it; tone -> gain -> wav-sink runs,
   and sox measures the RMS scaled by the gain with the frequency unchanged.
4. A module built for ABI version N+1 (badabi.c, compiled with
   `cc $(pkg-config --cflags mediagw-plugin)`) is refused, naming the file
   and both versions, while the good plugin is still listed; its constructor
   aborts, so this also proves the loader refused it without loading it.
5. A plugin in plain C (cplugin/cvolume.c: plugin.h only, no C++ at all),
   built with `cc $(pkg-config --cflags --libs mediagw-plugin)`, is listed
   and scales a tone in a pipeline; its own refusal reaches the user.
Skips (77) only when meson, ninja, pkg-config, a C compiler or sox is missing.
"""
import json
import os
import re
import shutil
import subprocess

from mgwtest import BUILD_ROOT, MEDIAGW, SOURCE_ROOT, check, fail, log, require_tools, wav_stat, workdir

require_tools("meson", "ninja", "pkg-config", "cc", "sox")
if not BUILD_ROOT or not os.path.isdir(BUILD_ROOT):
    fail("MEDIAGW_BUILD_ROOT is not set to the main build directory")

SDK_DIR = os.path.join(SOURCE_ROOT, "tests", "sdk")
PLUGIN_SRC = os.path.join(SDK_DIR, "plugin")
SOURCE_INCLUDE = os.path.join(SOURCE_ROOT, "core", "include")


def run(argv, env=None, timeout=180, expect=0):
    """Runs argv; on an unexpected exit code prints its output and fails."""
    log("$ " + " ".join(argv))
    try:
        r = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout} s: {' '.join(argv)}")
    if expect is not None and r.returncode != expect:
        log(r.stdout[-4000:])
        log(r.stderr[-4000:])
        fail(f"exit {r.returncode} (expected {expect}): {' '.join(argv)}")
    return r


def build_options():
    """prefix, libdir and includedir the main build was configured with."""
    r = run(["meson", "introspect", "--buildoptions", BUILD_ROOT])
    opts = {o["name"]: o["value"] for o in json.loads(r.stdout)}
    prefix = opts["prefix"]
    return prefix, os.path.join(prefix, opts["libdir"]), os.path.join(prefix, opts["includedir"])


def overlay_host_paths(sysroot, flags):
    """PKG_CONFIG_SYSROOT_DIR prefixes every -I/-L path, GStreamer's too; a
    real sysroot holds the whole system, so make the host's directories
    appear inside ours (as symlinks) wherever the staged tree has nothing."""
    paths = sorted({f[2:] for f in flags.split() if f[:2] in ("-I", "-L") and f[2:].startswith(sysroot + "/")},
                   key=len, reverse=True)
    for p in paths:
        host = p[len(sysroot):]
        if not os.path.lexists(p) and os.path.isdir(host):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            os.symlink(host, p)  # workdir()'s rmtree unlinks symlinks, never follows them


def rms_close(got, want, tol=0.10):
    return got is not None and abs(got - want) <= tol * want


with workdir() as d:
    # --- 1. The installed SDK ---------------------------------------------------
    sysroot = os.path.join(d, "sysroot")

    def staged(path):
        """Where an installed absolute path lands in the staged tree."""
        return sysroot + path

    run(["meson", "install", "-C", BUILD_ROOT, "--no-rebuild", "--quiet", "--destdir", sysroot])
    prefix, libdir, includedir = build_options()
    pcdir = staged(os.path.join(libdir, "pkgconfig"))
    pcfile = os.path.join(pcdir, "mediagw-plugin.pc")
    check(os.path.isfile(pcfile), f"mediagw-plugin.pc installed in {libdir}/pkgconfig")
    for h in ("plugin.h", "node.hpp"):
        check(os.path.isfile(staged(os.path.join(includedir, "mediagw", h))), f"mediagw/{h} installed")
    staged_plugindir = staged(os.path.join(libdir, "mediagw", "plugins"))
    for m in ("mgw-tone.so", "mgw-wav-sink.so"):
        check(os.path.isfile(os.path.join(staged_plugindir, m)), f"{m} installed in {libdir}/mediagw/plugins")

    pc = open(pcfile).read()
    log(pc)
    pcvars = dict(re.findall(r"^(\w+)=(.*)$", pc, re.M))
    pcfields = dict(re.findall(r"^([\w.]+):\s*(.*)$", pc, re.M))
    check(pcvars.get("plugindir") == "${libdir}/mediagw/plugins", "pc: plugindir=${libdir}/mediagw/plugins")
    check("gstreamer-1.0" in pcfields.get("Requires", ""), "pc: Requires: gstreamer-1.0 (public, not .private)")
    check("-I${includedir}" in pcfields.get("Cflags", "").split(),
          f"pc: Cflags has -I${{includedir}} (got '{pcfields.get('Cflags')}')")
    check(not pcfields.get("Libs", "").strip(), "pc: no Libs (plugins never link libmediagw)")
    abi = int(re.search(r"#define MGW_ABI_VERSION (\d+)u",
                        open(staged(os.path.join(includedir, "mediagw", "plugin.h"))).read()).group(1))
    check(pcvars.get("abi_version") == str(abi), f"pc: abi_version={abi}, as MGW_ABI_VERSION in plugin.h")
    r = run([MEDIAGW, "--version"])
    check(f"plugin ABI {abi}" in r.stdout, f"mediagw --version says plugin ABI {abi}")

    env = dict(os.environ, PKG_CONFIG_PATH=pcdir, PKG_CONFIG_SYSROOT_DIR=sysroot)
    cflags = run(["pkg-config", "--cflags", "mediagw-plugin"], env=env).stdout.strip()
    libs = run(["pkg-config", "--libs", "mediagw-plugin"], env=env).stdout.strip()
    log(f"cflags: {cflags}\nlibs: {libs}")
    overlay_host_paths(sysroot, cflags + " " + libs)
    check(f"-I{staged(includedir)}" in cflags.split(), "pkg-config --cflags points at the staged include dir")
    check(SOURCE_ROOT not in cflags, "pkg-config --cflags does not mention the source tree")
    host_gst = run(["pkg-config", "--cflags-only-I", "gstreamer-1.0"]).stdout.split()
    check(all(f"-I{sysroot}{f[2:]}" in cflags.split() for f in host_gst),
          "pkg-config --cflags carries gstreamer-1.0's include dirs")
    r = run(["pkg-config", "--variable=plugindir", "mediagw-plugin"], env=env)
    check(r.stdout.strip() == staged_plugindir, f"pkg-config --variable=plugindir is {libdir}/mediagw/plugins")

    # --- 2. Out-of-tree build -----------------------------------------------------
    pbuild = os.path.join(d, "gain-build")
    run(["meson", "setup", pbuild, PLUGIN_SRC], env=env)
    run(["ninja", "-C", pbuild], env=env)
    module = os.path.join(pbuild, "mgw-gain.so")
    check(os.path.isfile(module), "out-of-tree build made mgw-gain.so")
    deps = run(["ninja", "-C", pbuild, "-t", "deps"]).stdout
    headers = set(re.findall(r"^\s+(\S+)$", deps, re.M))
    headers = {os.path.normpath(h if os.path.isabs(h) else os.path.join(pbuild, h)) for h in headers}
    check(os.path.join(staged(includedir), "mediagw", "node.hpp") in headers and
          os.path.join(staged(includedir), "mediagw", "plugin.h") in headers,
          "the compiler read the staged mediagw/node.hpp and plugin.h")
    check(not any(h.startswith(SOURCE_INCLUDE + "/") for h in headers),
          "the compiler read nothing from the source tree's core/include")
    if shutil.which("nm"):
        syms = run(["nm", "-D", "--defined-only", module]).stdout.split("\n")
        syms = [s.split()[-2:] for s in syms if len(s.split()) >= 2]
        # Weak (W/V/u) instantiations of libstdc++ templates keep default
        # visibility by design; everything of the plugin's own must be hidden.
        strong = [name for kind, name in syms if kind in "TDRBGS"]
        check(strong == ["mediagw_plugin_info"], f"only mediagw_plugin_info is exported (got {strong})")
        ours = [name for kind, name in syms if "mediagw" in name and name != "mediagw_plugin_info"]
        check(not ours, f"no mediagw:: symbol is exported (got {ours})")

    # Installs where the .pc says (the staged plugindir; never outside the temp dir).
    installed = json.loads(run(["meson", "introspect", "--installed", pbuild]).stdout)
    dests = list(installed.values())
    check(dests == [os.path.join(staged_plugindir, "mgw-gain.so")],
          f"the plugin installs into the .pc's plugindir (got {dests})")
    run(["meson", "install", "-C", pbuild, "--no-rebuild", "--quiet"], env=env)
    check(os.path.isfile(dests[0]), "meson install put mgw-gain.so next to the staged built-in plugins")

    # --- 3. The gateway loads and runs it ------------------------------------------
    genv = dict(os.environ, MEDIAGW_PLUGIN_PATH=pbuild)
    r = run([MEDIAGW, "plugins"], env=genv)
    log(r.stdout)
    check(re.search(r"^gain\s+1\.0\.0\s", r.stdout, re.M) is not None, "`mediagw plugins` lists gain 1.0.0")
    check(re.search(r"^\s+" + re.escape(module) + r"$", r.stdout, re.M) is not None,
          f"... with its path {module}")
    check(re.search(r"^tone\s", r.stdout, re.M) is not None, "... next to the built-in tone")
    r = run([MEDIAGW, "inspect", "gain"], env=genv)
    log(r.stdout)
    check(f"file: {module}" in r.stdout, "`mediagw inspect gain` names the module file")
    check(re.search(r"gain_db\s+number, default: 0", r.stdout) is not None, "... shows gain_db (number, default 0)")
    check(re.search(r"input\s+audio\s+audio, required", r.stdout) is not None and
          re.search(r"output\s+audio\s+audio", r.stdout) is not None, "... shows the audio input and output ports")

    # The staged (installed) gateway finds tone, wav-sink and gain all installed.
    staged_exe = staged(os.path.join(prefix, "bin", "mediagw"))
    if os.path.isfile(staged_exe):
        r = run([staged_exe, "plugins"], env=dict(os.environ, MEDIAGW_PLUGIN_PATH=staged_plugindir))
        for name in ("tone", "wav-sink", "gain"):
            check(os.path.join(staged_plugindir, f"mgw-{name}.so") in r.stdout,
                  f"installed mediagw lists installed {name}")

    pipeline = os.path.join(d, "gain.toml")
    with open(pipeline, "w") as f:
        f.write("""[gateway]
name = "sdk-gain"

[node.tone]
plugin = "tone"
frequency = 1000
volume = 0.25
duration = 1
live = false

[node.gain]
plugin = "gain"
inputs = { audio = "tone.audio" }

[node.rec]
plugin = "wav-sink"
path = "unset.wav"
inputs = { audio = "gain.audio" }
""")
    rms = {}
    for db in (0.0, 6.0206, -12.0412):
        wav = os.path.join(d, f"gain{db:+.0f}.wav")
        r = run([MEDIAGW, "run", pipeline, "--set", f"gain.gain_db={db}", "--set", f"rec.path={wav}"],
                env=genv, timeout=60, expect=None)
        if r.returncode != 0:
            log(r.stderr)
        check(r.returncode == 0, f"tone -> gain ({db:+.1f} dB) -> wav-sink exits 0 (got {r.returncode})")
        st = wav_stat(wav)
        rms[db] = st["rms"]
        check(st["length"] is not None and abs(st["length"] - 1.0) < 0.05, f"wav lasts 1.0 s (got {st['length']})")
        check(st["rough_frequency"] is not None and abs(st["rough_frequency"] - 1000) < 30,
              f"frequency stays 1000 Hz (got {st['rough_frequency']})")
    ref = rms[0.0]
    check(rms_close(ref, 0.25 / 2 ** 0.5), f"0 dB: RMS of a 0.25 sine, 0.177 (got {ref})")
    check(rms_close(rms[6.0206], 2 * ref), f"+6 dB doubles the RMS: want {2 * ref:.4f}, got {rms[6.0206]}")
    check(rms_close(rms[-12.0412], ref / 4), f"-12 dB quarters the RMS: want {ref / 4:.4f}, got {rms[-12.0412]}")

    r = run([MEDIAGW, "run", pipeline, "--set", "gain.gain_db=30", "--set", f"rec.path={d}/x.wav"],
            env=genv, timeout=30, expect=None)
    log(r.stderr)
    check(r.returncode == 2 and "gain_db must be" in r.stderr,
          f"the plugin's own refusal (gain_db=30) reaches the user, exit 2 (got {r.returncode})")

    # --- 4. ABI check, seen from outside -------------------------------------------
    bad_dir = os.path.join(d, "bad")
    os.makedirs(bad_dir)
    bad = os.path.join(bad_dir, "mgw-badabi.so")
    run(["cc", "-shared", "-fPIC", "-Wall", "-Werror", "-o", bad, os.path.join(SDK_DIR, "badabi.c")] +
        cflags.split(), env=env)
    benv = dict(os.environ, MEDIAGW_PLUGIN_PATH=pbuild + ":" + bad_dir)
    r = run([MEDIAGW, "plugins"], env=benv, expect=None)
    log(r.stdout + r.stderr)
    check(r.returncode == 1, f"`mediagw plugins` exits 1 when a module is refused (got {r.returncode})")
    lines = [ln for ln in r.stderr.splitlines() if bad in ln]
    check(len(lines) == 1 and re.search(rf"\bversion {abi + 1}\b", lines[0]) and
          re.search(rf"\bversion {abi}\b", lines[0]),
          f"refusal names {bad} and ABI versions {abi + 1} and {abi}")
    check(re.search(r"^gain\s", r.stdout, re.M) is not None and module in r.stdout,
          "the good plugin is still listed")
    r = run([MEDIAGW, "inspect", "badabi"], env=benv, expect=None)
    log(r.stderr)
    check(r.returncode == 2 and bad in r.stderr and f"version {abi + 1}" in r.stderr,
          f"`mediagw inspect badabi` refuses it, exit 2 (got {r.returncode})")

    # --- 5. A plugin in plain C ----------------------------------------------------
    c_dir = os.path.join(d, "cplugin")
    os.makedirs(c_dir)
    c_module = os.path.join(c_dir, "mgw-cvolume.so")
    run(["cc", "-x", "c", "-std=c11", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra", "-Werror",
         "-o", c_module, os.path.join(SDK_DIR, "cplugin", "cvolume.c")] + cflags.split() + libs.split(), env=env)
    if shutil.which("readelf"):
        needed = run(["readelf", "-d", c_module]).stdout
        check("libstdc++" not in needed, "the C plugin does not need libstdc++")
    cenv = dict(os.environ, MEDIAGW_PLUGIN_PATH=c_dir)
    r = run([MEDIAGW, "inspect", "cvolume"], env=cenv)
    log(r.stdout)
    check(f"file: {c_module}" in r.stdout and re.search(r"factor\s+number, default: 1", r.stdout) is not None,
          "`mediagw inspect cvolume` shows the C plugin's file and its factor property")
    cpipeline = os.path.join(d, "cvolume.toml")
    with open(cpipeline, "w") as f:
        f.write(open(pipeline).read().replace('plugin = "gain"', 'plugin = "cvolume"')
                .replace("[node.gain]", "[node.vol]").replace("gain.audio", "vol.audio"))
    for factor in (1.0, 0.5):
        wav = os.path.join(d, f"cvolume{factor}.wav")
        r = run([MEDIAGW, "run", cpipeline, "--set", f"vol.factor={factor}", "--set", f"rec.path={wav}",
                 "--log-level", "info"], env=cenv, timeout=60, expect=None)
        log(r.stderr)
        check(r.returncode == 0, f"tone -> cvolume (x{factor}) -> wav-sink exits 0 (got {r.returncode})")
        check("[cvolume/vol] cvolume started (plain C plugin)" in r.stderr and "vol/cvolume.started" in r.stderr,
              "the C plugin logged and emitted through the host api")
        st = wav_stat(wav)
        check(rms_close(st["rms"], factor * ref), f"x{factor}: RMS {factor * ref:.4f} wanted, got {st['rms']}")
        check(st["rough_frequency"] is not None and abs(st["rough_frequency"] - 1000) < 30,
              f"frequency stays 1000 Hz (got {st['rough_frequency']})")
    r = run([MEDIAGW, "run", cpipeline, "--set", "vol.factor=11", "--set", f"rec.path={d}/y.wav"],
            env=cenv, timeout=30, expect=None)
    log(r.stderr)
    check(r.returncode == 2 and "factor must be between 0 and 10 (got 11)" in r.stderr,
          f"the C plugin's own refusal (factor=11) reaches the user, exit 2 (got {r.returncode})")

log("sdk: all checks passed")
