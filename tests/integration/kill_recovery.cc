#include "kill_recovery.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

namespace ckpt::test {

namespace {

int code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Field 22 of /proc/PID/stat (after the last ')' of the comm), 0 if there is no such process.
unsigned long long start_time_of(pid_t pid) {
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(") ");
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field);
  }
  return 0;
}

void sleep_for(std::chrono::microseconds d) {
  struct timespec ts = {static_cast<time_t>(d.count() / 1'000'000),
                        static_cast<long>(d.count() % 1'000'000) * 1000};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

}  // namespace

Background::Background(const Cli& cli, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {binary(), "--root", cli.root()};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    std::vector<char*> raw;
    for (auto& a : argv) raw.push_back(a.data());
    raw.push_back(nullptr);
    execv(raw[0], raw.data());
    _exit(127);
  }
}

Background::~Background() {
  if (pid_ > 0) kill();
}

bool Background::running() {
  if (pid_ <= 0) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == 0) return true;
  if (r == pid_) exit_code_ = code_of(status);
  pid_ = -1;
  return false;
}

bool Background::kill() {
  bool was_running = running();
  if (was_running) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = code_of(status);
    pid_ = -1;
  }
  return was_running;
}

int Background::wait(std::chrono::seconds timeout) {
  wait_until([&] { return !running(); }, timeout);
  if (running()) return -1;
  return exit_code_;
}

KillResult run_killed_after(const Cli& cli, const std::vector<std::string>& args,
                            std::chrono::microseconds delay,
                            const std::function<std::vector<pid_t>()>& also) {
  Background command(cli, args);
  sleep_for(delay);
  std::vector<pid_t> more = also ? also() : std::vector<pid_t>{};
  KillResult result;
  result.hit_running = command.kill();
  for (pid_t pid : more) ::kill(pid, SIGKILL);
  if (!result.hit_running) result.exit_code = command.wait();
  return result;
}

std::vector<std::chrono::microseconds> spread(std::chrono::microseconds span, int count) {
  std::vector<std::chrono::microseconds> out;
  for (int i = 0; i < count; ++i)
    out.push_back(count > 1 ? span * i / (count - 1) : std::chrono::microseconds(0));
  return out;
}

std::chrono::microseconds time_command(const Cli& cli, const std::vector<std::string>& args) {
  auto start = std::chrono::steady_clock::now();
  CommandResult r = cli(args, std::chrono::seconds(120));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return std::chrono::duration_cast<std::chrono::microseconds>(took);
}

std::vector<std::string> partials_of(const std::string& image) {
  std::filesystem::path path(image);
  std::string prefix = "." + path.filename().string() + ".partial-";
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(path.parent_path(), ec))
    if (e.path().filename().string().rfind(prefix, 0) == 0) out.push_back(e.path());
  return out;
}

std::string status_of(const Cli& cli, const std::string& id) {
  CommandResult r = cli({"state", id});
  if (r.exit_code != 0) return "";
  try {
    return nlohmann::json::parse(r.out).value("status", "?");
  } catch (const nlohmann::json::exception&) {
    return "?";
  }
}

std::vector<pid_t> recorded_creator(const Cli& cli, const std::string& id) {
  try {
    auto j = nlohmann::json::parse(slurp(cli.root() + "/" + id + "/state.json"));
    pid_t pid = j.value("creator_pid", 0);
    unsigned long long start = j.value("creator_start_time", 0ULL);
    if (pid > 0 && start != 0 && start_time_of(pid) == start) return {pid};
  } catch (const nlohmann::json::exception&) {
    // Not there yet, or being replaced: nothing to kill at this instant.
  }
  return {};
}

}  // namespace ckpt::test
