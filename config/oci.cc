// config.json -> ContainerSpec. Each OCI field is read with its JSON pointer; the typed spec
// then goes through finish_spec() with a locator that turns spec keys back into pointers, so
// every error names the field as written in config.json.
#include "config/oci.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/file_util.h"
#include "config/json_reader.h"
#include "config/parse_values.h"
#include "config/spec_validate.h"

namespace ckpt::config {
namespace {

using nlohmann::json;

constexpr const char* kUnsupported = "is not supported by crun-ckpt";

// Spec keys -> JSON pointers: prefixes are registered while reading; the rest of a key is
// carried over with the spec's snake_case names turned into OCI's names.
class OciLocator {
 public:
  explicit OciLocator(std::string file) : file_(std::move(file)) {}
  void add(std::string key, std::string pointer) {
    table_.emplace_back(std::move(key), std::move(pointer));
  }

  std::string operator()(const std::string& key) const {
    if (key == "name") return "container id";
    const std::pair<std::string, std::string>* best = nullptr;
    for (const auto& entry : table_) {
      const std::string& k = entry.first;
      if (key.size() < k.size() || key.compare(0, k.size(), k) != 0) continue;
      bool boundary = key.size() == k.size() || key[k.size()] == '.' || key[k.size()] == '[';
      if (boundary && (!best || k.size() > best->first.size())) {
        best = &entry;
      }
    }
    if (!best) return file_ + ": /";
    std::string pointer = best->second;
    // ".destination" -> "/destination", "[3]" -> "/3".
    std::string part;
    for (char ch : key.substr(best->first.size()) + ".") {
      if (ch == '.' || ch == '[' || ch == ']') {
        if (!part.empty()) pointer += "/" + rename(part);
        part.clear();
      } else {
        part += ch;
      }
    }
    return file_ + ": " + pointer;
  }

