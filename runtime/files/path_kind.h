// What the kinds found again by path share (regular files, directories, devices, and the
// recreated ghosts): the container path of an fd's link at dump, and at restore the open in
// the container's root with the description's flags and offset.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/unique_fd.h"
#include "runtime/files/file_kind.h"

namespace ckpt::files {

constexpr std::string_view kDeletedSuffix = " (deleted)";

// The path inside the container of the file an fd is open on (its link, without a
// " (deleted)" suffix), or a refusal when it has none or is outside the container's root.
std::optional<Verdict> container_path_of(const checkpoint::FdFacts& facts, const std::string& root,
                                         std::string& out);

// The flags to open a description again: without what open(2) consumed or refuses to be given
// again (O_CREAT, O_EXCL, O_TRUNC, O_NOCTTY, O_TMPFILE), without O_CLOEXEC (per fd, set when
// it is installed), and without O_DIRECTORY unless it is one. Always O_CLOEXEC for the
// restorer's own copy.
int reopen_flags(int flags, bool directory);

// openat2(root, path, flags, RESOLVE_IN_ROOT): `path` is resolved as the container's tasks
// resolve it, with `root` (the restore's /proc/<init>/root, in the container's mount namespace)
// as "/" even for ".." and absolute symlinks. Throws "open PATH: <errno>".
UniqueFd open_in_root(int root, const std::string& path, int flags);

// Puts the description's offset back (not for O_PATH descriptions, which have none).
void seek_to(int fd, int flags, uint64_t pos, const std::string& what);

// Base of the kinds reopened by their path (regular files, directories, devices): the path is
// their only field; the restore opens it in the container's root with the description's flags
// and puts the offset back.
class PathKind : public FileKindHandler {
 public:
  UniqueFd open(RestoreEnv& env, const model::File& file) const override;
  std::string describe(const model::File& file, const model::Checkpoint&) const override {
    return file.path;
  }
  void to_json(const model::File& file, nlohmann::json& out) const override;
  void from_json(const nlohmann::json& in, model::File& file) const override;

 protected:
  // The verdict for a description of this kind: capturable with kind, flags, pos and path, or
  // refused when it has no path inside the container.
  Verdict capture(const Description& d, const ClassifyEnv& env, model::File& out) const;
  // Whether the offset means something (not for devices like /dev/null).
  virtual bool has_offset() const { return true; }
};

}  // namespace ckpt::files
