#include "runtime/files/file_kinds.h"

#include <fcntl.h>

#include "common/error.h"

namespace ckpt::files {

int Description::stdio_slot() const {
  int slot = -1;
  for (const Holder& h : holders) {
    if (h.fd >= 0 && h.fd <= 2 && (slot < 0 || h.fd < slot)) slot = h.fd;
  }
  return slot;
}

const std::vector<const FileClassifier*>& classifiers() {
  // Order matters: stdio from outside first (a pipe or terminal is fine there and nowhere
  // else), then what is refused by what the link says, then the kinds reopened by path.
  static const std::vector<const FileClassifier*> order = {
      &external_file(),  &refused_socket(),      &refused_anon_inode(), &refused_memfd(),
      &refused_pipe(),   &refused_char_device(), &device_file(),        &ghost_file(),
      &directory_file(), &regular_file(),        &refused_other(),
  };
  return order;
}

const std::vector<const FileKindHandler*>& handlers() {
  static const std::vector<const FileKindHandler*> all = {
      &regular_file(), &directory_file(), &device_file(), &ghost_file(), &external_file(),
  };
  return all;
}

const FileKindHandler& handler(model::FileKind kind) {
  for (const FileKindHandler* h : handlers())
    if (h->kind() == kind) return *h;
  throw Error("no handler for file kind " + std::to_string(static_cast<int>(kind)));
}

const FileKindHandler* handler_named(const std::string& name) {
  for (const FileKindHandler* h : handlers())
    if (name == h->name()) return h;
  return nullptr;
}

Classified classify(const Description& d, ClassifyEnv& env) {
  for (const FileClassifier* c : classifiers()) {
    Classified out;
    std::optional<Verdict> v = c->classify(d, env, out.file);
    if (!v) continue;
    out.verdict = std::move(*v);
    return out;
  }
  return {Verdict::refused("this kind of file cannot be checkpointed yet"), {}};
}

std::string flags_text(int flags) {
  std::string out;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      out = "O_RDONLY";
      break;
    case O_WRONLY:
      out = "O_WRONLY";
      break;
    case O_RDWR:
      out = "O_RDWR";
      break;
    default:
      out = "O_ACCMODE";
  }
  static const std::pair<int, const char*> kNames[] = {
      {O_APPEND, "O_APPEND"},     {O_NONBLOCK, "O_NONBLOCK"}, {O_DIRECTORY, "O_DIRECTORY"},
      {O_PATH, "O_PATH"},         {O_NOATIME, "O_NOATIME"},   {O_DIRECT, "O_DIRECT"},
      {O_SYNC, "O_SYNC"},         {O_DSYNC, "O_DSYNC"},       {O_ASYNC, "O_ASYNC"},
      {O_NOFOLLOW, "O_NOFOLLOW"},
  };
  // O_LARGEFILE (the kernel's 0100000, which glibc calls 0 on 64-bit) is left out: the kernel
  // sets it on every open of a 64-bit process.
  for (const auto& [bit, name] : kNames) {
    // O_SYNC includes O_DSYNC's bit: name only the larger one.
    if (bit == O_DSYNC && (flags & O_SYNC) == O_SYNC) continue;
    if (bit != 0 && (flags & bit) == bit) out += std::string("|") + name;
  }
  return out;
}

}  // namespace ckpt::files
