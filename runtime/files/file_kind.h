// One handler per kind of open file description (STYLE.md "one handler per kind of kernel
// object"). A handler says, for its kind:
//   classify  whether an fd is of its kind and, if so, a verdict: capturable (the model::File
//             filled in) or refused (why, and what to do) -- a value, not an exception;
//   dump      the bulk state the image must hold beyond the model (a deleted file's contents);
//   open      at restore, the description recreated in the restorer, which then installs it in
//             every fd that held it (restore/file_table.h, restore/fd_channel.h);
//   describe  one line for `image inspect`;
//   to_json / from_json  its own fields of model::File (the common ones are model_json.cc's).
// Kinds that are only refused for now (sockets, internal pipes, ...) are classifiers without
// the rest. The table that orders them is file_kinds.h; a new kind is a new file plus a line
// there.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "image/image.h"
#include "runtime/checkpoint/fd_facts.h"
#include "runtime/model/task_model.h"

namespace ckpt::restore {
class ImageSource;
}

namespace ckpt::files {

class GhostInodes;
class GhostInodeSet;

// A classification result: capturable, or refused with the reason and what to do.
struct Verdict {
  std::string refusal;  // empty: capturable

  static Verdict capturable() { return {}; }
  static Verdict refused(std::string why) { return {std::move(why)}; }
  bool ok() const { return refusal.empty(); }
};

// One fd holding a description.
struct Holder {
  pid_t host_pid = 0;
  pid_t pid = 0;  // container view, for messages and `image inspect`
  int fd = -1;
  bool cloexec = false;
};

// One open file description as the dump sees it: the facts read through its first holder (the
// flags and offset are the description's, the same through every holder) and all its holders.
struct Description {
  checkpoint::FdFacts facts;
  std::vector<Holder> holders;

  // The lowest fd number among 0, 1, 2 that holds it, or -1: whether it is someone's stdio.
  int stdio_slot() const;
};

// The container-wide facts classification needs.
struct ClassifyEnv {
  std::string root;  // the container's root directory as the dumper sees it
  checkpoint::PipeEnds pipes;
  // Regular files the runtime gave the container as stdio (a detached container's log).
  std::vector<checkpoint::FileId> external_stdio;
  GhostInodes* ghosts = nullptr;  // deleted files seen so far (ghost_inodes.h)
};

// Where a dump writes bulk state.
struct DumpEnv {
  image::ImageWriter& writer;
  image::CompressionSpec compression;
  GhostInodes& ghosts;
  uint64_t& bytes_written;
};

// What a handler may use to recreate a description at restore.
struct RestoreEnv {
  int root = -1;            // O_PATH fd of the container's root directory (the restore's init)
  pid_t init_host_pid = 0;  // the restore's init: its stdio stands in for external files
  GhostInodeSet& ghosts;    // the deleted files, recreated before any description is opened
};

class FileClassifier {
 public:
  virtual ~FileClassifier() = default;
  // nullopt: not this kind, ask the next one. Otherwise the verdict; when capturable, `out`
  // has kind, flags, pos and the kind's own fields (the caller sets the id).
  virtual std::optional<Verdict> classify(const Description& d, ClassifyEnv& env,
                                          model::File& out) const = 0;
};

class FileKindHandler : public FileClassifier {
 public:
  virtual model::FileKind kind() const = 0;
  virtual const char* name() const = 0;  // in the image's JSON and in `image inspect`
  virtual void dump(DumpEnv& env, const Description& d, const model::File& file) const {
    (void)env, (void)d, (void)file;
  }
  // The description recreated, owned by the restorer. Throws ckpt::Error naming the path.
  virtual UniqueFd open(RestoreEnv& env, const model::File& file) const = 0;
  virtual std::string describe(const model::File& file,
                               const model::Checkpoint& checkpoint) const = 0;
  virtual void to_json(const model::File& file, nlohmann::json& out) const = 0;
  virtual void from_json(const nlohmann::json& in, model::File& file) const = 0;
};

}  // namespace ckpt::files
