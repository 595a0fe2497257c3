#include "image/partial.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>

#include "common/error.h"
#include "common/file_lock.h"
#include "common/file_util.h"

namespace ckpt::image {

namespace {

// Serializes partial creation against sweeps for one parent directory. Held for milliseconds:
// a directory listing and a mkdir.
UniqueFd lock_parent(const std::string& parent) {
  UniqueFd fd = open_file(parent, O_RDONLY | O_DIRECTORY);
  while (::flock(fd.get(), LOCK_EX) < 0) {
    if (errno != EINTR) throw sys_error("lock directory " + parent);
  }
  return fd;
}

std::vector<std::string> entries_of(const std::string& parent) {
  std::vector<std::string> names;
  DIR* d = ::opendir(parent.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return names;
    throw sys_error("list directory " + parent);
  }
  while (dirent* ent = ::readdir(d)) names.emplace_back(ent->d_name);
  ::closedir(d);
  return names;
}

// Under the parent lock: removes the partials nobody holds, returns the live writers' pids.
std::vector<pid_t> sweep_locked(const std::string& dir) {
  std::string parent = parent_of(dir), base = base_of(dir);
  std::vector<pid_t> live;
  for (const auto& name : entries_of(parent)) {
    std::optional<pid_t> owner = partial_owner(base, name);
    if (!owner) continue;
    std::string path = parent + "/" + name;
    // Only directories are ours; O_NOFOLLOW so a planted link is never followed into.
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    UniqueFd owned(fd);
    if (!try_lock(fd, LockMode::exclusive, path)) {
      live.push_back(*owner);
      continue;
    }
    // Its writer died (a crash, SIGKILL): nothing will ever publish it.
    remove_tree(path);
  }
  return live;
}

}  // namespace

std::string parent_of(const std::string& dir) {
  size_t slash = dir.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return dir.substr(0, slash);
}

std::string base_of(const std::string& dir) {
  size_t slash = dir.rfind('/');
  return slash == std::string::npos ? dir : dir.substr(slash + 1);
}

std::string partial_path(const std::string& dir, pid_t pid) {
  return parent_of(dir) + "/." + base_of(dir) + ".partial-" + std::to_string(pid);
}

std::optional<pid_t> partial_owner(const std::string& base, const std::string& entry) {
  std::string prefix = "." + base + ".partial-";
  if (entry.size() <= prefix.size() || entry.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  const char* first = entry.data() + prefix.size();
  const char* last = entry.data() + entry.size();
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(first, last, pid);
  if (ec != std::errc() || end != last || pid <= 0) return std::nullopt;
  return pid;
}

std::vector<pid_t> remove_stale_partials(const std::string& dir) {
  std::string parent = parent_of(dir);
  struct stat st;
  if (::stat(parent.c_str(), &st) < 0 && errno == ENOENT) return {};
  UniqueFd guard = lock_parent(parent);
  return sweep_locked(dir);
}

PartialDir create_partial(const std::string& dir) {
  std::string parent = parent_of(dir);
  UniqueFd guard = lock_parent(parent);
  std::vector<pid_t> live = sweep_locked(dir);
  if (!live.empty()) {
    throw Error("image directory " + dir + ": another checkpoint (pid " +
                    std::to_string(live.front()) + ") is writing an image there",
                0, "wait for it to finish, or give another path");
  }
  PartialDir out;
  out.path = partial_path(dir, ::getpid());
  // The sweep above removed any leftover of a dead process that had our pid.
  if (::mkdir(out.path.c_str(), 0700) < 0)
    throw sys_error("create temporary image directory " + out.path);
  try {
    // The umask may only have cleared bits; an image holds process memory: exactly 0700.
    if (::chmod(out.path.c_str(), 0700) < 0) throw sys_error("chmod " + out.path);
    out.fd = open_file(out.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!try_lock(out.fd.get(), LockMode::exclusive, out.path))
      throw Error("temporary image directory " + out.path + " is locked by another process");
  } catch (...) {
    ::rmdir(out.path.c_str());
    throw;
  }
  return out;
}

}  // namespace ckpt::image
