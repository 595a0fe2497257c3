// Process tree building and ordering, and the /proc field parsers the dump relies on.
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/checkpoint/proc_state.h"
#include "runtime/checkpoint/tree.h"

namespace ckpt::checkpoint {
namespace {

RawProcess proc(pid_t host, pid_t host_ppid, pid_t pid, std::vector<pid_t> children = {}) {
  RawProcess p;
  p.host_pid = host;
  p.host_ppid = host_ppid;
  p.pid = pid;
  p.pgid = 1;
  p.sid = 1;
  p.comm = "p" + std::to_string(pid);
  p.host_tids = {host};
  p.tids = {pid};
  p.host_children = std::move(children);
  return p;
}

TEST(CheckpointTree, ParentsBeforeChildrenInPidOrder) {
  // init(100/1) -> 105/3 -> 107/4 ; init -> 102/2 ; listed in a scrambled order
  std::vector<RawProcess> raw = {proc(107, 105, 4), proc(105, 100, 3, {107}),
                                 proc(100, 50, 1, {105, 102}), proc(102, 100, 2)};
  auto tree = build_tree(raw, 100);
  ASSERT_EQ(tree.size(), 4u);
  EXPECT_EQ(tree[0].pid, 1);
  EXPECT_EQ(tree[0].ppid, 0);
  EXPECT_EQ(tree[1].pid, 2);
  EXPECT_EQ(tree[1].ppid, 1);
  EXPECT_EQ(tree[2].pid, 3);
  EXPECT_EQ(tree[3].pid, 4);
  EXPECT_EQ(tree[3].ppid, 3);
  EXPECT_EQ(tree[3].host_pid, 107);
}

TEST(CheckpointTree, RefusesParentOutside) {
  std::vector<RawProcess> raw = {proc(100, 50, 1), proc(200, 60, 7)};
  try {
    build_tree(raw, 100);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pid 7 (p7)"), std::string::npos) << e.what();
  }
}

TEST(CheckpointTree, RefusesChildOutsideTheCgroup) {
  std::vector<RawProcess> raw = {proc(100, 50, 1, {101, 999}), proc(101, 100, 2)};
  EXPECT_THROW(build_tree(raw, 100), Error);
}

TEST(CheckpointTree, KeepsZombiesWithTheirStatus) {
  // init(100/1) has a zombie child 103/3 (not listed by the cgroup, found through init's
  // children file) that exited with 7.
  RawProcess zombie = proc(103, 100, 3);
  zombie.zombie = true;
  zombie.exit_status = 7 << 8;
  auto tree = build_tree({proc(100, 50, 1, {103, 101}), proc(101, 100, 2), zombie}, 100);
  ASSERT_EQ(tree.size(), 3u);
  EXPECT_FALSE(tree[1].zombie);
  EXPECT_EQ(tree[2].pid, 3);
  EXPECT_EQ(tree[2].ppid, 1);
  EXPECT_TRUE(tree[2].zombie);
  EXPECT_EQ(tree[2].exit_status, 7 << 8);
}

TEST(CheckpointTree, RefusesZombieLeaderWithLiveThreadsAndZombieInit) {
  RawProcess leader = proc(101, 100, 2);
  leader.zombie = true;
  leader.host_tids = {101, 102};
  leader.tids = {2, 3};
  try {
    build_tree({proc(100, 50, 1, {101}), leader}, 100);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pid 2 (p2): its main thread has exited"),
              std::string::npos)
        << e.what();
  }
  RawProcess init = proc(100, 50, 1);
  init.zombie = true;
  EXPECT_THROW(build_tree({init}, 100), Error);
}

TEST(CheckpointTree, RefusesMissingInit) {
  std::vector<RawProcess> raw = {proc(101, 100, 2)};
  EXPECT_THROW(build_tree(raw, 100), Error);
}

TEST(CheckpointProc, ParsesStatWithAwkwardComm) {
  std::string stat =
      "13802 (a) b (c) R 13800 13801 5204 0 -1 4194304 101 0 0 0 0 0 0 0 20 0 1 0 144340 "
      "3133440 361 18446744073709551615 94241748938752 94241748958633 140726961212336 0 0 0 0 "
      "0 0 0 0 0 17 0 0 0 0 0 0 94241748974640 94241748976256 94242620362752 140726961220236 "
      "140726961220256 140726961220256 140726961221611 0";
  StatFields s = parse_stat(stat);
  EXPECT_EQ(s.state, 'R');
  EXPECT_EQ(s.ppid, 13800);
  EXPECT_EQ(s.pgrp, 13801);
  EXPECT_EQ(s.session, 5204);
  EXPECT_EQ(s.start_code, 94241748938752u);
  EXPECT_EQ(s.end_code, 94241748958633u);
  EXPECT_EQ(s.start_stack, 140726961212336u);
  EXPECT_EQ(s.start_data, 94241748974640u);
  EXPECT_EQ(s.end_data, 94241748976256u);
  EXPECT_EQ(s.start_brk, 94242620362752u);
  EXPECT_EQ(s.arg_start, 140726961220236u);
  EXPECT_EQ(s.arg_end, 140726961220256u);
  EXPECT_EQ(s.env_start, 140726961220256u);
  EXPECT_EQ(s.env_end, 140726961221611u);
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_THROW(parse_stat("12 (x) R 1 2"), Error);
}

TEST(CheckpointProc, ParsesStatusCredentials) {
  std::string status =
      "Name:\tcat\nUmask:\t0027\nState:\tR (running)\nUid:\t1000\t1001\t1002\t1003\n"
      "Gid:\t10\t11\t12\t13\nGroups:\t4 27 \nSigIgn:\t0000000000001000\n"
      "SigCgt:\t0000000000000400\nCapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\n"
      "CapEff:\t000001fffeffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000001\n"
      "NoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";
  StatusFields s = parse_status_fields(status);
  EXPECT_EQ(s.uid[0], 1000u);
  EXPECT_EQ(s.uid[3], 1003u);
  EXPECT_EQ(s.gid[2], 12u);
  EXPECT_EQ(s.groups, (std::vector<uint32_t>{4, 27}));
  EXPECT_EQ(s.cap_prm, 0x1fffeffffffULL);
  EXPECT_EQ(s.cap_bnd, 0x1ffffffffffULL);
  EXPECT_EQ(s.cap_amb, 1u);
  EXPECT_TRUE(s.no_new_privs);
  EXPECT_EQ(s.seccomp, 2);
  EXPECT_EQ(s.umask, 027u);
  EXPECT_EQ(s.sig_caught, 0x400u);    // SIGUSR1
  EXPECT_EQ(s.sig_ignored, 0x1000u);  // SIGPIPE
  EXPECT_THROW(parse_status_fields("Uid:\t1 2\n"), Error);
}

TEST(CheckpointProc, ParsesAuxvAndPersonality) {
  uint64_t raw[] = {6, 4096, 33, 0x7fff0000, 0, 0, 99, 99};
  std::string bytes(reinterpret_cast<const char*>(raw), sizeof raw);
  EXPECT_EQ(parse_auxv(bytes), (std::vector<uint64_t>{6, 4096, 33, 0x7fff0000, 0, 0}));
  EXPECT_THROW(parse_auxv("12345"), Error);
  EXPECT_EQ(parse_personality("00400000\n"), 0x400000u);
}

}  // namespace
}  // namespace ckpt::checkpoint
