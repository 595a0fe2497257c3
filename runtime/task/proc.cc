#include "runtime/task/proc.h"

#include <dirent.h>

#include <algorithm>
#include <sstream>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::task {

namespace {
std::vector<pid_t> parse_pids(const std::string& value) {
  std::vector<pid_t> out;
  std::istringstream in(value);
  pid_t p;
  while (in >> p) out.push_back(p);
  return out;
}
}  // namespace

ProcStatus parse_proc_status(const std::string& text) {
  ProcStatus st;
  for_each_proc_field(text, [&st](const std::string& key, const std::string& value) {
    if (key == "Name")
      st.name = value;
    else if (key == "State" && !value.empty())
      st.state = value[0];
    else if (key == "Pid")
      st.pid = std::stoi(value);
    else if (key == "Tgid")
      st.tgid = std::stoi(value);
    else if (key == "PPid")
      st.ppid = std::stoi(value);
    else if (key == "NSpid")
      st.nspid = parse_pids(value);
    else if (key == "NStgid")
      st.nstgid = parse_pids(value);
  });
  return st;
}

ProcStatus read_proc_status(pid_t pid, pid_t tgid) {
  std::string path =
      tgid > 0 ? "/proc/" + std::to_string(tgid) + "/task/" + std::to_string(pid) + "/status"
               : "/proc/" + std::to_string(pid) + "/status";
  return parse_proc_status(read_file(path));
}

std::vector<pid_t> list_threads(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/task";
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) throw sys_error("open " + path);
  std::vector<pid_t> out;
  while (dirent* ent = readdir(dir)) {
    if (ent->d_name[0] == '.') continue;
    out.push_back(std::stoi(ent->d_name));
  }
  closedir(dir);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace ckpt::task
