#include "runtime/checkpoint/ipc_objects.h"

#include <charconv>
#include <cstdio>
#include <map>
#include <sstream>

#include "common/error.h"
#include "runtime/checkpoint/mount_table.h"

namespace ckpt::checkpoint {

namespace {

const char* file_name(SysvKind kind) {
  switch (kind) {
    case SysvKind::shm:
      return "/proc/sysvipc/shm";
    case SysvKind::sem:
      return "/proc/sysvipc/sem";
    case SysvKind::msg:
      return "/proc/sysvipc/msg";
  }
  return "?";
}

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> out;
  std::istringstream in{std::string(line)};
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

template <typename T>
T number(const std::map<std::string, std::string>& row, const std::string& column) {
  auto it = row.find(column);
  if (it == row.end()) throw Error("no column '" + column + "'");
  T value{};
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size())
    throw Error("column '" + column + "': '" + text + "' is not a number");
  return value;
}

std::string key_text(uint32_t key) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%08x", key);
  return std::string(buf) + (key == 0 ? " (private)" : "");
}

std::string describe(const SysvObject& o) {
  std::string id = std::to_string(o.id);
  std::string what, detail, flag;
  switch (o.kind) {
    case SysvKind::shm:
      what = "SysV shared memory segment";
      detail = std::to_string(o.size) + " bytes, " + std::to_string(o.count) + " attached";
      flag = "-m";
      break;
    case SysvKind::sem:
      what = "SysV semaphore set";
      detail = std::to_string(o.size) + " semaphore" + (o.size == 1 ? "" : "s");
      flag = "-s";
      break;
    case SysvKind::msg:
      what = "SysV message queue";
      detail = std::to_string(o.count) + " message" + (o.count == 1 ? "" : "s") + ", " +
               std::to_string(o.size) + " bytes";
      flag = "-q";
      break;
  }
  return what + " key " + key_text(o.key) + " id " + id + " (" + detail +
         ") is in the container's IPC namespace; SysV IPC is not captured yet: remove it "
         "(ipcrm " +
         flag + " " + id + ") before checkpointing";
}

}  // namespace

std::vector<SysvObject> parse_sysvipc(SysvKind kind, std::string_view text) {
  const char* id_column = kind == SysvKind::shm   ? "shmid"
                          : kind == SysvKind::sem ? "semid"
                                                  : "msqid";
  return with_context(file_name(kind), [&] {
    std::vector<SysvObject> out;
    std::vector<std::string> header;
    size_t start = 0, line_no = 0;
    while (start < text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line =
          text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
      start = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line_no;
      std::vector<std::string> words = words_of(line);
      if (words.empty()) continue;
      if (header.empty()) {
        header = std::move(words);
        continue;
      }
      with_context("line " + std::to_string(line_no), [&] {
        if (words.size() != header.size())
          throw Error(std::to_string(words.size()) + " columns under a header of " +
                      std::to_string(header.size()));
        std::map<std::string, std::string> row;
        for (size_t i = 0; i < words.size(); ++i) row[header[i]] = words[i];
        SysvObject o;
        o.kind = kind;
        // The key is printed as a signed int (%10d); ipcs shows its bits in hex.
        o.key = static_cast<uint32_t>(number<int32_t>(row, "key"));
        o.id = number<int>(row, id_column);
        switch (kind) {
          case SysvKind::shm:
            o.size = number<uint64_t>(row, "size");
            o.count = number<uint64_t>(row, "nattch");
            break;
          case SysvKind::sem:
            o.size = number<uint64_t>(row, "nsems");
            break;
          case SysvKind::msg:
            o.size = number<uint64_t>(row, "cbytes");
            o.count = number<uint64_t>(row, "qnum");
            break;
        }
        out.push_back(o);
      });
    }
    return out;
  });
}

std::vector<std::string> ipc_refusals(const IpcListing& listing) {
  std::vector<std::string> out;
  for (auto [kind, text] : {std::pair{SysvKind::shm, &listing.sysvipc_shm},
                            std::pair{SysvKind::sem, &listing.sysvipc_sem},
                            std::pair{SysvKind::msg, &listing.sysvipc_msg}}) {
    for (const SysvObject& o : parse_sysvipc(kind, *text)) out.push_back(describe(o));
  }
  for (const std::string& name : listing.posix_queues) {
    out.push_back("POSIX message queue /" + printable_path(name) +
                  " is in the container's IPC namespace; POSIX message queues are not captured "
                  "yet: remove it (mq_unlink) before checkpointing");
  }
  return out;
}

}  // namespace ckpt::checkpoint
