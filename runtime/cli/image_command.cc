#include <map>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "image/image.h"
#include "runtime/cli/command.h"
#include "runtime/container/progress.h"
#include "runtime/files/file_kinds.h"
#include "runtime/model/id_map.h"
#include "runtime/model/model_json.h"

namespace ckpt::cli {

namespace {

// One line: "ITIMER_REAL in 7.412s; timer 1 clock 1 signal 35 in 7.400s every 1.000s; ..."
std::string timers_summary(const model::Process& p) {
  auto seconds = [](uint64_t ns) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3fs", static_cast<double>(ns) / 1e9);
    return std::string(buf);
  };
  auto schedule = [&](uint64_t value_ns, uint64_t interval_ns) {
    if (value_ns == 0) return std::string("disarmed");
    return "in " + seconds(value_ns) + (interval_ns ? " every " + seconds(interval_ns) : "");
  };
  static const char* const kWhich[] = {"ITIMER_REAL", "ITIMER_VIRTUAL", "ITIMER_PROF"};
  std::string out;
  for (const model::ITimer& t : p.itimers) {
    if (!out.empty()) out += "; ";
    out += (t.which >= 0 && t.which < 3 ? kWhich[t.which] : "itimer ?") + std::string(" ") +
           schedule(t.value_ns, t.interval_ns);
  }
  for (const model::PosixTimer& t : p.posix_timers) {
    if (!out.empty()) out += "; ";
    out += "timer " + std::to_string(t.id) + " clock " + std::to_string(t.clock_id) + " signal " +
           std::to_string(t.signo) + " " + schedule(t.value_ns, t.interval_ns);
  }
  return out;
}

// The open file descriptions, each with every fd holding it ("PID:FD"): fds that share one
// description (dup, fork, SCM_RIGHTS) share its offset and flags.
void print_files(const model::Checkpoint& checkpoint) {
  if (checkpoint.files.empty()) return;
  std::map<uint64_t, std::string> holders;
  for (const model::Process& p : checkpoint.processes) {
    for (const model::Fd& fd : p.fds) {
      std::string& h = holders[fd.file];
      if (!h.empty()) h += " ";
      h += std::to_string(p.pid) + ":" + std::to_string(fd.fd) + (fd.cloexec ? "e" : "");
    }
  }
  std::printf("\n%-5s %-9s %-26s %-10s %-32s %s\n", "FILE", "KIND", "FLAGS", "POS", "HOLDERS",
              "WHAT");
  for (const model::File& f : checkpoint.files) {
    const files::FileKindHandler& h = files::handler(f.kind);
    std::printf("#%-4llu %-9s %-26s %-10llu %-32s %s\n", static_cast<unsigned long long>(f.id),
                h.name(), files::flags_text(f.flags).c_str(),
                static_cast<unsigned long long>(f.pos), holders[f.id].c_str(),
                h.describe(f, checkpoint).c_str());
  }
  std::printf("(holders PID:FD, e = close-on-exec)\n");
}

// "uid 1000,1001,1002,1000 gid 1000,1001,1002,1003 groups 1000,2000" (real, effective, saved, fs).
std::string ids_summary(const model::Process& p) {
  auto list = [](const auto& ids) {
    std::string out;
    for (uint32_t id : ids) out += (out.empty() ? "" : ",") + std::to_string(id);
    return out.empty() ? std::string("none") : out;
  };
  std::string out = "uid " + list(p.uid) + " gid " + list(p.gid) + " groups " + list(p.groups);
  if (!p.unmapped_groups.empty()) out += " host groups " + list(p.unmapped_groups);
  return out;
}

bool runs_as_root(const model::Process& p) {
  for (int i = 0; i < 4; ++i)
    if (p.uid[i] != 0 || p.gid[i] != 0) return false;
  return p.groups.empty() && p.unmapped_groups.empty();
}

void print_inspection(const image::ImageReader& reader) {
  const auto& m = reader.manifest();
  const auto& body = reader.body();
  const auto& container = body.value("container", nlohmann::json::object());
  std::printf("image     %s\nformat    %d (%s)\ncreated   %s on kernel %s, %s\n",
              reader.dir().c_str(), m.value("format_version", 0), m.value("magic", "").c_str(),
              m.value("created", "").c_str(), m.value("kernel", "").c_str(),
              m.value("arch", "").c_str());
  std::printf("container %s (hostname %s", container.value("id", "?").c_str(),
              container.value("hostname", "?").c_str());
  if (container.contains("domainname"))
    std::printf(", domainname %s", container.value("domainname", "?").c_str());
  std::printf(")\n");
  uint64_t stored = 0;
  for (const auto& [name, file] : m.at("files").items()) stored += file.value("size", 0ULL);
  std::printf("size      %s stored in %zu files\n", runtime::human_bytes(stored).c_str(),
              m.at("files").size());
  model::Checkpoint checkpoint = model::checkpoint_from_json(body.at("checkpoint"));
  if (const auto& ns = checkpoint.user_namespace) {
    std::printf("user ns   uid_map %s; gid_map %s; setgroups %s (ids below are inside it)\n",
                model::id_map_text(ns->uid_map).c_str(), model::id_map_text(ns->gid_map).c_str(),
                ns->setgroups_allowed ? "allow" : "deny");
  }
  std::printf("\n%-7s %-7s %-7s %-7s %-16s %-7s %-6s %-10s %s\n", "PID", "PPID", "PGID", "SID",
              "COMM", "THREADS", "VMAS", "PAGES", "FDS");
  for (const model::Process& p : checkpoint.processes) {
    uint64_t pages = 0;
    for (const model::Vma& vma : p.vmas)
      for (const model::PageRun& run : vma.runs) pages += run.npages;
    std::string fds;
    for (const model::Fd& fd : p.fds) {
      if (!fds.empty()) fds += " ";
      fds += std::to_string(fd.fd) + ":#" + std::to_string(fd.file);
    }
    std::printf("%-7d %-7d %-7d %-7d %-16s %-7zu %-6zu %-10llu %s\n", p.pid, p.ppid, p.pgid, p.sid,
                p.comm.c_str(), p.threads.size(), p.vmas.size(),
                static_cast<unsigned long long>(pages), fds.c_str());
    if (p.zombie)
      std::printf("%-7s zombie: exit status %#x (not reaped by its parent)\n", "", p.exit_status);
    else if (!runs_as_root(p))
      std::printf("%-7s ids: %s\n", "", ids_summary(p).c_str());
    if (!p.itimers.empty() || !p.posix_timers.empty())
      std::printf("%-7s timers: %s\n", "", timers_summary(p).c_str());
  }
  print_files(checkpoint);
  if (checkpoint.tmpfs_mounts.empty()) return;
  std::printf("\n%-20s %-8s %-10s %-10s %s\n", "TMPFS", "ENTRIES", "DATA", "STREAM", "OPTIONS");
  for (const model::TmpfsMount& t : checkpoint.tmpfs_mounts) {
    std::printf("%-20s %-8llu %-10s %-10s %s %s\n", t.mount_point.c_str(),
                static_cast<unsigned long long>(t.entries), runtime::human_bytes(t.bytes).c_str(),
                t.stream.c_str(), t.mount_options.c_str(), t.fs_options.c_str());
  }
}

}  // namespace

