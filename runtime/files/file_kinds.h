// The table of file kinds: classification asks the classifiers in table order and the first
// that claims a description decides; dump, restore, `image inspect` and the JSON find the
// handler of a model::File by its kind. Adding a kind: its file in runtime/files/, its
// model::FileKind value, and its line in each list of file_kinds.cc.
#pragma once

#include <string>
#include <vector>

#include "runtime/files/file_kind.h"

namespace ckpt::files {

// Every classifier, in the order they are asked.
const std::vector<const FileClassifier*>& classifiers();
// Every handler of a capturable kind.
const std::vector<const FileKindHandler*>& handlers();
// Throws ckpt::Error for a kind without a handler (a programming error).
const FileKindHandler& handler(model::FileKind kind);
// nullptr for an unknown name (a damaged or newer image).
const FileKindHandler* handler_named(const std::string& name);

struct Classified {
  Verdict verdict;
  model::File file;  // valid when verdict.ok(); id left 0
};
// Classifies one description. A description no classifier claims is refused.
Classified classify(const Description& d, ClassifyEnv& env);

// "O_WRONLY|O_APPEND|O_NONBLOCK": status flags for people.
std::string flags_text(int flags);

// The handlers and classifiers, each defined in its own file.
const FileKindHandler& external_file();   // external_file.cc
const FileKindHandler& regular_file();    // regular_file.cc
const FileKindHandler& directory_file();  // directory_file.cc
const FileKindHandler& device_file();     // device_file.cc
const FileKindHandler& ghost_file();      // ghost_file.cc
// refused_kinds.cc: what cannot be captured yet, each with its reason.
const FileClassifier& refused_socket();
const FileClassifier& refused_anon_inode();
const FileClassifier& refused_memfd();
const FileClassifier& refused_pipe();
const FileClassifier& refused_char_device();
const FileClassifier& refused_other();

}  // namespace ckpt::files
