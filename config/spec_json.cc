// The JSON form mirrors spec.yaml key for key, with values already resolved: sizes in bytes,
// defaults filled in, rlimits as a list (to keep their order). Reading it back runs the same
// checks as the YAML reader; errors name the dotted key ("mounts[1].destination").
#include "config/spec_json.h"

#include "common/error.h"
#include "config/json_reader.h"
#include "config/parse_values.h"
#include "config/spec_validate.h"

namespace ckpt::config {
namespace {

using nlohmann::json;

json mappings_to_json(const std::vector<IdMapping>& maps) {
  json out = json::array();
  for (const auto& m : maps) {
    out.push_back({{"container_id", m.container_id}, {"host_id", m.host_id}, {"size", m.size}});
  }
  return out;
}

std::vector<IdMapping> mappings_from_json(const JsonObj& top, const std::string& name) {
  std::vector<IdMapping> out;
  const json& a = top.array(name);
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj m(a[i], top.path(name).item(i), {"container_id", "host_id", "size"});
    m.require("container_id");
    m.require("host_id");
    m.require("size");
    out.push_back({static_cast<uint32_t>(m.uint("container_id", UINT32_MAX)),
                   static_cast<uint32_t>(m.uint("host_id", UINT32_MAX)),
                   static_cast<uint32_t>(m.uint("size", UINT32_MAX))});
  }
  return out;
}

// Runs a parse_values conversion on a string child, naming the key in its error.
template <typename Fn>
auto convert(const JsonObj& obj, const std::string& name, Fn&& fn) {
  std::string text = obj.str(name);
  return with_context(obj.path(name).str(), [&] { return fn(text); });
}

void process_from_json(const JsonObj& top, Process& p) {
  JsonObj m(top.require("process"), top.path("process"),
            {"args", "env", "cwd", "user", "no_new_privileges"});
  m.require("args");
  p.args = m.str_list("args");
  if (m.has("env")) p.env = m.str_list("env");
  if (m.has("cwd")) p.cwd = m.str("cwd");
  if (m.has("no_new_privileges")) p.no_new_privileges = m.boolean("no_new_privileges");
  if (!m.has("user")) return;
  JsonObj u(m.at("user"), m.path("user"), {"uid", "gid", "additional_gids"});
  if (u.has("uid")) p.user.uid = static_cast<uint32_t>(u.uint("uid", UINT32_MAX));
  if (u.has("gid")) p.user.gid = static_cast<uint32_t>(u.uint("gid", UINT32_MAX));
  if (u.has("additional_gids")) {
    const json& a = u.array("additional_gids");
    for (size_t i = 0; i < a.size(); ++i) {
      p.user.additional_gids.push_back(
          static_cast<uint32_t>(json_uint(a[i], u.path("additional_gids").item(i), UINT32_MAX)));
    }
  }
}

void mounts_from_json(const JsonObj& top, std::vector<Mount>& mounts) {
  const json& a = top.array("mounts");
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj m(a[i], top.path("mounts").item(i), {"type", "source", "destination", "options"});
    Mount mount;
    m.require("type");
    m.require("destination");
    mount.type = m.str("type");
    mount.destination = m.str("destination");
    if (m.has("source")) mount.source = m.str("source");
    if (m.has("options")) mount.options = m.str_list("options");
    mounts.push_back(std::move(mount));
  }
}

void network_from_json(const JsonObj& top, Network& net) {
  JsonObj n(top.at("network"), top.path("network"), {"interfaces"});
  if (!n.has("interfaces")) return;
  const json& a = n.array("interfaces");
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj m(a[i], n.path("interfaces").item(i), {"name", "address", "gateway", "mac"});
    Interface itf;
    m.require("name");
    m.require("address");
    itf.name = m.str("name");
    itf.address = convert(m, "address", parse_ipv4_cidr);
    if (m.has("gateway")) itf.gateway = convert(m, "gateway", parse_ipv4);
    if (m.has("mac")) itf.mac = convert(m, "mac", parse_mac);
    net.interfaces.push_back(std::move(itf));
  }
}

void resources_from_json(const JsonObj& top, Resources& r) {
  JsonObj m(top.at("resources"), top.path("resources"), {"memory", "pids", "cpu"});
  if (m.has("memory")) r.memory_bytes = m.uint("memory", UINT64_MAX);
  if (m.has("pids")) r.pids = m.uint("pids", UINT64_MAX);
  if (m.has("cpu")) r.cpus = m.number("cpu");
}

