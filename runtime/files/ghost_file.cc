// Regular files deleted while open (ghost files, ghost_inodes.h): the description keeps its
// flags and offset like any regular file, and points at a GhostFile holding the inode, which
// the restore recreates before opening the descriptions on it and deleting it again.
#include <fcntl.h>
#include <sys/stat.h>

#include "runtime/files/file_kinds.h"
#include "runtime/files/ghost_contents.h"
#include "runtime/files/ghost_inodes.h"
#include "runtime/files/path_kind.h"

namespace ckpt::files {

namespace {

std::string kib(uint64_t bytes) {
  return std::to_string((bytes + 1023) / 1024) + " KiB";
}

class GhostFile final : public FileKindHandler {
 public:
  model::FileKind kind() const override { return model::FileKind::ghost; }
  const char* name() const override { return "ghost"; }

  std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                  model::File& out) const override {
    const checkpoint::FdFacts& f = d.facts;
    if (!S_ISREG(f.mode) || !f.link.ends_with(kDeletedSuffix)) return std::nullopt;
    if (f.nlink > 0) {
      return Verdict::refused("the file was unlinked here but still has " +
                              std::to_string(f.nlink) +
                              " other link(s), which no path names; close it before "
                              "checkpointing");
    }
    std::string path;
    if (std::optional<Verdict> refused = container_path_of(f, env.root, path)) return *refused;
    if (env.ghosts == nullptr) return Verdict::refused("deleted files are not captured here");
    uint64_t id = 0;
    Verdict v = env.ghosts->add(d, path, id);
    if (!v.ok()) return v;
    out.kind = model::FileKind::ghost;
    out.flags = f.info.flags & ~O_CLOEXEC;
    out.pos = f.info.pos;
    out.path = path;
    out.ghost_id = id;
    return v;
  }

  void dump(DumpEnv& env, const Description& d, const model::File& file) const override {
    env.bytes_written +=
        env.ghosts.dump(file.ghost_id, d.holders.at(0), env.writer, env.compression);
  }

  UniqueFd open(RestoreEnv& env, const model::File& file) const override {
    UniqueFd fd = env.ghosts.open(file.ghost_id, reopen_flags(file.flags, false));
    seek_to(fd.get(), file.flags, file.pos, file.path + " (deleted)");
    return fd;
  }

  std::string describe(const model::File& file, const model::Checkpoint& cp) const override {
    std::string out = file.path + " (deleted";
    for (const model::GhostFile& g : cp.ghost_files) {
      if (g.id != file.ghost_id) continue;
      out += "; " + kib(g.size) + ", " + kib(run_bytes(g.runs)) + " of data in " + g.stream;
    }
    return out + ")";
  }

  void to_json(const model::File& file, nlohmann::json& out) const override {
    out["path"] = file.path;
    out["ghost"] = file.ghost_id;
  }
  void from_json(const nlohmann::json& in, model::File& file) const override {
    file.path = in.at("path").get<std::string>();
    file.ghost_id = in.at("ghost").get<uint64_t>();
  }
};

}  // namespace

const FileKindHandler& ghost_file() {
  static const GhostFile handler;
  return handler;
}

}  // namespace ckpt::files
