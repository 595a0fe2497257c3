#include <gtest/gtest.h>
#include <signal.h>

#include "common/error.h"
#include "runtime/restore/restore.h"

namespace ckpt::restore {
namespace {

model::Process proc(pid_t pid, pid_t ppid, pid_t pgid, pid_t sid) {
  model::Process p;
  p.pid = pid;
  p.ppid = ppid;
  p.pgid = pgid;
  p.sid = sid;
  p.threads.push_back(model::Thread{.tid = pid});
  return p;
}

model::Checkpoint tree(std::vector<model::Process> ps) {
  model::Checkpoint c;
  c.processes = std::move(ps);
  return c;
}

std::string error_of(const model::Checkpoint& c) {
  try {
    plan_restore(c);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(RestorePlan, ShellLikeTreeKeepsParentsSessionsAndGroups) {
  // 1 session leader; 2 leads group 2; 3 (child of 2) inherits it; 4 has its own session.
  RestorePlan plan =
      plan_restore(tree({proc(1, 0, 1, 1), proc(2, 1, 2, 1), proc(3, 2, 2, 1), proc(4, 1, 4, 4)}));
  ASSERT_EQ(plan.processes.size(), 4u);
  EXPECT_EQ(plan.processes[0].pid, 1);
  EXPECT_EQ(plan.processes[0].parent, -1);
  EXPECT_TRUE(plan.processes[0].setsid);
  const StubSpec& two = plan.processes[plan.index_of(2)];
  EXPECT_FALSE(two.setsid);
  EXPECT_TRUE(two.new_group);
  const StubSpec& three = plan.processes[plan.index_of(3)];
  EXPECT_EQ(three.parent, plan.index_of(2));
  EXPECT_FALSE(three.new_group);
  EXPECT_EQ(three.join_group, 0);  // inherited from its parent
  const StubSpec& four = plan.processes[plan.index_of(4)];
  EXPECT_TRUE(four.setsid);
  EXPECT_FALSE(four.new_group);  // setsid already makes it a group leader
}

TEST(RestorePlan, GroupLeaderSiblingIsCreatedBeforeItsMembers) {
  // A pipeline: 3 joined the group of its younger sibling 5; 5's child 6 stays in it.
  RestorePlan plan =
      plan_restore(tree({proc(1, 0, 1, 1), proc(3, 1, 5, 1), proc(5, 1, 5, 1), proc(6, 5, 5, 1)}));
  ASSERT_EQ(plan.processes.size(), 4u);
  EXPECT_LT(plan.index_of(5), plan.index_of(3));
  EXPECT_EQ(plan.processes[plan.index_of(3)].join_group, 5);
  EXPECT_TRUE(plan.processes[plan.index_of(5)].new_group);
  for (size_t i = 1; i < plan.processes.size(); ++i) {
    EXPECT_LT(plan.processes[i].parent, static_cast<int>(i)) << "parent created after child";
  }
}

TEST(RestorePlan, RootOutsideSessionNeedsNoSetsid) {
  // The init's session and group live outside the namespace (shown as 0).
  RestorePlan plan = plan_restore(tree({proc(1, 0, 0, 0), proc(2, 1, 0, 0)}));
  EXPECT_FALSE(plan.processes[0].setsid);
  EXPECT_FALSE(plan.processes[0].new_group);
  EXPECT_EQ(plan.processes[1].join_group, 0);
}

TEST(RestorePlan, RefusesWhatItCannotRebuild) {
  EXPECT_NE(error_of(tree({})).find("no root"), std::string::npos);
  EXPECT_NE(error_of(tree({proc(7, 0, 7, 7)})).find("pid 1"), std::string::npos);
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), proc(2, 9, 1, 1)})).find("parent pid 9"),
            std::string::npos);
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), proc(1, 0, 1, 1)})).find("twice"), std::string::npos);
  // Session 1 inherited from a parent that later moved to session 2.
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), proc(2, 1, 2, 2), proc(3, 2, 1, 1)}))
                .find("pid 3 is in session 1"),
            std::string::npos);
  // Group leader 9 is gone.
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), proc(2, 1, 9, 1)})).find("group 9"),
            std::string::npos);
  // Zombies: never the root, never a parent, and only with a status a process can die with.
  model::Process zombie = proc(2, 1, 1, 1);
  zombie.zombie = true;
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), zombie, proc(3, 2, 1, 1)}))
                .find("pid 3: its parent pid 2 is a zombie"),
            std::string::npos);
  model::Process zombie_root = proc(1, 0, 1, 1);
  zombie_root.zombie = true;
  EXPECT_NE(error_of(tree({zombie_root})).find("root process cannot be a zombie"),
            std::string::npos);
  for (int bad : {SIGCHLD, SIGSTOP, SIGTSTP | 0x80, 0x7f, 7 << 8 | 1, 1 << 16}) {
    model::Process z = zombie;
    z.exit_status = bad;
    EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), z})).find("exit status"), std::string::npos) << bad;
  }
  model::Process twice = proc(2, 1, 1, 1);
  twice.threads.push_back(model::Thread{.tid = 5});
  twice.threads.push_back(model::Thread{.tid = 5});
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), twice})).find("duplicate thread id 5"),
            std::string::npos);
  model::Process no_threads = proc(2, 1, 1, 1);
  no_threads.threads.clear();
  EXPECT_NE(error_of(tree({proc(1, 0, 1, 1), no_threads})).find("no threads"), std::string::npos);
}

