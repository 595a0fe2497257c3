// create() and open(): which directories make up a container cgroup and which freezer runs it.
#include <cerrno>

#include "cgroup/container_cgroup.h"
#include "cgroup/hierarchy.h"
#include "common/error.h"

namespace ckpt::cgroup {
namespace {

std::string display_name(const std::string& name) {
  return std::string(kParentName) + "/" + name;
}

// The member hosting the freezer. automatic prefers v2: cgroup.freeze exists on every non-root
// v2 cgroup (Linux 5.2+) even when no controller is enabled, as on a hybrid host.
size_t choose_freezer(Kernel& kernel, const std::vector<Member>& members, FreezerKind& kind,
                      const std::string& name) {
  auto find = [&](FreezerKind want) -> std::optional<size_t> {
    for (size_t i = 0; i < members.size(); ++i) {
      const Member& m = members[i];
      if (want == FreezerKind::v2 && m.hierarchy.v2 && kernel.exists(m.dir + "/cgroup.freeze"))
        return i;
      if (want == FreezerKind::v1 && !m.hierarchy.v2 && m.hierarchy.has("freezer")) return i;
    }
    return std::nullopt;
  };
  if (kind == FreezerKind::automatic) {
    for (FreezerKind k : {FreezerKind::v2, FreezerKind::v1}) {
      if (auto i = find(k)) {
        kind = k;
        return *i;
      }
    }
    throw Error("cgroup " + display_name(name) +
                    ": no freezer (no cgroup.freeze in the unified hierarchy and no v1 freezer "
                    "hierarchy)",
                0, "mount cgroup2 or the v1 freezer controller");
  }
  if (auto i = find(kind)) return *i;
  throw Error(std::string("cgroup ") + display_name(name) + ": the " +
                  (kind == FreezerKind::v2 ? "v2 freezer (cgroup.freeze)" : "v1 freezer") +
                  " is not available on this host",
              0, "use the automatic freezer choice");
}

// Removes the directories create() made if it fails before handing them over.
class Rollback {
 public:
  explicit Rollback(Kernel& kernel) : kernel_(kernel) {}
  ~Rollback() {
    for (auto it = made_.rbegin(); it != made_.rend(); ++it) kernel_.remove_dir(*it);
  }
  void made(const std::string& dir) { made_.push_back(dir); }
  void release() { made_.clear(); }

 private:
  Kernel& kernel_;
  std::vector<std::string> made_;
};

std::shared_ptr<Kernel> kernel_of(const Options& options) {
  return options.kernel ? options.kernel : real_kernel();
}

}  // namespace

std::unique_ptr<Cgroup> create(const Layout& layout, const std::string& name,
                               const Options& options) {
  check_name(name);
  std::shared_ptr<Kernel> kernel = kernel_of(options);
  std::vector<Hierarchy> hierarchies = container_hierarchies(layout);
  if (hierarchies.empty())
    throw Error("no cgroup hierarchy is mounted (none in /proc/self/mountinfo)", 0,
                "mount cgroup2 at /sys/fs/cgroup");

  Rollback rollback(*kernel);
  std::vector<Member> members;
  for (const Hierarchy& h : hierarchies) {
    const std::string parent = h.parent_dir();
    const std::string dir = h.dir(name);
    int err = ENOENT;
    // ENOENT: the parent was removed by a concurrent destroy() of its last container.
    for (int attempt = 0; attempt < 5 && err == ENOENT; ++attempt) {
      if (int perr = kernel->make_dir(parent); perr != 0 && perr != EEXIST)
        throw Error("create cgroup " + parent, perr);
      err = kernel->make_dir(dir);
    }
    if (err == EEXIST)
      throw Error("cgroup " + display_name(name) +
                  " already exists: a container of that name is running or was not deleted; "
                  "run `crun-ckpt delete -f " +
                  name + "`");
    if (err != 0) throw Error("create cgroup " + dir, err);
    rollback.made(dir);
    members.push_back(Member{h, dir});
  }
  FreezerKind kind = options.freezer;
  size_t freezer = choose_freezer(*kernel, members, kind, name);
  auto cgroup = std::make_unique<ContainerCgroup>(kernel, std::move(members), freezer, kind);
  rollback.release();
  return cgroup;
}

std::unique_ptr<Cgroup> open(const Layout& layout, const std::string& name,
                             const Options& options) {
  check_name(name);
  std::shared_ptr<Kernel> kernel = kernel_of(options);
  std::vector<Member> members;
  for (const Hierarchy& h : container_hierarchies(layout))
    if (kernel->exists(h.dir(name))) members.push_back(Member{h, h.dir(name)});
  if (members.empty())
    throw Error("cgroup " + display_name(name) + " not found", ENOENT,
                "the container is not running; see `crun-ckpt list`");
  FreezerKind kind = options.freezer;
  size_t freezer = choose_freezer(*kernel, members, kind, name);
  return std::make_unique<ContainerCgroup>(kernel, std::move(members), freezer, kind);
}

}  // namespace ckpt::cgroup
