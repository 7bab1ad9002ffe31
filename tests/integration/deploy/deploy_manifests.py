#!/usr/bin/env python3
"""deploy/: what can be checked of the container file and the Kubernetes
manifests without a container engine or a cluster (neither runs here).

- every YAML file under deploy/k8s parses; each object has apiVersion, kind
  and metadata.name, with the apiVersion its kind has in Kubernetes 1.25+;
  the kustomization lists every manifest (all but the Secret example) and,
  when kubectl is installed, `kubectl kustomize` builds it;
- the ConfigMap's serve.toml is deploy/serve.toml, and parses as TOML;
- ports: serve.toml's SIP and API ports are the Deployment's container
  ports (protocols too), the readiness probe asks /ready on the API port, the
  liveness probe and the PodMonitor use that port, the Service's target ports
  exist, the RTP range (RTP_PORTS in the Deployment's environment, which the
  shipped pipeline's sip and web nodes read as rtp_ports; deploy/sysctl's
  ephemeral ports, where the gateways' SIP ports come from) is the one the
  Deployment and the Containerfile name;
  with host networking the API must not listen on loopback only (the
  kubelet's probe comes to the node's address);
- names: the Secret and key the Deployment, the PodMonitor and serve.toml's
  ${MEDIAGW_API_TOKEN} use; the ConfigMap mounted where the Containerfile's
  entrypoint reads serve.toml; the HPA's target is the Deployment, its metric
  the one the adapter rules define; the gateways' address is the node's; the
  pod's grace period outlasts serve's drain; every selector matches the pod labels;
  the pod's user is the image's;
- the Containerfile: Debian 12 in every stage, scripts/setup runs, every COPY
  source exists in the repository, build trees are kept out of the context;
- the runtime stage installs every library the built CLI and plugins load
  (ldd of this build, each library's Debian package, which must be among
  the packages the stage installs or their dependencies, or in the base
  image; needs dpkg and apt-cache);
- the pipelines serve.toml's templates name exist in pipelines/, are
  installed where serve.toml says, and every ${VAR} they need without a
  default is set in the Deployment.

What depends on serve's own code (its configuration keys, metric names, API
paths) is the test deploy_serve_contract.
"""
import os
import re
import shutil
import subprocess
import sys
import tomllib

import yaml

import mgwtest

ROOT = mgwtest.SOURCE_ROOT
DEPLOY = os.path.join(ROOT, "deploy")
K8S = os.path.join(DEPLOY, "k8s")
API_VERSIONS = {
    "Namespace": "v1", "ConfigMap": "v1", "Secret": "v1", "Service": "v1",
    "Deployment": "apps/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "PodDisruptionBudget": "policy/v1", "PodMonitor": "monitoring.coreos.com/v1",
    "Kustomization": "kustomize.config.k8s.io/v1beta1",
}
INSTALLED_PIPELINES = "/usr/local/share/mediagw/pipelines/"


def rel(path):
    return os.path.relpath(path, ROOT)


def host_port(listen):
    """("udp", "0.0.0.0", 5060) from "udp:0.0.0.0:5060" or "0.0.0.0:8088"."""
    m = re.fullmatch(r"(?:(udp|tcp|tls):)?(\[[^\]]+\]|[^:]+):(\d+)", listen)
    mgwtest.check(m is not None, f"'{listen}' is [PROTO:]HOST:PORT")
    return m.group(1), m.group(2), int(m.group(3))


def load_manifests(check):
    objects = {}
    for dirpath, _, files in os.walk(K8S):
        for name in sorted(files):
            if not name.endswith((".yaml", ".yml")):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path) as f:
                    docs = [d for d in yaml.safe_load_all(f) if d is not None]
            except yaml.YAMLError as e:
                mgwtest.fail(f"{rel(path)} does not parse: {e}")
            check(docs, f"{rel(path)} parses ({len(docs)} document{'s' if len(docs) != 1 else ''})")
            if os.path.basename(dirpath) == "prometheus-adapter":
                objects[rel(path)] = docs
                continue
            for d in docs:
                kind = d.get("kind")
                check(kind in API_VERSIONS and d.get("apiVersion") == API_VERSIONS[kind],
                      f"{rel(path)}: {kind} has apiVersion {API_VERSIONS.get(kind)} ({d.get('apiVersion')})")
                if kind != "Kustomization":
                    check(d.get("metadata", {}).get("name"), f"{rel(path)}: the {kind} has a name")
            objects[rel(path)] = docs
    return objects


