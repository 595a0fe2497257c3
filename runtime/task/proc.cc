#include "runtime/task/proc.h"

#include <dirent.h>

#include <algorithm>

#include "common/error.h"
#include "common/file_util.h"
#include "common/parse_number.h"

namespace ckpt::task {

ProcStatus parse_proc_status(const std::string& text) {
  ProcStatus st;
  for_each_proc_field(text, [&st](const std::string& key, const std::string& value) {
    if (key == "Name")
      st.name = value;
    else if (key == "State" && !value.empty())
      st.state = value[0];
    else if (key == "Pid")
      st.pid = parse_number<pid_t>(value, "status: Pid");
    else if (key == "Tgid")
      st.tgid = parse_number<pid_t>(value, "status: Tgid");
    else if (key == "PPid")
      st.ppid = parse_number<pid_t>(value, "status: PPid");
    else if (key == "NSpid")
      st.nspid = parse_numbers<pid_t>(value, "status: NSpid");
    else if (key == "NStgid")
      st.nstgid = parse_numbers<pid_t>(value, "status: NStgid");
  });
  return st;
}

ProcStatus read_proc_status(pid_t pid, pid_t tgid) {
  std::string path =
      tgid > 0 ? "/proc/" + std::to_string(tgid) + "/task/" + std::to_string(pid) + "/status"
               : "/proc/" + std::to_string(pid) + "/status";
  std::string text = read_file(path);
  return with_context(path, [&] { return parse_proc_status(text); });
}

namespace {

// The entries of a /proc directory whose names are numbers, sorted. The names are parsed after
// closedir, so a bad one throws without leaking the DIR.
std::vector<int> numbered_entries(const std::string& path, const char* what) {
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) throw sys_error("open " + path);
  std::vector<std::string> names;
  while (dirent* ent = readdir(dir)) {
    if (ent->d_name[0] != '.') names.emplace_back(ent->d_name);
  }
  closedir(dir);
  std::vector<int> out;
  for (const auto& name : names)
    out.push_back(with_context(path, [&] { return parse_number<int>(name, what); }));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::vector<pid_t> list_threads(pid_t pid) {
  return numbered_entries("/proc/" + std::to_string(pid) + "/task", "thread id");
}

std::vector<int> list_fds(pid_t pid) {
  return numbered_entries("/proc/" + std::to_string(pid) + "/fd", "fd");
}

}  // namespace ckpt::task