void add_image_command(CLI::App& app, const Globals&, Action& action) {
  auto* image = app.add_subcommand("image", "read checkpoint images without restoring them");
  image->require_subcommand(1);
  auto* inspect = with_example(image->add_subcommand("inspect", "show what an image holds"),
                               "crun-ckpt image inspect --json /var/lib/ckpt/web1");
  auto* verify = with_example(image->add_subcommand("verify", "check every checksum of an image"),
                              "crun-ckpt image verify /var/lib/ckpt/web1");
  struct Args {
    std::string dir;
    bool json = false;
  };
  auto inspect_args = std::make_shared<Args>();
  auto verify_args = std::make_shared<Args>();
  inspect->add_option("dir", inspect_args->dir, "image directory")->required();
  inspect->add_flag("--json", inspect_args->json, "print the whole manifest as JSON");
  verify->add_option("dir", verify_args->dir, "image directory")->required();
  inspect->callback([&action, inspect_args] {
    action = [inspect_args] {
      image::ImageReader reader(inspect_args->dir);
      if (inspect_args->json)
        std::printf("%s\n", reader.manifest().dump(2).c_str());
      else
        print_inspection(reader);
      return 0;
    };
  });
  verify->callback([&action, verify_args] {
    action = [verify_args] {
      image::ImageReader reader(verify_args->dir);
      reader.verify_all();
      std::printf("image %s: %zu files, every checksum matches\n", verify_args->dir.c_str(),
                  reader.files().size());
      return 0;
    };
  });
}

}  // namespace ckpt::cli