 private:
  static std::string rename(const std::string& part) {
    if (part == "container_id") return "containerID";
    if (part == "host_id") return "hostID";
    if (part == "additional_gids") return "additionalGids";
    if (part == "no_new_privileges") return "noNewPrivileges";
    return part;
  }
  std::string file_;
  std::vector<std::pair<std::string, std::string>> table_;
};

void refuse_if_set(const JsonObj& obj, const std::string& name, const std::string& hint) {
  if (!obj.has(name)) return;
  const json& v = obj.at(name);
  bool empty = (v.is_string() && v.get_ref<const std::string&>().empty()) ||
               ((v.is_array() || v.is_object()) && v.empty()) || (v.is_boolean() && !v.get<bool>());
  if (!empty) obj.path(name).fail(kUnsupported, hint);
}

void read_rlimits(const JsonObj& p, ContainerSpec& spec, OciLocator& where) {
  const json& a = p.array("rlimits");
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj r(a[i], p.path("rlimits").item(i), {"type", "soft", "hard"}, kUnsupported);
    std::string type = json_str(r.require("type"), r.path("type"));
    if (type.rfind("RLIMIT_", 0) != 0) {
      r.path("type").fail("'" + type + "' is not an rlimit",
                          "use RLIMIT_NOFILE, RLIMIT_NPROC, ...");
    }
    Rlimit lim;
    for (char c : type.substr(7))
      lim.name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    with_context(r.path("type").str(), [&] { return rlimit_resource(lim.name); });
    r.require("soft");
    r.require("hard");
    lim.soft = r.uint("soft", UINT64_MAX);
    lim.hard = r.uint("hard", UINT64_MAX);
    where.add("rlimits." + lim.name, "/process/rlimits/" + std::to_string(i));
    spec.rlimits.push_back(std::move(lim));
  }
}

void read_process(const JsonObj& top, ContainerSpec& spec, OciLocator& where) {
  JsonObj p(top.require("process"), top.path("process"),
            {"terminal", "consoleSize", "user", "args", "env", "cwd", "rlimits", "noNewPrivileges",
             "apparmorProfile", "selinuxLabel", "capabilities"},
            kUnsupported);
  refuse_if_set(p, "terminal", "run without a terminal, i.e. without -t");
  refuse_if_set(p, "apparmorProfile", "remove it");
  refuse_if_set(p, "selinuxLabel", "remove it");
  if (p.has("capabilities")) {
    p.path("capabilities")
        .fail(kUnsupported, "crun-ckpt cannot drop capabilities yet: remove the field");
  }
  where.add("process", "/process");
  Process& proc = spec.process;
  p.require("args");
  proc.args = p.str_list("args");
  // OCI: no env means an empty environment, unlike spec.yaml's minimal PATH.
  proc.env = p.has("env") ? p.str_list("env") : std::vector<std::string>{};
  proc.cwd = p.has("cwd") ? p.str("cwd") : "/";
  if (p.has("noNewPrivileges")) proc.no_new_privileges = p.boolean("noNewPrivileges");
  if (p.has("user")) {
    JsonObj u(p.at("user"), p.path("user"), {"uid", "gid", "additionalGids"}, kUnsupported);
    if (u.has("uid")) proc.user.uid = static_cast<uint32_t>(u.uint("uid", UINT32_MAX));
    if (u.has("gid")) proc.user.gid = static_cast<uint32_t>(u.uint("gid", UINT32_MAX));
    if (u.has("additionalGids")) {
      const json& a = u.array("additionalGids");
      for (size_t i = 0; i < a.size(); ++i) {
        proc.user.additional_gids.push_back(
            static_cast<uint32_t>(json_uint(a[i], u.path("additionalGids").item(i), UINT32_MAX)));
      }
    }
  }
  if (p.has("rlimits")) read_rlimits(p, spec, where);
}

// OCI paths of bind sources and the root may be relative to the bundle.
std::string in_bundle(const std::string& bundle, const std::string& path) {
  return !path.empty() && path[0] == '/' ? path : bundle + "/" + path;
}

bool standard_mount(const std::string& destination) {
  static const std::set<std::string> kStandard = {
      "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup"};
  try {
    return kStandard.count(normalize_absolute_path(destination)) != 0;
  } catch (const Error&) {
    return false;  // finish_spec reports the bad path
  }
}

void read_mounts(const JsonObj& top, const std::string& bundle, ContainerSpec& spec,
                 OciLocator& where) {
  const json& a = top.array("mounts");
  for (size_t i = 0; i < a.size(); ++i) {
    JsonPath path = top.path("mounts").item(i);
    JsonObj m(a[i], path, {"destination", "type", "source", "options"}, kUnsupported);
    Mount mount;
    mount.destination = json_str(m.require("destination"), m.path("destination"));
    if (standard_mount(mount.destination)) continue;
    mount.type = m.has("type") ? m.str("type") : "";
    if (m.has("source")) mount.source = m.str("source");
    if (m.has("options")) mount.options = m.str_list("options");
    bool bind = std::any_of(mount.options.begin(), mount.options.end(),
                            [](const std::string& o) { return o == "bind" || o == "rbind"; });
    if (bind || mount.type == "bind") {
      mount.type = "bind";
      if (!mount.source.empty()) mount.source = in_bundle(bundle, mount.source);
    } else if (mount.type == "tmpfs") {
      mount.source.clear();  // conventionally "tmpfs" or "shm": only a label
    } else if (mount.type.empty()) {
      m.path("type").fail("is required for a mount that is not a bind mount");
    }
    where.add("mounts[" + std::to_string(spec.mounts.size()) + "]", "/mounts/" + std::to_string(i));
    spec.mounts.push_back(std::move(mount));
  }
}

Namespace oci_namespace(const std::string& type, const JsonPath& path) {
  if (type == "network") return Namespace::net;
  if (type == "net") path.fail("'net' is not an OCI namespace type", "use network");
  return with_context(path.str(), [&] { return parse_namespace(type); });
}

std::vector<IdMapping> read_mappings(const JsonObj& linux, const std::string& name) {
  std::vector<IdMapping> out;
  const json& a = linux.array(name);
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj m(a[i], linux.path(name).item(i), {"containerID", "hostID", "size"}, kUnsupported);
    m.require("containerID");
    m.require("hostID");
    m.require("size");
    out.push_back({static_cast<uint32_t>(m.uint("containerID", UINT32_MAX)),
                   static_cast<uint32_t>(m.uint("hostID", UINT32_MAX)),
                   static_cast<uint32_t>(m.uint("size", UINT32_MAX))});
  }
  return out;
}

void read_resources(const JsonObj& linux, Resources& r, OciLocator& where) {
  JsonObj res(linux.at("resources"), linux.path("resources"), {"memory", "pids", "cpu", "devices"},
              kUnsupported);
  if (res.has("memory")) {
    JsonObj m(res.at("memory"), res.path("memory"), {"limit"}, kUnsupported);
    // OCI uses -1 for "no limit".
    if (m.has("limit") && m.int64("limit") != -1) r.memory_bytes = m.uint("limit", INT64_MAX);
    where.add("resources.memory", "/linux/resources/memory/limit");
  }
  if (res.has("pids")) {
    JsonObj p(res.at("pids"), res.path("pids"), {"limit"}, kUnsupported);
    // 0 and -1 both mean "no limit" in the runtime-spec.
    if (p.has("limit") && p.int64("limit") > 0) r.pids = p.uint("limit", INT64_MAX);
    where.add("resources.pids", "/linux/resources/pids/limit");
  }
  if (res.has("cpu")) {
    JsonObj c(res.at("cpu"), res.path("cpu"), {"quota", "period"}, kUnsupported);
    uint64_t period = c.has("period") ? c.uint("period", UINT32_MAX) : 100000;
    if (period == 0) c.path("period").fail("must not be 0");
    if (c.has("quota") && c.int64("quota") > 0) {
      r.cpus = static_cast<double>(c.int64("quota")) / static_cast<double>(period);
    }
    where.add("resources.cpu", "/linux/resources/cpu/quota");
  }
}

