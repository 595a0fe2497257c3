// spec.yaml -> ContainerSpec: converts each key with its YAML position at hand, then hands the
// typed spec to finish_spec() with a locator that maps keys back to those positions.
#include "config/spec_yaml.h"

#include <sys/resource.h>

#include "common/error.h"
#include "common/file_util.h"
#include "config/parse_values.h"
#include "config/spec_validate.h"
#include "config/yaml_reader.h"

namespace ckpt::config {
namespace {

const YAML::Node& required(const YamlMap& map, const std::string& name, std::string hint = {}) {
  if (!map.has(name)) map.doc().fail(map.own_mark(), map.key(name), "is required", std::move(hint));
  return map.node(name);
}

// "web.yaml" -> "web", "/srv/specs/a.b.yaml" -> "a.b".
std::string name_from_path(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') + 1);
  size_t dot = base.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
}

void read_user(const YamlMap& parent, User& user) {
  YamlMap m(parent.doc(), parent.node("user"), parent.mark("user"), parent.key("user"),
            {"uid", "gid", "additional_gids"});
  if (m.has("uid")) user.uid = static_cast<uint32_t>(m.uint("uid", UINT32_MAX));
  if (m.has("gid")) user.gid = static_cast<uint32_t>(m.uint("gid", UINT32_MAX));
  if (m.has("additional_gids")) {
    m.for_each("additional_gids",
               [&](const YAML::Node& n, const YAML::Mark& mk, const std::string& k) {
                 user.additional_gids.push_back(
                     static_cast<uint32_t>(yaml_uint(m.doc(), n, mk, k, UINT32_MAX)));
               });
  }
}

void read_process(const YamlMap& top, Process& p) {
  required(top, "process", "add process: {args: [...]}");
  YamlMap m(top.doc(), top.node("process"), top.mark("process"), "process",
            {"args", "env", "cwd", "user", "no_new_privileges"});
  required(m, "args", "give the program and its arguments, e.g. args: [/bin/sh, -c, ...]");
  p.args = m.str_list("args");
  if (m.has("env")) p.env = m.str_list("env");
  if (m.has("cwd")) p.cwd = m.str("cwd");
  if (m.has("user")) read_user(m, p.user);
  if (m.has("no_new_privileges")) p.no_new_privileges = m.boolean("no_new_privileges");
}

void read_rootfs(const YamlMap& top, Rootfs& r) {
  YamlMap m(top.doc(), top.node("rootfs"), top.mark("rootfs"), "rootfs", {"path", "readonly"});
  if (m.has("path")) r.path = m.str("path");
  if (m.has("readonly")) r.readonly = m.boolean("readonly");
}

std::vector<IdMapping> read_mappings(const YamlMap& top, const std::string& name) {
  std::vector<IdMapping> out;
  top.for_each(name, [&](const YAML::Node& n, const YAML::Mark& mk, const std::string& k) {
    YamlMap m(top.doc(), n, mk, k, {"container_id", "host_id", "size"});
    IdMapping map;
    required(m, "container_id");
    required(m, "host_id");
    required(m, "size");
    map.container_id = static_cast<uint32_t>(m.uint("container_id", UINT32_MAX));
    map.host_id = static_cast<uint32_t>(m.uint("host_id", UINT32_MAX));
    map.size = static_cast<uint32_t>(m.uint("size", UINT32_MAX));
    out.push_back(map);
  });
  return out;
}

void read_mounts(const YamlMap& top, std::vector<Mount>& mounts) {
  top.for_each("mounts", [&](const YAML::Node& n, const YAML::Mark& mk, const std::string& k) {
    YamlMap m(top.doc(), n, mk, k, {"type", "source", "destination", "options"});
    Mount mount;
    required(m, "type", "use bind, tmpfs, proc, sysfs or mqueue");
    required(m, "destination");
    mount.type = m.str("type");
    mount.destination = m.str("destination");
    if (m.has("source")) mount.source = m.str("source");
    if (m.has("options")) mount.options = m.str_list("options");
    mounts.push_back(std::move(mount));
  });
}

void read_network(const YamlMap& top, Network& net) {
  YamlMap m(top.doc(), top.node("network"), top.mark("network"), "network", {"interfaces"});
  if (!m.has("interfaces")) return;
  m.for_each("interfaces", [&](const YAML::Node& n, const YAML::Mark& mk, const std::string& k) {
    YamlMap i(m.doc(), n, mk, k, {"name", "address", "gateway", "mac"});
    Interface itf;
    required(i, "name", "e.g. name: eth0");
    required(i, "address", "e.g. address: 10.88.0.2/24");
    itf.name = i.str("name");
    itf.address = i.convert("address", parse_ipv4_cidr);
    if (i.has("gateway")) itf.gateway = i.convert("gateway", parse_ipv4);
    if (i.has("mac")) itf.mac = i.convert("mac", parse_mac);
    net.interfaces.push_back(std::move(itf));
  });
}

void read_resources(const YamlMap& top, Resources& r) {
  YamlMap m(top.doc(), top.node("resources"), top.mark("resources"), "resources",
            {"memory", "pids", "cpu"});
  if (m.has("memory")) r.memory_bytes = m.convert("memory", parse_size);
  if (m.has("pids")) r.pids = m.uint("pids", UINT64_MAX);
  if (m.has("cpu")) r.cpus = m.number("cpu");
}

uint64_t rlimit_value(const YamlDoc& doc, const YAML::Node& n, const YAML::Mark& mk,
                      const std::string& k) {
  if (n.IsScalar() && n.Scalar() == "unlimited") return RLIM_INFINITY;
  return yaml_uint(doc, n, mk, k, RLIM_INFINITY);
}

void read_rlimits(const YamlMap& top, std::vector<Rlimit>& rlimits) {
  const YAML::Node& node = top.node("rlimits");
  YamlMap m(top.doc(), node, top.mark("rlimits"), "rlimits",
            {"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
             "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"});
  // Iterate the node, not the checked map, to keep the order they were written in.
  for (const auto& kv : node) {
    Rlimit r;
    r.name = kv.first.Scalar();
    const YAML::Node& v = kv.second;
    if (v.IsMap()) {
      YamlMap lim(m.doc(), v, m.mark(r.name), m.key(r.name), {"soft", "hard"});
      required(lim, "soft");
      required(lim, "hard");
      r.soft = rlimit_value(m.doc(), lim.node("soft"), lim.mark("soft"), lim.key("soft"));
      r.hard = rlimit_value(m.doc(), lim.node("hard"), lim.mark("hard"), lim.key("hard"));
    } else {
      r.soft = r.hard = rlimit_value(m.doc(), v, m.mark(r.name), m.key(r.name));
    }
    rlimits.push_back(std::move(r));
  }
}

ContainerSpec read_spec(YamlDoc& doc, const YAML::Node& root, const std::string& path) {
  ContainerSpec spec;
  spec.source_path = path;
  if (root.IsNull()) {
    doc.fail(YAML::Mark::null_mark(), "process", "is required, and the file is empty",
             "add process: {args: [...]}");
  }
  YamlMap top(doc, root, root.Mark(), "",
              {"name", "process", "rootfs", "hostname", "namespaces", "uid_mappings",
               "gid_mappings", "mounts", "network", "resources", "rlimits"});
  if (top.has("name")) {
    spec.name = top.str("name");
  } else {
    spec.name = name_from_path(path);
    try {
      check_container_id(spec.name);
    } catch (const Error& e) {
      doc.fail(YAML::Mark::null_mark(), "name", e.message() + " (it defaults to the file name)",
               "add a name: key");
    }
  }
  if (top.has("hostname")) spec.hostname = top.str("hostname");
  read_process(top, spec.process);
  if (top.has("rootfs")) read_rootfs(top, spec.rootfs);
  if (top.has("namespaces")) {
    spec.namespaces.clear();
    top.for_each("namespaces",
                 [&](const YAML::Node& n, const YAML::Mark& mk, const std::string& k) {
                   std::string name = yaml_str(doc, n, mk, k);
                   spec.namespaces.push_back(
                       with_context(doc.where(mk, k), [&] { return parse_namespace(name); }));
                 });
  }
  if (top.has("uid_mappings")) spec.uid_mappings = read_mappings(top, "uid_mappings");
  if (top.has("gid_mappings")) spec.gid_mappings = read_mappings(top, "gid_mappings");
  if (top.has("mounts")) read_mounts(top, spec.mounts);
  if (top.has("network")) read_network(top, spec.network);
  if (top.has("resources")) read_resources(top, spec.resources);
  if (top.has("rlimits")) read_rlimits(top, spec.rlimits);
  finish_spec(spec, [&doc](const std::string& key) { return doc.locate(key); });
  return spec;
}

}  // namespace

ContainerSpec parse_spec_yaml(const std::string& text, const std::string& path) {
  YamlDoc doc(path);
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(text);
  } catch (const YAML::Exception& e) {
    doc.fail(e.mark, "", "YAML syntax error: " + e.msg, "check indentation, colons and quotes");
  }
  if (docs.size() > 1) {
    doc.fail(docs[1].Mark(), "", "a second YAML document", "a spec is one document: remove ---");
  }
  return read_spec(doc, docs.empty() ? YAML::Node() : docs[0], path);
}

ContainerSpec load_spec_yaml(const std::string& path) {
  return parse_spec_yaml(read_file(path), path);
}

std::string default_spec_yaml() {
  return R"(# The counter demo: prints a line every second, on the host's root file system, read-only.
# Checkpoint it, restore it, and the count continues where it stopped.
name: counter
process:
  args: ["/bin/sh", "-c", "i=0; while :; do echo \"counter $i\"; i=$((i+1)); sleep 1; done"]
rootfs: {path: /, readonly: true}
)";
}

}  // namespace ckpt::config
