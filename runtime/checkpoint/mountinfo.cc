#include "runtime/checkpoint/mountinfo.h"

#include <limits>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"

namespace ckpt::checkpoint {

namespace {

// show_mountinfo() (fs/proc_namespace.c) escapes ' ', '\t', '\n' and '\\' as \ooo.
std::string unescape(const std::string& field) {
  std::string out;
  out.reserve(field.size());
  for (size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const char* d = field.c_str() + i + 1;
      bool octal = true;
      for (int k = 0; k < 3; ++k) octal = octal && d[k] >= '0' && d[k] <= '7';
      if (octal) {
        out.push_back(static_cast<char>((d[0] - '0') * 64 + (d[1] - '0') * 8 + (d[2] - '0')));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

int to_int(const std::string& text, const char* what) {
  return parse_number<int>(text, what, 0, std::numeric_limits<int>::max());
}

// Fields are separated by single spaces; an empty one (a mount with an empty source) stays.
std::vector<std::string> fields_of(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t space = line.find(' ', start);
    out.push_back(line.substr(start, space - start));
    if (space == std::string::npos) return out;
    start = space + 1;
  }
}

MountInfo parse_line(const std::string& line) {
  std::vector<std::string> fields = fields_of(line);
  // Six fixed fields, any number of optional ones, "-", then three more.
  size_t dash = 0;
  for (size_t i = 6; i < fields.size(); ++i) {
    if (fields[i] == "-") {
      dash = i;
      break;
    }
  }
  // show_mountinfo() always prints the super options ("rw" or "ro" at least): exactly three
  // fields follow the separator.
  if (fields.size() < 6 || dash == 0 || fields.size() != dash + 4)
    throw Error(
        "expected 'ID PARENT MAJ:MIN ROOT MOUNT_POINT OPTIONS [OPTIONAL...] - TYPE "
        "SOURCE SUPER_OPTIONS'");
  MountInfo m;
  m.id = to_int(fields[0], "mount id");
  m.parent_id = to_int(fields[1], "parent id");
  size_t colon = fields[2].find(':');
  if (colon == std::string::npos) throw Error("bad device '" + fields[2] + "'");
  m.major = static_cast<unsigned>(to_int(fields[2].substr(0, colon), "device major"));
  m.minor = static_cast<unsigned>(to_int(fields[2].substr(colon + 1), "device minor"));
  m.root = unescape(fields[3]);
  m.mount_point = unescape(fields[4]);
  m.mount_options = fields[5];
  for (size_t i = 6; i < dash; ++i) m.optional_fields.push_back(fields[i]);
  m.fs_type = unescape(fields[dash + 1]);
  m.source = unescape(fields[dash + 2]);
  m.super_options = unescape(fields[dash + 3]);
  return m;
}

}  // namespace

bool MountInfo::read_only() const {
  return mount_options == "ro" || mount_options.rfind("ro,", 0) == 0;
}

std::vector<MountInfo> parse_mount_records(const std::string& text) {
  std::vector<MountInfo> out;
  for_each_line(text, [&](size_t lineno, const std::string& line) {
    out.push_back(
        with_context("mountinfo line " + std::to_string(lineno), [&] { return parse_line(line); }));
  });
  return out;
}

}  // namespace ckpt::checkpoint
