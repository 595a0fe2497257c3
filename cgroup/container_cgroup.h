// The Cgroup of one container: a directory in each hierarchy (hierarchy.h), one of which hosts
// the freezer and is the one tasks are listed from.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "cgroup/cgroup.h"
#include "cgroup/freezer.h"
#include "cgroup/hierarchy.h"
#include "cgroup/kernel.h"

namespace ckpt::cgroup {

class ContainerCgroup final : public Cgroup {
 public:
  // `freezer_member` indexes `members`: the directory whose hierarchy freezes and lists tasks.
  ContainerCgroup(std::shared_ptr<Kernel> kernel, std::vector<Member> members,
                  size_t freezer_member, FreezerKind kind);

  std::string path() const override { return freezer_.dir(); }
  std::vector<std::string> directories() const override;

  void add_process(pid_t pid) override;
  void apply(const config::Resources& resources) override;

  void freeze(std::chrono::milliseconds timeout) override { freezer_.freeze(timeout); }
  void thaw(std::chrono::milliseconds timeout) override { freezer_.thaw(timeout); }
  bool frozen() const override { return freezer_.frozen(); }
  FreezerKind freezer() const override { return freezer_.kind(); }

  std::vector<pid_t> processes() const override;
  std::vector<pid_t> threads() const override;
  void kill_all(int sig, std::chrono::milliseconds timeout) override;
  void destroy() override;

 private:
  void kill_everything(std::chrono::milliseconds timeout);
  void signal_each_once(int sig, std::chrono::milliseconds timeout);

  std::shared_ptr<Kernel> kernel_;
  std::vector<Member> members_;
  Freezer freezer_;
};

}  // namespace ckpt::cgroup
