// Small file helpers shared by every library: whole-file reads and writes that throw ckpt::Error
// naming the path, and an atomic replace for state files.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace ckpt {

// open(2) that throws "open PATH" on failure; O_CLOEXEC is always added.
UniqueFd open_file(const std::string& path, int flags, int mode = 0);

std::string read_file(const std::string& path);
// Writes `data` to an existing file (cgroup and /proc knobs): one write(2), no O_CREAT.
void write_existing(const std::string& path, std::string_view data);
// Writes `data` to a temporary file beside `path` and renames it over `path`: readers see the
// old or the new content, never a mix. `durable` adds an fsync before the rename, for data that
// must survive a crash; runtime state that dies with a reboot skips it (it cost up to 11 ms a
// file on a busy disk, a quarter of a container start).
void write_file_atomic(const std::string& path, std::string_view data, int mode = 0644,
                       bool durable = true);

// Reads or writes exactly `len` bytes, retrying on EINTR and short transfers.
void read_full(int fd, void* buf, size_t len, const std::string& what);
void write_full(int fd, const void* buf, size_t len, const std::string& what);

// Calls fn(key, value) for every "Key:  value" line of a /proc status-style text (status,
// fdinfo), with the value trimmed; lines without a colon are skipped.
void for_each_proc_field(std::string_view text,
                         const std::function<void(const std::string&, const std::string&)>& fn);

// Calls fn(line_number, line) for every non-empty line of `text` (numbered from 1, without the
// newline): parsers of /proc tables name the line they refuse.
void for_each_line(std::string_view text,
                   const std::function<void(size_t, const std::string&)>& fn);

// Splits on `sep`, dropping empty fields.
std::vector<std::string> split(std::string_view text, char sep);
std::string_view trim(std::string_view text);

// mkdir -p; existing directories are fine.
void make_dirs(const std::string& path, int mode = 0755);
// rm -rf that does not cross mount points; missing paths are fine.
void remove_tree(const std::string& path);

}  // namespace ckpt