void read_linux(const JsonObj& top, ContainerSpec& spec, OciLocator& where) {
  JsonObj l(
      top.at("linux"), top.path("linux"),
      {"namespaces", "uidMappings", "gidMappings", "resources", "cgroupsPath", "rootfsPropagation",
       "devices", "sysctl", "maskedPaths", "readonlyPaths", "mountLabel", "seccomp"},
      kUnsupported);
  refuse_if_set(l, "devices", "the runtime creates the standard device nodes only");
  refuse_if_set(l, "sysctl", "remove it");
  refuse_if_set(l, "maskedPaths", "crun-ckpt cannot mask paths yet: remove the list");
  refuse_if_set(l, "readonlyPaths",
                "crun-ckpt cannot remount paths read-only yet: remove the list");
  refuse_if_set(l, "mountLabel", "remove it");
  if (l.has("seccomp")) l.path("seccomp").fail(kUnsupported, "remove it to run without a filter");
  if (l.has("namespaces")) {
    spec.namespaces.clear();
    const json& a = l.array("namespaces");
    for (size_t i = 0; i < a.size(); ++i) {
      JsonObj ns(a[i], l.path("namespaces").item(i), {"type", "path"}, kUnsupported);
      if (ns.has("path")) {
        ns.path("path").fail("joining an existing namespace is not supported yet",
                             "remove path to create a new namespace");
      }
      spec.namespaces.push_back(
          oci_namespace(json_str(ns.require("type"), ns.path("type")), ns.path("type")));
    }
  }
  where.add("namespaces", "/linux/namespaces");
  if (l.has("uidMappings")) spec.uid_mappings = read_mappings(l, "uidMappings");
  if (l.has("gidMappings")) spec.gid_mappings = read_mappings(l, "gidMappings");
  where.add("uid_mappings", "/linux/uidMappings");
  where.add("gid_mappings", "/linux/gidMappings");
  if (l.has("resources")) read_resources(l, spec.resources, where);
}

void check_hooks(const JsonObj& top) {
  if (!top.has("hooks")) return;
  const json& hooks = top.at("hooks");
  if (!hooks.is_object()) top.path("hooks").fail("expected an object");
  for (const auto& [name, list] : hooks.items()) {
    if (!list.is_array() || !list.empty()) {
      top.path("hooks").child(name).fail("hooks are not supported", "remove the hooks");
    }
  }
}

}  // namespace

ContainerSpec parse_oci_config(const json& config, const std::string& bundle_dir,
                               const std::string& container_id, const std::string& file) {
  with_context("container id", [&] { check_container_id(container_id); });
  JsonObj top(config, JsonPath(JsonPath::Style::pointer, file),
              {"ociVersion", "process", "root", "hostname", "domainname", "mounts", "linux",
               "annotations", "hooks"},
              kUnsupported);
  if (top.has("ociVersion")) {
    std::string version = top.str("ociVersion");
    if (version.rfind("1.", 0) != 0) {
      top.path("ociVersion").fail("runtime-spec " + version + " is not supported", "use 1.x");
    }
  }
  check_hooks(top);
  refuse_if_set(top, "domainname", "remove it");
  ContainerSpec spec;
  spec.name = container_id;
  spec.source_path = file;
  OciLocator where(file);
  read_process(top, spec, where);
  JsonObj root(top.require("root"), top.path("root"), {"path", "readonly"}, kUnsupported);
  root.require("path");
  spec.rootfs.path = in_bundle(bundle_dir, root.str("path"));
  spec.rootfs.readonly = root.has("readonly") && root.boolean("readonly");
  where.add("rootfs", "/root");
  if (top.has("hostname")) spec.hostname = top.str("hostname");
  where.add("hostname", "/hostname");
  if (top.has("mounts")) read_mounts(top, bundle_dir, spec, where);
  // Without a linux section OCI means "share every namespace with the host", which
  // finish_spec refuses (pid and mount are required): say so at the top.
  if (!top.has("linux")) top.path("linux").fail("is required", "list the namespaces to create");
  read_linux(top, spec, where);
  finish_spec(spec, where);
  return spec;
}

ContainerSpec load_oci_bundle(const std::string& bundle_dir, const std::string& container_id) {
  // The one place that looks at the working directory: the CLI passes --bundle as typed.
  std::string bundle = std::filesystem::absolute(bundle_dir).lexically_normal().string();
  if (bundle.size() > 1 && bundle.back() == '/') bundle.pop_back();
  std::string file = bundle + "/config.json";
  json config = parse_json_text(read_file(file), file);
  return parse_oci_config(config, bundle, container_id, file);
}

}  // namespace ckpt::config
