// Round trip of the checkpoint model through JSON, and refusal of malformed bodies.
#include "runtime/model/model_json.h"

#include <gtest/gtest.h>

#include "common/error.h"

namespace ckpt::model {
namespace {

Checkpoint sample() {
  Checkpoint c;
  c.xsave_features = 0x2e7;
  Process p;
  p.pid = 1;
  p.ppid = 0;
  p.pgid = 1;
  p.sid = 1;
  p.comm = "memhog";
  p.pages_stream = "pages-1";
  p.mm.start_code = 0x400000;
  p.mm.end_code = 0x401000;
  p.mm.brk = 0x1234000;
  p.mm.auxv = {6, 4096, 0, 0};
  p.mm.exe_path = "/bin/memhog";
  p.umask = 077;
  p.cwd = "/tmp";
  p.root = "/";
  p.personality = 0x0040000;
  p.sched_policy = 0;
  p.nice = 5;
  p.uid[0] = 1000;
  p.uid[3] = 1001;
  p.gid[1] = 7;
  p.groups = {4, 27};
  p.cap_bounding = 0x1ffffffffffULL;
  p.cap_effective = 0xffffffffffffffffULL;  // full uint64 range survives
  p.securebits = 3;
  p.no_new_privs = true;
  p.dumpable = 0;
  p.pdeath_signal = 9;
  p.child_subreaper = true;
  p.itimers.push_back(ITimer{0, 1'500'000'000, 250'000'000});
  p.posix_timers.push_back(PosixTimer{3, 1, 0, 34, 0, 0xdeadbeefcafeULL, 700'000, 0, 2});

  Thread t;
  t.tid = 1;
  t.regs_file = "regs-1";
  t.xstate_file = "xstate-1";
  t.fs_base = 0x7f0000001000;
  t.blocked_mask = 1ULL << 9;
  t.pending.push_back(PendingSignal{std::string("\x0a\x00\xff\x80", 4)});
  t.altstack_sp = 0x7000;
  t.altstack_size = 8192;
  t.altstack_flags = 2;
  t.rseq_addr = 0x7f00;
  t.rseq_len = 32;
  t.rseq_sig = 0x53053053;
  t.clear_child_tid = 0x7f10;
  t.comm = "worker-0";
  t.seccomp_mode = 2;
  t.seccomp_filters = {std::string("\x06\x00\x00\x00\x00\x00\xff\x7f", 8)};
  t.seccomp_filter_flags = {2};
  p.threads.push_back(t);
  t.tid = 2;
  t.pending.clear();
  p.threads.push_back(t);

  Vma v;
  v.start = 0x1000;
  v.end = 0x5000;
  v.prot = 3;
  v.flags = 2;
  v.kind = VmaKind::file_private;
  v.name = "/bin/memhog";
  v.path = "/bin/memhog";
  v.offset = 0x2000;
  v.runs = {{0x1000, 1}, {0x3000, 2}};
  p.vmas.push_back(v);
  v = Vma{};
  v.kind = VmaKind::anonymous_shared;
  v.shared_id = 1026;
  p.vmas.push_back(v);
  v.kind = VmaKind::vvar;
  v.name = "[vvar_vclock]";
  p.vmas.push_back(v);
  v = Vma{};
  v.kind = VmaKind::file_shared;
  v.name = "/tmp/gone (deleted)";
  v.path = "/tmp/gone";
  v.ghost_id = 1;
  p.vmas.push_back(v);

  p.sigactions.push_back(SigAction{10, 0x401000, 0x04000000, 0x401100, 1ULL << 11});
  p.shared_pending.push_back(PendingSignal{std::string(128, '\x11')});
  // fd 0 the restore's stdin; fds 3 and 5 one description (dup), fd 4 a directory, fd 6 a
  // deleted file, fd 7 /dev/null.
  p.fds.push_back(Fd{0, 1, false});
  p.fds.push_back(Fd{3, 2, true});
  p.fds.push_back(Fd{4, 3, true});
  p.fds.push_back(Fd{5, 2, false});
  p.fds.push_back(Fd{6, 4, false});
  p.fds.push_back(Fd{7, 5, true});
  c.files.push_back(
      File{.id = 1, .kind = FileKind::external, .flags = 2, .stdio = "stdin", .was = "/dev/pts/3"});
  c.files.push_back(
      File{.id = 2, .kind = FileKind::regular, .flags = 02101, .pos = 4096, .path = "/data/log"});
  c.files.push_back(
      File{.id = 3, .kind = FileKind::directory, .flags = 0200000, .pos = 77, .path = "/etc"});
  c.files.push_back(File{.id = 4,
                         .kind = FileKind::ghost,
                         .flags = 02,
                         .pos = 1 << 20,
                         .path = "/tmp/gone",
                         .ghost_id = 1});
  c.files.push_back(File{.id = 5, .kind = FileKind::device, .flags = 02, .path = "/dev/null"});
  c.ghost_files.push_back(GhostFile{.id = 1,
                                    .path = "/tmp/gone",
                                    .size = 3 << 20,
                                    .mode = 0100640,
                                    .uid = 1000,
                                    .gid = 100,
                                    .stream = "ghost-1",
                                    .runs = {{0, 4096}, {1 << 20, 8192}}});
  p.rlimits.push_back(Rlimit{7, 1024, 4096});
  p.rlimits.push_back(Rlimit{3, 8 << 20, ~0ULL});
  c.processes.push_back(p);

  Process child = p;
  child.pid = 2;
  child.ppid = 1;
  child.threads.resize(1);
  child.threads[0].tid = 2;
  child.pages_stream = "pages-2";
  c.processes.push_back(child);

  c.shared_memory.push_back(SharedMemory{1026, 8192, "shm-1026"});
  c.tmpfs_mounts.push_back(
      TmpfsMount{"/dev", "rw,nosuid", "rw,size=65536k,mode=755", "tmpfs-0", 13, 0});
  c.tmpfs_mounts.push_back(TmpfsMount{"/dev/shm", "rw,nosuid,nodev,noexec,relatime",
                                      "rw,size=65536k", "tmpfs-1", 7, 1ULL << 40});
  return c;
}

TEST(ModelJson, RoundTripIsExact) {
  Checkpoint c = sample();
  nlohmann::json j = to_json(c);
  // Through text too: what the image stores is the serialised form.
  Checkpoint back = checkpoint_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(to_json(back), j);
  // Field by field (defaulted operator==): a field dropped by both writer and reader shows here.
  EXPECT_TRUE(back == c);

  ASSERT_EQ(back.processes.size(), 2u);
  const Process& p = back.processes[0];
  EXPECT_EQ(p.comm, "memhog");
  EXPECT_EQ(p.cap_effective, 0xffffffffffffffffULL);
  EXPECT_EQ(p.uid[3], 1001u);
  EXPECT_EQ(p.groups, (std::vector<uint32_t>{4, 27}));
  ASSERT_EQ(p.threads.size(), 2u);
  ASSERT_EQ(p.threads[0].pending.size(), 1u);
  EXPECT_EQ(p.threads[0].pending[0].siginfo, std::string("\x0a\x00\xff\x80", 4));
  EXPECT_EQ(p.threads[0].rseq_sig, 0x53053053u);
  ASSERT_EQ(p.vmas.size(), 4u);
  EXPECT_EQ(p.vmas[3].ghost_id, 1u);
  EXPECT_EQ(p.vmas[0].kind, VmaKind::file_private);
  ASSERT_EQ(p.vmas[0].runs.size(), 2u);
  EXPECT_EQ(p.vmas[0].runs[1].start, 0x3000u);
  EXPECT_EQ(p.vmas[0].runs[1].npages, 2u);
  EXPECT_EQ(p.vmas[1].shared_id, 1026u);
  EXPECT_EQ(p.vmas[2].name, "[vvar_vclock]");
  EXPECT_EQ(p.fds[3].file, 2u);
  EXPECT_FALSE(p.fds[3].cloexec);
  ASSERT_EQ(back.files.size(), 5u);
  EXPECT_EQ(back.files[0].stdio, "stdin");
  EXPECT_EQ(back.files[1].pos, 4096u);
  EXPECT_EQ(back.files[3].ghost_id, 1u);
  ASSERT_EQ(back.ghost_files.size(), 1u);
  EXPECT_EQ(back.ghost_files[0].runs[1].offset, 1u << 20);
  EXPECT_EQ(p.rlimits[1].hard, ~0ULL);
  EXPECT_EQ(p.shared_pending[0].siginfo, std::string(128, '\x11'));
  EXPECT_EQ(back.processes[1].ppid, 1);
  EXPECT_EQ(back.shared_memory[0].stream, "shm-1026");
  EXPECT_EQ(back.xsave_features, 0x2e7u);
  EXPECT_EQ(p.threads[0].comm, "worker-0");
  ASSERT_EQ(p.threads[0].seccomp_filters.size(), 1u);
  EXPECT_EQ(p.threads[0].seccomp_filters[0].size(), 8u);
  EXPECT_EQ(p.threads[0].seccomp_filter_flags[0], 2u);
  ASSERT_EQ(p.itimers.size(), 1u);
  EXPECT_EQ(p.itimers[0].value_ns, 1'500'000'000u);
  ASSERT_EQ(p.posix_timers.size(), 1u);
  EXPECT_EQ(p.posix_timers[0].id, 3);
  EXPECT_EQ(p.posix_timers[0].sigev_value, 0xdeadbeefcafeULL);
  EXPECT_EQ(back.tmpfs_mounts, c.tmpfs_mounts);
}

TEST(ModelJson, UtsNamesRoundTripAndMayBeAbsent) {
  Checkpoint c = sample();
  c.uts = UtsNames{"changed-at-runtime", "example.org"};
  Checkpoint back = checkpoint_from_json(nlohmann::json::parse(to_json(c).dump()));
  ASSERT_TRUE(back.uts.has_value());
  EXPECT_EQ(back.uts->hostname, "changed-at-runtime");
  EXPECT_EQ(back.uts->domainname, "example.org");
  // Images of containers without a UTS namespace, and older images, have none.
  EXPECT_FALSE(to_json(sample()).contains("uts"));
  EXPECT_FALSE(checkpoint_from_json(to_json(sample())).uts.has_value());
  nlohmann::json j = to_json(c);
  j["uts"].erase("domainname");
  EXPECT_THROW(checkpoint_from_json(j), Error);
}

TEST(ModelJson, SiginfoIsHexInJson) {
  nlohmann::json j = to_json(sample());
  EXPECT_EQ(j["processes"][0]["threads"][0]["pending"][0], "0a00ff80");
  EXPECT_EQ(j["processes"][0]["vmas"][0]["kind"], "file_private");
  EXPECT_EQ(j["files"][2]["kind"], "directory");
  EXPECT_EQ(j["files"][3]["kind"], "ghost");
  EXPECT_EQ(j["files"][3]["ghost"], 1);
  EXPECT_EQ(j["processes"][0]["fds"][1]["file"], 2);
}

TEST(ModelJson, EveryFieldOfTheModelIsCompared) {
  // The defaulted operator== sees each field: changing one makes the models differ.
  Checkpoint a = sample(), b = sample();
  EXPECT_TRUE(a == b);
  b.files[1].pos += 1;
  EXPECT_FALSE(a == b);
  b = sample();
  b.ghost_files[0].runs[0].length += 1;
  EXPECT_FALSE(a == b);
  b = sample();
  b.processes[0].fds[0].cloexec = true;
  EXPECT_FALSE(a == b);
  b = sample();
  b.processes[1].uid[2] = 9;
  EXPECT_FALSE(a == b);
}

TEST(ModelJson, UnknownFileKindIsRefused) {
  nlohmann::json j = to_json(sample());
  j["files"][0]["kind"] = "fanotify";
  try {
    checkpoint_from_json(j);
    FAIL() << "accepted an unknown file kind";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("fanotify"), std::string::npos) << e.what();
  }
}

TEST(ModelJson, OldImagesWithPerFdRecordsBecomeOneFilePerFd) {
  // The body of an image written before open file descriptions were modelled.
  nlohmann::json j = to_json(sample());
  j.erase("files");
  j.erase("ghost_files");
  for (auto& p : j["processes"]) {
    p["fds"] = nlohmann::json::array({{{"fd", 1},
                                       {"kind", "pipe"},
                                       {"path", "external:stdout"},
                                       {"flags", 1},
                                       {"cloexec", false},
                                       {"pos", 0},
                                       {"external", "stdout"}},
                                      {{"fd", 3},
                                       {"kind", "regular"},
                                       {"path", "/data/log"},
                                       {"flags", 02101},
                                       {"cloexec", true},
                                       {"pos", 4096},
                                       {"external", ""}}});
    for (auto& v : p["vmas"]) v.erase("ghost_id");
  }
  Checkpoint back = checkpoint_from_json(j);
  ASSERT_EQ(back.files.size(), 4u);  // two fds in each of two processes
  EXPECT_EQ(back.files[0].kind, FileKind::external);
  EXPECT_EQ(back.files[0].stdio, "stdout");
  EXPECT_EQ(back.files[1].kind, FileKind::regular);
  EXPECT_EQ(back.files[1].path, "/data/log");
  EXPECT_EQ(back.files[1].pos, 4096u);
  ASSERT_EQ(back.processes[1].fds.size(), 2u);
  EXPECT_EQ(back.processes[1].fds[1].file, back.files[3].id);
  EXPECT_TRUE(back.processes[1].fds[1].cloexec);
}

TEST(ModelJson, EmptyCheckpointRoundTrips) {
  Checkpoint back = checkpoint_from_json(to_json(Checkpoint{}));
  EXPECT_TRUE(back.processes.empty());
  EXPECT_TRUE(back.shared_memory.empty());
}

TEST(ModelJson, MissingKeyIsRefusedNamingIt) {
  nlohmann::json j = to_json(sample());
  j["processes"][0].erase("pgid");
  try {
    checkpoint_from_json(j);
    FAIL() << "accepted a process without pgid";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("pgid"), std::string::npos) << e.what();
  }
}

TEST(ModelJson, UnknownEnumValueIsRefused) {
  nlohmann::json j = to_json(sample());
  j["processes"][0]["vmas"][0]["kind"] = "hugetlb";
  EXPECT_THROW(checkpoint_from_json(j), Error);
}

TEST(ModelJson, BadHexIsRefused) {
  nlohmann::json j = to_json(sample());
  j["processes"][0]["shared_pending"][0] = "zz";
  EXPECT_THROW(checkpoint_from_json(j), Error);
  j["processes"][0]["shared_pending"][0] = "abc";
  EXPECT_THROW(checkpoint_from_json(j), Error);
}

TEST(ModelJson, WrongTypeIsRefused) {
  nlohmann::json j = to_json(sample());
  j["processes"][0]["pid"] = "one";
  EXPECT_THROW(checkpoint_from_json(j), Error);
}

TEST(ModelJson, ImagesWithoutTmpfsMountsStillRead) {
  nlohmann::json j = to_json(sample());
  j.erase("tmpfs_mounts");
  EXPECT_TRUE(checkpoint_from_json(j).tmpfs_mounts.empty());
}

TEST(ModelJson, TmpfsMountWithoutItsStreamIsRefused) {
  nlohmann::json j = to_json(sample());
  j["tmpfs_mounts"][1].erase("stream");
  try {
    checkpoint_from_json(j);
    FAIL() << "accepted a tmpfs mount without a stream";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("stream"), std::string::npos) << e.what();
  }
}

TEST(ModelJson, UserNamespaceAndUnmappedGroupsRoundTrip) {
  Checkpoint c = sample();
  c.user_namespace =
      UserNamespace{{{0, 300000, 1000}, {1000, 410000, 64536}}, {{0, 500000, 65536}}, false};
  c.processes[0].unmapped_groups = {0, 4242};
  nlohmann::json j = to_json(c);
  EXPECT_EQ(j["user_namespace"]["setgroups"], "deny");
  EXPECT_EQ(j["user_namespace"]["uid_map"][1], nlohmann::json({1000, 410000, 64536}));
  Checkpoint back = checkpoint_from_json(nlohmann::json::parse(j.dump()));
  EXPECT_EQ(back.user_namespace, c.user_namespace);
  EXPECT_EQ(back.processes[0].unmapped_groups, (std::vector<uint32_t>{0, 4242}));
  EXPECT_EQ(to_json(back), j);

  // Without one the key is absent and stays so.
  EXPECT_FALSE(to_json(sample()).contains("user_namespace"));
  EXPECT_EQ(checkpoint_from_json(to_json(sample())).user_namespace, std::nullopt);

  j["user_namespace"]["setgroups"] = "sometimes";
  EXPECT_THROW(checkpoint_from_json(j), Error);
  j["user_namespace"]["setgroups"] = "allow";
  j["user_namespace"]["gid_map"][0] = nlohmann::json({0, 1});
  EXPECT_THROW(checkpoint_from_json(j), Error);
}

TEST(ModelJson, OptionalKeysMayBeAbsent) {
  nlohmann::json j = to_json(sample());
  j["processes"][0].erase("child_subreaper");
  j["processes"][0].erase("unmapped_groups");
  j["processes"][0]["threads"][0].erase("clear_child_tid");
  Checkpoint back = checkpoint_from_json(j);
  EXPECT_FALSE(back.processes[0].child_subreaper);
  EXPECT_EQ(back.processes[0].threads[0].clear_child_tid, 0u);
}

}  // namespace
}  // namespace ckpt::model
