#include "runtime/checkpoint/mount_table.h"

#include <algorithm>
#include <map>

#include "common/error.h"
#include "runtime/checkpoint/mountinfo.h"

namespace ckpt::checkpoint {

namespace {

std::string propagation_of(const std::vector<std::string>& optional) {
  std::string out;
  for (const std::string& tag : optional) {
    if (tag.empty()) continue;
    if (!out.empty()) out += ',';
    out += tag.substr(0, tag.find(':'));
  }
  return out;
}

MountEntry entry_of(const MountInfo& m) {
  MountEntry e;
  e.root = m.root;
  e.mount_point = m.mount_point;
  e.mount_options = m.mount_options;
  e.propagation = propagation_of(m.optional_fields);
  e.fs_type = m.fs_type;
  e.source = m.source;
  e.super_options = m.super_options;
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
  for (const MountInfo& m : parse_mount_records(std::string(text))) out.push_back(entry_of(m));
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
