#include "container_fixture.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/parse_values.h"
#include "ns/network.h"

namespace ckpt::test {

std::string yaml_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    std::string escaped;
    for (char c : items[i]) {
      if (c == '"' || c == '\\') escaped += '\\';
      escaped += c;
    }
    out += "\"" + escaped + "\"";
  }
  return out + "]";
}

std::string report_mount(const std::string& dir) {
  return "mounts:\n  - {type: bind, source: " + dir + ", destination: /mnt}\n";
}

std::map<std::string, std::string> parse_key_values(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string item;
  while (in >> item) {
    size_t eq = item.find('=');
    if (eq != std::string::npos) out[item.substr(0, eq)] = item.substr(eq + 1);
  }
  return out;
}

std::vector<std::string> status_pids(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename();
    // status-PID.tmp is a file the workload is about to rename into place.
    if (name.rfind("status-", 0) == 0 && name.find(".tmp") == std::string::npos)
      out.push_back(name.substr(7));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string wait_for_report(const std::string& path, std::chrono::milliseconds timeout) {
  std::string text;
  bool whole = wait_until(
      [&] {
        text = slurp(path);
        return text.size() >= 4 && text.compare(text.size() - 4, 4, "end\n") == 0;
      },
      timeout);
  return whole ? text : "";
}

std::map<std::string, std::string> request_reports(Cli& cli, const std::string& id,
                                                   const std::string& dir, size_t count) {
  for (const auto& pid : status_pids(dir)) std::filesystem::remove(dir + "/report-" + pid);
  EXPECT_EQ(cli({"kill", "-a", id, "USR1"}).exit_code, 0);
  std::map<std::string, std::string> out;
  bool all = wait_until(
      [&] {
        out.clear();
        for (const auto& pid : status_pids(dir)) {
          std::string text = slurp(dir + "/report-" + pid);
          if (text.empty() || text.back() != '\n') return false;
          out[pid] = text;
        }
        return out.size() == count;
      },
      std::chrono::seconds(60));
  EXPECT_TRUE(all) << "not every process of " << id << " reported";
  return out;
}

std::string write_spec(Cli& cli, const std::string& name, const std::vector<std::string>& args,
                       const std::string& extra) {
  std::string text = "name: " + name + "\nprocess:\n  args: " + yaml_list(args) + "\n" + extra;
  return cli.scratch().write(name + ".yaml", text);
}

std::vector<std::string> leftovers(const Cli& cli, const std::string& id,
                                   const std::string& subnet_prefix) {
  std::vector<std::string> found;
  struct stat st;
  for (const char* hierarchy : {"unified", "freezer", "memory", "pids", "cpu", "cpuacct", ""}) {
    std::string base = std::string("/sys/fs/cgroup/") + hierarchy;
    std::string dir = base + (hierarchy[0] ? "/" : "") + "crun-ckpt/" + id;
    if (::stat(dir.c_str(), &st) == 0) found.push_back("cgroup " + dir);
  }
  std::string state = cli.root() + "/" + id;
  if (::stat(state.c_str(), &st) == 0) found.push_back("state " + state);
  // A creator killed before publishing its state directory leaves ".new-PID-START-ID".
  for (const auto& e : std::filesystem::directory_iterator(cli.root())) {
    std::string name = e.path().filename();
    if (name.rfind(".new-", 0) == 0 && name.size() > id.size() + 1 &&
        name.compare(name.size() - id.size() - 1, std::string::npos, "-" + id) == 0)
      found.push_back("staging " + e.path().string());
  }
  for (size_t i = 0; i < 4; ++i) {
    std::string link = "/sys/class/net/" + ns::host_veth_name(id, i);
    if (::stat(link.c_str(), &st) == 0) found.push_back("link " + link);
  }
  if (!subnet_prefix.empty()) {
    config::Ipv4Cidr subnet = config::parse_ipv4_cidr(subnet_prefix + ".1/24");
    std::string bridge = "/sys/class/net/" + ns::bridge_name(subnet);
    if (::stat(bridge.c_str(), &st) == 0) found.push_back("bridge " + bridge);
  }
  return found;
}

namespace {
// Subnets are claimed with an exclusive mkdir, so tests in parallel processes never share one;
// the claims are dropped when this test process exits.
std::vector<std::string>& claimed_subnets() {
  static std::vector<std::string> claims;
  return claims;
}
void release_subnets() {
  for (const auto& dir : claimed_subnets()) ::rmdir(dir.c_str());
}
}  // namespace

std::string unique_subnet_prefix() {
  ::mkdir("/tmp/ckpt-test-subnets", 0700);
  for (int i = 0; i < 250; ++i) {
    int n = (getpid() + i) % 250 + 1;
    std::string claim = "/tmp/ckpt-test-subnets/" + std::to_string(n);
    if (::mkdir(claim.c_str(), 0700) == 0) {
      if (claimed_subnets().empty()) std::atexit(release_subnets);
      claimed_subnets().push_back(claim);
      return "10.199." + std::to_string(n);
    }
  }
  ADD_FAILURE() << "no free test subnet in 10.199.0.0/16";
  return "10.199.255";
}

}  // namespace ckpt::test
