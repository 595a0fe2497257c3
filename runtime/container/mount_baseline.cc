#include "runtime/container/mount_baseline.h"

#include <sys/stat.h>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::runtime {

namespace {

std::string file_in(const std::string& state_dir) {
  return state_dir + "/mounts.json";
}

}  // namespace

nlohmann::json mount_table_to_json(const checkpoint::MountTable& table) {
  nlohmann::json mounts = nlohmann::json::array();
  for (const auto& m : table) {
    mounts.push_back({{"mount_point", m.mount_point},
                      {"root", m.root},
                      {"fs_type", m.fs_type},
                      {"source", m.source},
                      {"mount_options", m.mount_options},
                      {"super_options", m.super_options},
                      {"propagation", m.propagation}});
  }
  return {{"mounts", mounts}};
}

checkpoint::MountTable mount_table_from_json(const nlohmann::json& j) {
  try {
    checkpoint::MountTable out;
    for (const auto& m : j.at("mounts")) {
      out.push_back(checkpoint::MountEntry{
          m.at("mount_point").get<std::string>(), m.at("root").get<std::string>(),
          m.at("fs_type").get<std::string>(), m.at("source").get<std::string>(),
          m.at("mount_options").get<std::string>(), m.at("super_options").get<std::string>(),
          m.at("propagation").get<std::string>()});
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    throw Error(std::string("not a mount table: ") + e.what());
  }
}

void save_initial_mounts(const std::string& state_dir, const std::string& mountinfo) {
  std::string path = file_in(state_dir);
  checkpoint::MountTable table = with_context("the container's initial mount table", [&] {
    return checkpoint::parse_mountinfo(mountinfo);
  });
  write_file_atomic(path, mount_table_to_json(table).dump(2) + "\n", 0600, false);
}

std::optional<checkpoint::MountTable> load_initial_mounts(const std::string& state_dir) {
  std::string path = file_in(state_dir);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) return std::nullopt;
  return with_context(path, [&] {
    try {
      return mount_table_from_json(nlohmann::json::parse(read_file(path)));
    } catch (const nlohmann::json::exception& e) {
      throw Error(std::string("is corrupt: ") + e.what());
    }
  });
}

}  // namespace ckpt::runtime
