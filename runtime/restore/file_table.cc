#include "runtime/restore/file_table.h"

#include <fcntl.h>

#include <set>

#include "common/error.h"
#include "common/file_util.h"
#include "runtime/files/file_kinds.h"

namespace ckpt::restore {

namespace {

// Every fd names a description of the image, and every ghost description a ghost of it.
void check_references(const model::Checkpoint& checkpoint) {
  std::set<uint64_t> files, ghosts;
  for (const model::GhostFile& g : checkpoint.ghost_files) ghosts.insert(g.id);
  for (const model::File& f : checkpoint.files) {
    if (f.id == 0 || !files.insert(f.id).second)
      throw Error("image: open file id " + std::to_string(f.id) + " is zero or used twice");
    if (f.kind == model::FileKind::ghost && ghosts.count(f.ghost_id) == 0)
      throw Error("image: open file " + std::to_string(f.id) + " (" + f.path +
                  ") names deleted file " + std::to_string(f.ghost_id) +
                  ", which it does not hold");
  }
  for (const model::Process& p : checkpoint.processes) {
    for (const model::Fd& fd : p.fds) {
      if (files.count(fd.file) == 0)
        throw Error("image: pid " + std::to_string(p.pid) + " fd " + std::to_string(fd.fd) +
                    " names open file " + std::to_string(fd.file) + ", which it does not hold");
    }
    for (const model::Vma& v : p.vmas) {
      if (v.ghost_id != 0 && ghosts.count(v.ghost_id) == 0)
        throw Error("image: pid " + std::to_string(p.pid) + " maps deleted file " +
                    std::to_string(v.ghost_id) + ", which it does not hold");
    }
  }
}

}  // namespace

FileTable::FileTable(const model::Checkpoint& checkpoint, const ImageSource& image,
                     pid_t init_host_pid) {
  check_references(checkpoint);
  UniqueFd root =
      open_file("/proc/" + std::to_string(init_host_pid) + "/root", O_PATH | O_DIRECTORY);
  ghosts_ = files::GhostInodeSet(checkpoint.ghost_files, image, root.get());
  files::RestoreEnv env{root.get(), init_host_pid, ghosts_};
  for (const model::File& f : checkpoint.files) {
    const files::FileKindHandler& h = files::handler(f.kind);
    with_context("open file " + std::to_string(f.id) + " (" + h.name() + ")",
                 [&] { files_[f.id] = h.open(env, f); });
  }
  ghosts_.unlink_all();
}

int FileTable::fd(uint64_t file_id) const {
  auto it = files_.find(file_id);
  if (it == files_.end())
    throw Error("open file " + std::to_string(file_id) + " was not created for this restore");
  return it->second.get();
}

}  // namespace ckpt::restore