def one(objects, kind):
    found = [(path, d) for path, docs in objects.items() for d in docs if isinstance(d, dict) and d.get("kind") == kind]
    mgwtest.check(len(found) == 1, f"deploy/k8s has one {kind} ({[p for p, _ in found]})")
    return found[0][1]


def containerfile():
    with open(os.path.join(DEPLOY, "Containerfile")) as f:
        text = f.read()
    # Instructions, continuation lines joined, comments dropped.
    lines, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                lines.append(current.strip())
            current = ""
    return [(l.split(None, 1)[0].upper(), l.split(None, 1)[1] if " " in l else "") for l in lines]


def runtime_packages(instructions):
    """Packages the last stage installs with apt-get install."""
    last = max(i for i, (ins, _) in enumerate(instructions) if ins == "FROM")
    pkgs = []
    for ins, args in instructions[last:]:
        if ins == "RUN":
            for m in re.finditer(r"apt-get install ((?:\s*[\w.+-]+)+)", args):
                pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return pkgs


def check_runtime_libraries(instructions):
    """Each shared library this build's binaries load comes from a package the
    runtime stage gets (installed, a dependency of one, or in the base image)."""
    check = mgwtest.check
    build = mgwtest.BUILD_ROOT
    binaries = [os.path.join(build, "core", "cli", exe) for exe in ("mediagw", "mediagw-serve")] if build else []
    plugins_dir = os.path.join(build, "plugins") if build else ""
    for dirpath, _, files in os.walk(plugins_dir):
        binaries += [os.path.join(dirpath, f) for f in files if f.startswith("mgw-") and f.endswith(".so")]
    if not binaries or not os.path.exists(binaries[0]) or not (shutil.which("dpkg") and shutil.which("apt-cache")):
        mgwtest.log("not checked: the runtime stage's libraries (no built tree, or no dpkg/apt-cache)")
        return
    libs = set()
    for b in binaries:
        out = subprocess.run(["ldd", b], capture_output=True, text=True, timeout=30).stdout
        libs |= set(re.findall(r"=> (/\S+)", out))
    # One dpkg -S for all (it is slow per call); Debian 12 merges /lib into
    # /usr/lib but dpkg knows each file under one of the two names.
    variants = {}
    for lib in libs:
        for candidate in {lib, re.sub(r"^/lib/", "/usr/lib/", lib), re.sub(r"^/usr/lib/", "/lib/", lib)}:
            variants[candidate] = lib
    r = subprocess.run(["dpkg", "-S", *sorted(variants)], capture_output=True, text=True, timeout=60)
    owner = {}
    for line in r.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        if path in variants:
            owner[variants[path]] = pkg.split(":")[0].split(",")[0]
    unowned = sorted(libs - owner.keys())
    check(not [l for l in unowned if not l.startswith(build)],
          f"every library the binaries load belongs to a Debian package (not: {unowned})")
    wanted = runtime_packages(instructions)
    check(wanted, f"the runtime stage installs packages ({len(wanted)})")
    r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                        "--no-breaks", "--no-replaces", "--no-enhances", *wanted, "apt"],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"apt-cache knows the runtime packages ({r.stderr.strip()[:200]})")
    closure = set(re.findall(r"^(?:\s+\|?(?:Pre)?Depends: )?<?([\w.+-]+)>?$", r.stdout, re.M))
    base = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Priority}\n"], capture_output=True, text=True,
                          timeout=30).stdout
    closure |= {line.split()[0] for line in base.splitlines() if line.endswith(" required")}
    missing = sorted({f"{pkg} ({lib})" for lib, pkg in owner.items() if pkg not in closure})
    check(not missing, f"the runtime stage provides the {len(owner)} libraries of {len(binaries)} built binaries "
          f"(missing packages: {missing})")