TEST(RestorePlan, AcceptsThreadedProcesses) {
  model::Process threaded = proc(2, 1, 1, 1);
  threaded.threads.push_back(model::Thread{.tid = 5});
  threaded.threads.push_back(model::Thread{.tid = 6});
  RestorePlan plan = plan_restore(tree({proc(1, 0, 1, 1), threaded}));
  ASSERT_EQ(plan.processes.size(), 2u);
  EXPECT_EQ(plan.processes[1].pid, 2);
}

TEST(RestorePlan, ZombieStubsCarryTheirStatusAndGroups) {
  // 2 leads its own group and exited with 42; 3 joined that group and died of SIGTERM; 4 is a
  // live sibling still in 2's group.
  model::Process two = proc(2, 1, 2, 1);
  two.zombie = true;
  two.exit_status = 42 << 8;
  two.comm = "sh";
  two.threads.clear();  // what the dump records for a zombie
  model::Process three = proc(3, 1, 2, 1);
  three.zombie = true;
  three.exit_status = SIGTERM;
  three.threads.clear();
  RestorePlan plan = plan_restore(tree({proc(1, 0, 1, 1), two, three, proc(4, 1, 2, 1)}));
  ASSERT_EQ(plan.processes.size(), 4u);
  const StubSpec& z2 = plan.processes[plan.index_of(2)];
  EXPECT_TRUE(z2.zombie);
  EXPECT_EQ(z2.exit_status, 42 << 8);
  EXPECT_EQ(z2.comm, "sh");
  EXPECT_TRUE(z2.new_group);
  const StubSpec& z3 = plan.processes[plan.index_of(3)];
  EXPECT_TRUE(z3.zombie);
  EXPECT_EQ(z3.exit_status, SIGTERM);
  EXPECT_EQ(z3.join_group, 2);
  EXPECT_LT(plan.index_of(2), plan.index_of(3));  // the group exists before it is joined
  EXPECT_FALSE(plan.processes[plan.index_of(4)].zombie);
  EXPECT_FALSE(plan.processes[0].zombie);
  // A core-dump death is accepted (restored without the core flag).
  model::Process core = proc(5, 1, 1, 1);
  core.zombie = true;
  core.exit_status = SIGSEGV | 0x80;
  EXPECT_EQ(error_of(tree({proc(1, 0, 1, 1), core})), "");
}

}  // namespace
}  // namespace ckpt::restore
