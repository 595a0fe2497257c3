#include "runtime/checkpoint/mount_table.h"

#include <algorithm>
#include <map>

#include "common/error.h"

namespace ckpt::checkpoint {

namespace {

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

// mangle() in fs/proc_namespace.c writes space, tab, newline and backslash as \ooo.
std::string unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 3 < text.size() && is_octal(text[i + 1]) && is_octal(text[i + 2]) &&
        is_octal(text[i + 3])) {
      out.push_back(static_cast<char>((text[i + 1] - '0') << 6 | (text[i + 2] - '0') << 3 |
                                      (text[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// Splits on single spaces, keeping empty fields: mountinfo never uses runs of spaces, and an
// empty source must stay a field.
std::vector<std::string_view> fields_of(std::string_view line) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t sp = line.find(' ', start);
    out.push_back(line.substr(start, sp == std::string_view::npos ? sp : sp - start));
    if (sp == std::string_view::npos) return out;
    start = sp + 1;
  }
}

std::string propagation_of(const std::vector<std::string_view>& optional) {
  std::string out;
  for (std::string_view tag : optional) {
    if (tag.empty()) continue;
    if (!out.empty()) out += ',';
    out += tag.substr(0, tag.find(':'));
  }
  return out;
}

MountEntry parse_line(std::string_view line) {
  std::vector<std::string_view> f = fields_of(line);
  // id parent major:minor root mount-point options [optional...] - type source super-options
  size_t sep = 6;
  while (sep < f.size() && f[sep] != "-") ++sep;
  if (f.size() < 10 || sep >= f.size() || f.size() - sep != 4)
    throw Error(
        "expected \"ID PARENT MAJ:MIN ROOT MOUNT-POINT OPTIONS [TAGS] - TYPE SOURCE "
        "SUPER-OPTIONS\"");
  MountEntry e;
  e.root = unescape(f[3]);
  e.mount_point = unescape(f[4]);
  e.mount_options = std::string(f[5]);
  e.propagation = propagation_of({f.begin() + 6, f.begin() + static_cast<long>(sep)});
  e.fs_type = unescape(f[sep + 1]);
  e.source = unescape(f[sep + 2]);
  e.super_options = unescape(f[sep + 3]);
  return e;
}

// "tmpfs", or "ext4 bind of /srv/data" when a subdirectory of the file system is mounted.
std::string kind_of(const MountEntry& e) {
  std::string out = e.fs_type;
  if (e.root != "/") out += " bind of " + printable_path(e.root);
  return out;
}

std::string named(const MountEntry& e) {
  return "mount " + printable_path(e.mount_point) + " (" + kind_of(e) + ")";
}

std::string propagation_name(const std::string& p) {
  return p.empty() ? "private" : p;
}

// What differs between two mounts at the same place, or "" if nothing does.
std::string difference(const MountEntry& before, const MountEntry& after) {
  if (before.fs_type != after.fs_type || before.source != after.source ||
      before.root != after.root) {
    return named(after) + " replaced " + printable_path(before.mount_point) + " (" +
           kind_of(before) + (before.source != after.source ? " from " + before.source : "") +
           ") at run time; restore cannot recreate it yet: unmount it before checkpointing";
  }
  std::string what;
  auto add = [&what](const std::string& item) { what += (what.empty() ? "" : ", ") + item; };
  if (before.mount_options != after.mount_options)
    add("options " + before.mount_options + " -> " + after.mount_options);
  if (before.super_options != after.super_options)
    add("file-system options " + before.super_options + " -> " + after.super_options);
  if (before.propagation != after.propagation)
    add("propagation " + propagation_name(before.propagation) + " -> " +
        propagation_name(after.propagation));
  if (what.empty()) return "";
  return named(after) + " was changed at run time (" + what +
         "); restore cannot recreate that yet: undo the change before checkpointing";
}

}  // namespace

std::string printable_path(std::string_view path) {
  std::string out;
  for (char c : path) {
    switch (c) {
      case '\n':
        out += "\\012";
        break;
      case '\t':
        out += "\\011";
        break;
      case '\\':
        out += "\\134";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

MountTable parse_mountinfo(std::string_view text) {
  MountTable out;
  size_t line_no = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    with_context("mountinfo line " + std::to_string(line_no),
                 [&] { out.push_back(parse_line(line)); });
  }
  return out;
}

std::vector<std::string> mount_table_changes(const MountTable& initial, const MountTable& current) {
  // Mount point -> the mounts stacked there, bottom first; points in order of first appearance
  // (initial table first) so the messages follow the mount tree.
  std::map<std::string, std::vector<const MountEntry*>> before, after;
  std::vector<std::string> points;
  for (const auto* table : {&initial, &current}) {
    auto& stacks = table == &initial ? before : after;
    for (const MountEntry& e : *table) {
      if (!before.count(e.mount_point) && !after.count(e.mount_point))
        points.push_back(e.mount_point);
      stacks[e.mount_point].push_back(&e);
    }
  }
  std::vector<std::string> out;
  for (const std::string& point : points) {
    const auto& was = before[point];
    const auto& now = after[point];
    size_t common = std::min(was.size(), now.size());
    for (size_t i = 0; i < common; ++i) {
      std::string d = difference(*was[i], *now[i]);
      if (!d.empty()) out.push_back(std::move(d));
    }
    for (size_t i = common; i < now.size(); ++i) {
      if (i == 0) {
        out.push_back(named(*now[i]) +
                      " was added at run time; restore cannot recreate it yet: unmount it "
                      "before checkpointing");
      } else {
        out.push_back(named(*now[i]) + " was mounted over " + printable_path(point) + " (" +
                      kind_of(*now[i - 1]) +
                      ") at run time; restore cannot recreate it yet: unmount it before "
                      "checkpointing");
      }
    }
    for (size_t i = common; i < was.size(); ++i) {
      out.push_back(named(*was[i]) +
                    " was unmounted at run time; restore would mount it again: mount it back "
                    "before checkpointing");
    }
  }
  return out;
}

}  // namespace ckpt::checkpoint