void rlimits_from_json(const JsonObj& top, std::vector<Rlimit>& rlimits) {
  const json& a = top.array("rlimits");
  for (size_t i = 0; i < a.size(); ++i) {
    JsonObj m(a[i], top.path("rlimits").item(i), {"name", "soft", "hard"});
    Rlimit r;
    m.require("name");
    m.require("soft");
    m.require("hard");
    r.name = m.str("name");
    r.soft = m.uint("soft", UINT64_MAX);
    r.hard = m.uint("hard", UINT64_MAX);
    rlimits.push_back(std::move(r));
  }
}

}  // namespace

nlohmann::json spec_to_json(const ContainerSpec& spec) {
  json process = {
      {"args", spec.process.args},
      {"env", spec.process.env},
      {"cwd", spec.process.cwd},
      {"user",
       {{"uid", spec.process.user.uid},
        {"gid", spec.process.user.gid},
        {"additional_gids", spec.process.user.additional_gids}}},
      {"no_new_privileges", spec.process.no_new_privileges},
  };
  json namespaces = json::array();
  for (Namespace ns : spec.namespaces) namespaces.push_back(namespace_name(ns));
  json mounts = json::array();
  for (const auto& m : spec.mounts) {
    json jm = {{"type", m.type}, {"destination", m.destination}, {"options", m.options}};
    if (!m.source.empty()) jm["source"] = m.source;
    mounts.push_back(std::move(jm));
  }
  json interfaces = json::array();
  for (const auto& itf : spec.network.interfaces) {
    json ji = {{"name", itf.name}, {"address", itf.address.str()}};
    if (itf.gateway) ji["gateway"] = itf.gateway->str();
    if (itf.mac) ji["mac"] = itf.mac->str();
    interfaces.push_back(std::move(ji));
  }
  json resources = json::object();
  if (spec.resources.memory_bytes) resources["memory"] = *spec.resources.memory_bytes;
  if (spec.resources.pids) resources["pids"] = *spec.resources.pids;
  if (spec.resources.cpus) resources["cpu"] = *spec.resources.cpus;
  json rlimits = json::array();
  for (const auto& r : spec.rlimits) {
    rlimits.push_back({{"name", r.name}, {"soft", r.soft}, {"hard", r.hard}});
  }
  return {
      {"name", spec.name},
      {"source_path", spec.source_path},
      {"process", std::move(process)},
      {"rootfs", {{"path", spec.rootfs.path}, {"readonly", spec.rootfs.readonly}}},
      {"hostname", spec.hostname},
      {"namespaces", std::move(namespaces)},
      {"uid_mappings", mappings_to_json(spec.uid_mappings)},
      {"gid_mappings", mappings_to_json(spec.gid_mappings)},
      {"mounts", std::move(mounts)},
      {"network", {{"interfaces", std::move(interfaces)}}},
      {"resources", std::move(resources)},
      {"rlimits", std::move(rlimits)},
  };
}

ContainerSpec spec_from_json(const nlohmann::json& j) {
  JsonObj top(j, JsonPath(JsonPath::Style::dotted, ""),
              {"name", "source_path", "process", "rootfs", "hostname", "namespaces", "uid_mappings",
               "gid_mappings", "mounts", "network", "resources", "rlimits"});
  ContainerSpec spec;
  top.require("name");
  spec.name = top.str("name");
  if (top.has("source_path")) spec.source_path = top.str("source_path");
  if (top.has("hostname")) spec.hostname = top.str("hostname");
  process_from_json(top, spec.process);
  if (top.has("rootfs")) {
    JsonObj r(top.at("rootfs"), top.path("rootfs"), {"path", "readonly"});
    if (r.has("path")) spec.rootfs.path = r.str("path");
    if (r.has("readonly")) spec.rootfs.readonly = r.boolean("readonly");
  }
  if (top.has("namespaces")) {
    spec.namespaces.clear();
    const json& a = top.array("namespaces");
    for (size_t i = 0; i < a.size(); ++i) {
      JsonPath p = top.path("namespaces").item(i);
      std::string name = json_str(a[i], p);
      spec.namespaces.push_back(with_context(p.str(), [&] { return parse_namespace(name); }));
    }
  }
  if (top.has("uid_mappings")) spec.uid_mappings = mappings_from_json(top, "uid_mappings");
  if (top.has("gid_mappings")) spec.gid_mappings = mappings_from_json(top, "gid_mappings");
  if (top.has("mounts")) mounts_from_json(top, spec.mounts);
  if (top.has("network")) network_from_json(top, spec.network);
  if (top.has("resources")) resources_from_json(top, spec.resources);
  if (top.has("rlimits")) rlimits_from_json(top, spec.rlimits);
  finish_spec(spec, [](const std::string& key) { return key; });
  return spec;
}

}  // namespace ckpt::config
