#include "runtime/checkpoint/tmpfs_policy.h"

#include <set>
#include <utility>

#include "ns/rootfs.h"

namespace ckpt::checkpoint {

std::vector<MountInfo> own_tmpfs_mounts(const std::vector<MountInfo>& container,
                                        const std::vector<MountInfo>& host,
                                        std::vector<std::string>& problems) {
  using Dev = std::pair<unsigned, unsigned>;
  std::set<Dev> host_devs;
  for (const MountInfo& m : host) host_devs.insert({m.major, m.minor});

  std::vector<MountInfo> out;
  std::set<Dev> captured;
  for (const MountInfo& m : container) {
    Dev dev{m.major, m.minor};
    if (m.fs_type != "tmpfs" || host_devs.count(dev) || captured.count(dev) || m.root != "/")
      continue;
    captured.insert(dev);
    out.push_back(m);
  }
  // A file system of the container's seen only through subdirectory mounts.
  std::set<Dev> reported;
  for (const MountInfo& m : container) {
    Dev dev{m.major, m.minor};
    if (m.fs_type != "tmpfs" || host_devs.count(dev) || captured.count(dev) || reported.count(dev))
      continue;
    reported.insert(dev);
    problems.push_back("tmpfs at " + m.mount_point + " shows only its directory " + m.root +
                       ", the rest of that file system is out of reach (mount it whole, or "
                       "unmount it before checkpointing)");
  }
  return out;
}

std::string device_refusal(const std::string& mount_point, const std::string& relpath, bool block,
                           unsigned major, unsigned minor) {
  if (!block && mount_point == "/dev") {
    for (const ns::DefaultDevice& d : ns::default_devices()) {
      if (relpath == d.name && major == d.major && minor == d.minor) return "";
    }
  }
  std::string own;
  for (const ns::DefaultDevice& d : ns::default_devices())
    own += std::string(own.empty() ? "" : ", ") + "/dev/" + d.name;
  return std::string(block ? "block" : "character") + " device " + std::to_string(major) + ":" +
         std::to_string(minor) + " that the runtime does not create; only its own " + own +
         " are carried over (remove it before checkpointing)";
}

std::string path_in_container(const std::string& mount_point, const std::string& relpath) {
  if (relpath.empty()) return mount_point;
  if (mount_point.empty() || mount_point.back() == '/') return mount_point + relpath;
  return mount_point + "/" + relpath;
}

}  // namespace ckpt::checkpoint