def main():
    check = mgwtest.check
    objects = load_manifests(check)

    # The kustomization: every manifest but the Secret example and the adapter's values.
    kust = one(objects, "Kustomization")
    listed = set(kust.get("resources", []))
    manifests = {os.path.basename(p) for p in objects if os.path.dirname(p) == rel(K8S)}
    expected = manifests - {"kustomization.yaml", "secret.yaml"}
    check(listed == expected, f"kustomization.yaml lists every manifest ({sorted(listed)} vs {sorted(expected)})")
    if shutil.which("kubectl"):
        r = subprocess.run(["kubectl", "kustomize", K8S], capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"kubectl kustomize deploy/k8s builds ({r.stderr.strip()[:300]})")
        built = [d for d in yaml.safe_load_all(r.stdout) if d]
        kinds = sorted(d["kind"] for d in built)
        check(all(d["metadata"].get("namespace", "mediagw") == "mediagw" for d in built if d["kind"] != "Namespace"),
              f"kustomize put every object in namespace mediagw ({kinds})")
        images = [c["image"] for d in built if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]]
        new = kust["images"][0]
        check(images == [f"{new['newName']}:{new['newTag']}"], f"kustomize set the image ({images})")
    else:
        mgwtest.log("not checked: kubectl kustomize (no kubectl)")

    # serve.toml: one text in two places.
    cm = one(objects, "ConfigMap")
    with open(os.path.join(DEPLOY, "serve.toml")) as f:
        serve_text = f.read()
    check(cm["data"].get("serve.toml") == serve_text, "the ConfigMap's serve.toml is deploy/serve.toml")
    serve = tomllib.loads(serve_text)["serve"]
    templates = tomllib.loads(serve_text).get("template", {})

    dep = one(objects, "Deployment")
    pod = dep["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    ports = {p["name"]: p for p in container["ports"]}
    pod_labels = dep["spec"]["template"]["metadata"]["labels"]
    check(dep["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "the Deployment selects its pods")

    # Ports: serve.toml <-> Deployment <-> probes <-> Service <-> PodMonitor <-> Containerfile.
    sip_proto, _, sip_port = host_port(serve["sip"])
    _, api_host, api_port = host_port(serve["api"])
    check(ports["sip"]["containerPort"] == sip_port and ports["sip"]["protocol"] == (sip_proto or "udp").upper(),
          f"port sip is serve.toml's sip ({sip_port}/{(sip_proto or 'udp').upper()})")
    check(ports["api"]["containerPort"] == api_port and ports["api"]["protocol"] == "TCP",
          f"port api is serve.toml's api ({api_port}/TCP)")
    check(pod.get("hostNetwork") is True, "the pod uses the node's network (RTP addresses in SDP are the node's)")
    check(api_host not in ("127.0.0.1", "localhost", "[::1]"),
          f"with host networking the API listens beyond loopback, where the kubelet probes ({api_host})")
    ready = container["readinessProbe"]["httpGet"]
    check(ready["path"] == "/ready" and ready["port"] in ("api", api_port),
          f"readiness asks /ready on the API port ({ready})")
    live = container["livenessProbe"]
    check(live.get("tcpSocket", {}).get("port") in ("api", api_port),
          "liveness only checks that the API answers (a full host is alive, not ready)")
    svc = one(objects, "Service")
    for p in svc["spec"]["ports"]:
        target = p["targetPort"]
        check(target in ports and ports[target]["containerPort"] == p["port"] and ports[target]["protocol"] == p["protocol"],
              f"Service port {p['name']} -> container port {target} ({p['port']}/{p['protocol']})")
    check(svc["spec"].get("clusterIP") == "None", "the Service is headless (SIP and RTP go to one node)")
    check(svc["spec"]["selector"].items() <= pod_labels.items(), "the Service selects the serve pods")
    pm = one(objects, "PodMonitor")
    (endpoint,) = pm["spec"]["podMetricsEndpoints"]
    check(endpoint["port"] == "api" and endpoint["path"] == "/metrics", "Prometheus scrapes /metrics on port api")
    check(pm["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "the PodMonitor selects the serve pods")
    pdb = one(objects, "PodDisruptionBudget")
    check(pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items(), "the PodDisruptionBudget selects them")
    with open(os.path.join(DEPLOY, "sysctl", "60-mediagw-rtp.conf")) as f:
        low_high = re.search(r"^net\.ipv4\.ip_local_port_range\s*=\s*(\d+)\s+(\d+)\s*$", f.read(), re.M)
    check(low_high and 1024 < int(low_high.group(1)) < int(low_high.group(2)) <= 65535,
          "deploy/sysctl bounds the ephemeral ports, where the gateways' RTP ports come from")
    rtp = f"{low_high.group(1)}-{low_high.group(2)}"
    check(dep["spec"]["template"]["metadata"]["annotations"].get("mediagw/rtp-ports") == rtp,
          f"the Deployment documents the same RTP range ({rtp})")
    rtp_env = {e["name"]: e.get("value") for e in container.get("env", [])}.get("RTP_PORTS")
    check(rtp_env == rtp, f"the gateways' rtp_ports come from RTP_PORTS = the same range ({rtp_env})")
    for tname, tpl in templates.items():
        with open(os.path.join(ROOT, "pipelines", os.path.basename(tpl["pipeline"]))) as f:
            nodes = tomllib.loads(f.read())["node"]
        media = [n for n in nodes.values() if n.get("plugin") in ("sip-sofia", "webrtc-direct")]
        check(media and all(n.get("rtp_ports", "").startswith("${RTP_PORTS") for n in media),
              f"template {tname}: its pipeline's sip and web nodes take rtp_ports from RTP_PORTS")
    anti = pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    check(anti["topologyKey"] == "kubernetes.io/hostname" and anti["labelSelector"]["matchLabels"].items() <=
          pod_labels.items(), "one serve pod per node (host ports)")

    # Secret, token, config mount, user.
    env = {e["name"]: e for e in container.get("env", [])}
    secret = yaml.safe_load(open(os.path.join(K8S, "secret.yaml")))
    ref = env["MEDIAGW_API_TOKEN"]["valueFrom"]["secretKeyRef"]
    check(ref["name"] == secret["metadata"]["name"] and ref["key"] in secret["stringData"],
          f"the token comes from the Secret of secret.yaml ({ref['name']}/{ref['key']})")
    creds = endpoint["authorization"]["credentials"]
    check(creds == {"name": ref["name"], "key": ref["key"]}, "Prometheus sends the same token")
    check(serve["token"] == "${MEDIAGW_API_TOKEN}", "serve.toml takes the token from that variable")
    address = env.get("MEDIAGW_GATEWAY_ADDRESS", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
    check(serve["gateway_address"] == "${MEDIAGW_GATEWAY_ADDRESS}" and address == "status.hostIP",
          "the gateways' address (the 302's Contact, SDP) is the node's, from the pod's status.hostIP")
    grace = pod["terminationGracePeriodSeconds"]
    check(grace >= serve.get("drain_timeout", 60) + 10, f"Kubernetes waits ({grace} s) for serve's drain "
          f"({serve.get('drain_timeout', 60)} s) and its 10 s stop grace before SIGKILL")
    check(secret["stringData"][ref["key"]] == "", "the repository's Secret holds no token")
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == "config"]
    (vol,) = [v for v in pod["volumes"] if v["name"] == "config"]
    check(vol["configMap"]["name"] == cm["metadata"]["name"], "the config volume is the ConfigMap")

    instructions = containerfile()
    entry = [a for i, a in instructions if i == "ENTRYPOINT"][-1]
    entry_argv = yaml.safe_load(entry)
    check(entry_argv[-3:-1] == ["mediagw", "serve"], f"the image runs mediagw serve ({entry_argv})")
    check(entry_argv[-1] == mount["mountPath"] + "/serve.toml",
          f"the ConfigMap is mounted where the entrypoint reads serve.toml ({entry_argv[-1]})")
    check(pod["securityContext"]["runAsNonRoot"] is True, "the pod runs as non-root")
    uid = re.search(r"useradd [^&]*--uid (\d+)[^&]* mediagw\b", " ".join(a for i, a in instructions if i == "RUN"))
    check(uid and int(uid.group(1)) == pod["securityContext"]["runAsUser"],
          f"runAsUser is the image's mediagw user ({uid and uid.group(1)})")
    check([a for i, a in instructions if i == "USER"] == ["mediagw"], "the image runs as user mediagw")

    # The Containerfile.
    froms = [a.split()[0] for i, a in instructions if i == "FROM"]
    check(froms and all(re.fullmatch(r"debian:(12|bookworm)(-slim)?", f) for f in froms),
          f"every stage is Debian 12 ({froms})")
    runs = " ".join(a for i, a in instructions if i == "RUN")
    check("scripts/setup" in runs and "meson install" in runs, "the build stage runs scripts/setup, then meson install")
    for i, a in instructions:
        if i == "COPY" and not a.startswith("--from"):
            *sources, _ = a.split()
            for s in sources:
                check(os.path.exists(os.path.join(ROOT, s)), f"COPY source {s} exists in the repository")
    exposed = " ".join(a for i, a in instructions if i == "EXPOSE").split()
    check(f"{sip_port}/udp" in exposed and f"{api_port}/tcp" in exposed and f"{rtp}/udp" in exposed,
          f"EXPOSE names the SIP and API ports of serve.toml and the RTP range ({exposed})")
    health = " ".join(a for i, a in instructions if i == "HEALTHCHECK")
    check(f"127.0.0.1:{api_port}/ready" in health, "the image's health check asks /ready on the API port")
    check_runtime_libraries(instructions)
    with open(os.path.join(ROOT, ".dockerignore")) as f:
        ignored = {l.strip() for l in f if l.strip() and not l.startswith("#")}
    check({".git", "build", "build-*"} <= ignored, "the build context leaves .git and build trees out")

    # The HPA and its metric.
    hpa = one(objects, "HorizontalPodAutoscaler")
    target = hpa["spec"]["scaleTargetRef"]
    check(target == {"apiVersion": "apps/v1", "kind": "Deployment", "name": dep["metadata"]["name"]},
          f"the HPA scales the Deployment ({target})")
    check(1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"], "minReplicas <= maxReplicas")
    (metric,) = hpa["spec"]["metrics"]
    adapter = objects[rel(os.path.join(K8S, "prometheus-adapter", "values.yaml"))][0]
    defined = [r["name"]["as"] for r in adapter["rules"]["custom"]]
    check(metric["type"] == "Pods" and metric["pods"]["metric"]["name"] in defined,
          f"the HPA's metric is one the adapter defines ({metric['pods']['metric']['name']} in {defined})")

    # The templates' pipelines.
    with open(os.path.join(ROOT, "pipelines", "meson.build")) as f:
        installed = set(re.findall(r"'([\w.-]+\.toml)'", f.read()))
    check(templates, f"serve.toml has templates ({list(templates)})")
    for name, t in templates.items():
        path = t["pipeline"]
        check(path.startswith(INSTALLED_PIPELINES), f"template {name}: its pipeline is an installed one ({path})")
        base = path[len(INSTALLED_PIPELINES):]
        check(base in installed and os.path.exists(os.path.join(ROOT, "pipelines", base)),
              f"template {name}: pipelines/{base} exists and meson installs it")
        with open(os.path.join(ROOT, "pipelines", base)) as f:
            pipeline_text = f.read()
        needed = sorted({v for v in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", pipeline_text)})
        sip_node = t.get("sip_node", "sip")
        check(f"[node.{sip_node}]" in pipeline_text,
              f"template {name}: the pipeline has the SIP node serve points at ([node.{sip_node}])")
        check(all(v in env for v in needed), f"template {name}: the variables it needs without a default are set "
              f"in the Deployment ({needed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
