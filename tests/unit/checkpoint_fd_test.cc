// Classification of open file descriptions by the table of file kinds (runtime/files/), from
// fixtures of /proc/PID/fd links, fdinfo and stat: which kind takes a description, what the
// model::File holds, and the refusals with their reasons.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/error.h"
#include "runtime/checkpoint/fd_facts.h"
#include "runtime/files/file_kinds.h"
#include "runtime/files/ghost_inodes.h"

namespace ckpt::checkpoint {
namespace {

using files::Classified;
using files::ClassifyEnv;
using files::Description;

FdFacts facts(int fd, const std::string& link, mode_t mode, const std::string& fdinfo,
              ino_t ino = 1, dev_t rdev = 0) {
  FdFacts f;
  f.fd = fd;
  f.link = link;
  f.mode = mode;
  f.ino = ino;
  f.rdev = rdev;
  f.info = parse_fdinfo(fdinfo);
  return f;
}

// A description held by pid 1 at the fact's own fd, plus any `more` fds.
Description held(const FdFacts& f, std::vector<int> more = {}) {
  Description d{f, {{100, 1, f.fd, false}}};
  for (int fd : more) d.holders.push_back({100, 1, fd, false});
  return d;
}

Classified judge(const Description& d, const std::string& root = "/", const PipeEnds& pipes = {},
                 std::vector<FileId> external_stdio = {}, files::GhostInodes* ghosts = nullptr) {
  files::GhostInodes own;
  ClassifyEnv env{root, pipes, std::move(external_stdio), ghosts ? ghosts : &own};
  return files::classify(d, env);
}

std::string refusal(const FdFacts& f, const PipeEnds& pipes = {}, const std::string& root = "/") {
  return judge(held(f), root, pipes).verdict.refusal;
}

TEST(CheckpointFd, ParsesFdinfo) {
  FdInfo i = parse_fdinfo("pos:\t4096\nflags:\t02102001\nmnt_id:\t24\nino:\t3\n");
  EXPECT_EQ(i.pos, 4096u);
  EXPECT_EQ(i.flags, 02102001);
  EXPECT_EQ(i.mnt_id, 24);
}

TEST(CheckpointFd, RegularFileKeepsPathPosAndFlags) {
  auto f = facts(3, "/data/log", S_IFREG | 0644, "pos:\t123\nflags:\t02102001\n");
  Classified c = judge(held(f));
  ASSERT_TRUE(c.verdict.ok()) << c.verdict.refusal;
  EXPECT_EQ(c.file.kind, model::FileKind::regular);
  EXPECT_EQ(c.file.path, "/data/log");
  EXPECT_EQ(c.file.pos, 123u);
  EXPECT_EQ(c.file.flags & O_CLOEXEC, 0) << "close-on-exec belongs to the fd, not the file";
  EXPECT_NE(c.file.flags & O_APPEND, 0);
  EXPECT_EQ(c.file.flags & O_ACCMODE, O_WRONLY);
  EXPECT_EQ(files::flags_text(c.file.flags), "O_WRONLY|O_APPEND");
}

TEST(CheckpointFd, DirectoryAndRootTranslation) {
  auto f = facts(4, "/srv/rootfs/etc", S_IFDIR | 0755, "pos:\t0\nflags:\t0200000\n");
  Classified c = judge(held(f), "/srv/rootfs");
  ASSERT_TRUE(c.verdict.ok()) << c.verdict.refusal;
  EXPECT_EQ(c.file.kind, model::FileKind::directory);
  EXPECT_EQ(c.file.path, "/etc");
}

TEST(CheckpointFd, StdioFromOutsideIsExternal) {
  PipeEnds pipes;
  auto in = facts(0, "/dev/null", S_IFCHR | 0666, "pos:\t0\nflags:\t0100000\n", 5, makedev(1, 3));
  auto out = facts(1, "pipe:[777]", S_IFIFO | 0600, "pos:\t0\nflags:\t01\n", 777);
  auto err =
      facts(2, "/dev/pts/3", S_IFCHR | 0620, "pos:\t0\nflags:\t0102002\n", 6, makedev(136, 3));
  pipes.add(out);
  Classified a = judge(held(in), "/", pipes), b = judge(held(out), "/", pipes),
             c = judge(held(err), "/", pipes);
  for (const Classified* x : {&a, &b, &c}) {
    ASSERT_TRUE(x->verdict.ok()) << x->verdict.refusal;
    EXPECT_EQ(x->file.kind, model::FileKind::external);
  }
  EXPECT_EQ(a.file.stdio, "stdin");
  EXPECT_EQ(b.file.stdio, "stdout");
  EXPECT_EQ(b.file.was, "pipe:[777]");
  EXPECT_EQ(c.file.stdio, "stderr");
  EXPECT_EQ(c.file.was, "/dev/pts/3");
}

TEST(CheckpointFd, StdioDuplicatedAboveTwoStaysExternal) {
  // `exec 5>&1` on a pipe from outside: one description held at fd 1 and fd 5; it is the
  // container's stdout wherever it is held, and fd 5 alone would have been refused.
  PipeEnds pipes;
  auto out = facts(5, "pipe:[777]", S_IFIFO | 0600, "flags:\t01\n", 777);
  pipes.add(out);
  EXPECT_NE(judge(held(out), "/", pipes).verdict.refusal.find("outside the container"),
            std::string::npos);
  Classified c = judge(held(out, {1}), "/", pipes);
  ASSERT_TRUE(c.verdict.ok()) << c.verdict.refusal;
  EXPECT_EQ(c.file.kind, model::FileKind::external);
  EXPECT_EQ(c.file.stdio, "stdout");
}

TEST(CheckpointFd, LogFileGivenAsStdioIsExternalOnlyAtStdio) {
  auto log = facts(1, "/var/log/c.log", S_IFREG | 0600, "flags:\t02001\n", 42);
  log.dev = 7;
  Classified c = judge(held(log), "/", {}, {FileId{7, 42}});
  ASSERT_TRUE(c.verdict.ok());
  EXPECT_EQ(c.file.kind, model::FileKind::external);
  // The same inode not given as stdio is a plain file reopened by path.
  EXPECT_EQ(judge(held(log)).file.kind, model::FileKind::regular);
}

TEST(CheckpointFd, RefusesSocketsNamingTheFamily) {
  auto s = facts(5, "socket:[12345]", S_IFSOCK | 0777, "pos:\t0\nflags:\t02\n");
  s.socket_family = "unix";
  EXPECT_EQ(refusal(s), "unix sockets are not supported yet; close it before checkpointing");
  s.socket_family = "";
  EXPECT_NE(refusal(s).find("sockets are not supported"), std::string::npos);
}

TEST(CheckpointFd, RefusesAnonInodes) {
  for (const char* link : {"anon_inode:[eventfd]", "anon_inode:[eventpoll]",
                           "anon_inode:[signalfd]", "anon_inode:[timerfd]", "anon_inode:inotify"}) {
    auto f = facts(6, link, S_IFREG | 0600, "pos:\t0\nflags:\t02\n");
    std::string r = refusal(f);
    EXPECT_NE(r.find("not supported"), std::string::npos) << r;
  }
  EXPECT_NE(refusal(facts(6, "anon_inode:[eventfd]", S_IFREG, "")).find("eventfd file"),
            std::string::npos);
}

TEST(CheckpointFd, RefusesInternalPipesAndOutsidePipesBeyondStdio) {
  PipeEnds pipes;
  auto r = facts(3, "pipe:[900]", S_IFIFO | 0600, "flags:\t00\n", 900);
  auto w = facts(4, "pipe:[900]", S_IFIFO | 0600, "flags:\t01\n", 900);
  pipes.add(r);
  pipes.add(w);
  EXPECT_TRUE(pipes.internal(900));
  EXPECT_NE(refusal(r, pipes).find("between tasks of the container"), std::string::npos);
  // Even at fd 1, a pipe whose reader is in the container is internal.
  auto w1 = facts(1, "pipe:[900]", S_IFIFO | 0600, "flags:\t01\n", 900);
  EXPECT_NE(refusal(w1, pipes).find("between tasks"), std::string::npos);

  PipeEnds only_write;
  auto outside = facts(7, "pipe:[901]", S_IFIFO | 0600, "flags:\t01\n", 901);
  only_write.add(outside);
  EXPECT_NE(refusal(outside, only_write).find("outside the container"), std::string::npos);
}

TEST(CheckpointFd, RefusesUnreachableFiles) {
  EXPECT_NE(refusal(facts(3, "/etc/passwd", S_IFREG | 0600, ""), {}, "/srv/rootfs")
                .find("outside the container's root"),
            std::string::npos);
  EXPECT_NE(refusal(facts(3, "/memfd:x (deleted)", S_IFREG | 0600, "")).find("memfd"),
            std::string::npos);
  EXPECT_NE(refusal(facts(3, "/tmp/d (deleted)", S_IFDIR | 0700, "")).find("directory was deleted"),
            std::string::npos);
}

TEST(CheckpointFd, DeletedFileBecomesAGhostOncePerInode) {
  files::GhostInodes ghosts;
  auto a = facts(3, "/tmp/x (deleted)", S_IFREG | 0640, "pos:\t10\nflags:\t02\n", 77);
  a.nlink = 0;
  a.size = 5000;
  a.blocks = 16;
  a.uid = 1000;
  a.gid = 100;
  auto b = a;  // another open of the same inode: another description, the same ghost
  b.fd = 4;
  b.info.pos = 20;
  Classified ca = judge(held(a), "/", {}, {}, &ghosts);
  Classified cb = judge(held(b), "/", {}, {}, &ghosts);
  ASSERT_TRUE(ca.verdict.ok()) << ca.verdict.refusal;
  ASSERT_TRUE(cb.verdict.ok()) << cb.verdict.refusal;
  EXPECT_EQ(ca.file.kind, model::FileKind::ghost);
  EXPECT_EQ(ca.file.path, "/tmp/x");
  EXPECT_EQ(ca.file.pos, 10u);
  EXPECT_EQ(cb.file.pos, 20u);
  EXPECT_EQ(ca.file.ghost_id, cb.file.ghost_id);
  ASSERT_EQ(ghosts.files().size(), 1u);
  const model::GhostFile& g = ghosts.files()[0];
  EXPECT_EQ(g.id, ca.file.ghost_id);
  EXPECT_EQ(g.path, "/tmp/x");
  EXPECT_EQ(g.size, 5000u);
  EXPECT_EQ(g.mode, S_IFREG | 0640u);
  EXPECT_EQ(g.uid, 1000u);
  EXPECT_EQ(g.gid, 100u);
  EXPECT_FALSE(g.stream.empty());
  // A different inode on another filesystem with the same inode number is another ghost.
  auto c = a;
  c.dev = 9;
  EXPECT_NE(judge(held(c), "/", {}, {}, &ghosts).file.ghost_id, ca.file.ghost_id);
  EXPECT_EQ(ghosts.find(0, 0, 77), ca.file.ghost_id);
  EXPECT_EQ(ghosts.find(0, 0, 78), 0u);
}

TEST(CheckpointFd, DeletedFileStillLinkedElsewhereIsRefused) {
  auto f = facts(3, "/tmp/x (deleted)", S_IFREG | 0600, "");
  f.nlink = 1;
  EXPECT_NE(refusal(f).find("still has 1 other link"), std::string::npos) << refusal(f);
}

TEST(CheckpointFd, DeletedFilesBeyondTheLimitAreRefused) {
  files::GhostInodes ghosts(1 << 20);  // 1 MiB
  auto sparse = facts(3, "/tmp/big (deleted)", S_IFREG | 0600, "", 1);
  sparse.nlink = 0;
  sparse.size = 64 << 20;  // 64 MiB long, 512 KiB of data: counted as its data
  sparse.blocks = 1024;
  EXPECT_TRUE(judge(held(sparse), "/", {}, {}, &ghosts).verdict.ok());
  auto more = sparse;
  more.ino = 2;
  more.link = "/tmp/more (deleted)";
  more.size = 600 << 10;
  more.blocks = 1200;
  std::string r = judge(held(more), "/", {}, {}, &ghosts).verdict.refusal;
  EXPECT_NE(r.find("deleted file holding 1 MiB"), std::string::npos) << r;
  EXPECT_NE(r.find("up to 1 MiB in all"), std::string::npos) << r;
  EXPECT_NE(r.find("close it or truncate it"), std::string::npos) << r;
  EXPECT_EQ(ghosts.files().size(), 1u) << "a refused ghost must not be recorded";
}

TEST(CheckpointFd, CharacterDevicesBeyondStdio) {
  auto null = facts(3, "/dev/null", S_IFCHR | 0666, "pos:\t7\nflags:\t02\n", 5, makedev(1, 3));
  Classified c = judge(held(null));
  ASSERT_TRUE(c.verdict.ok());
  EXPECT_EQ(c.file.kind, model::FileKind::device);
  EXPECT_EQ(c.file.path, "/dev/null");
  EXPECT_EQ(c.file.pos, 0u);
  auto tty = facts(3, "/dev/pts/1", S_IFCHR | 0620, "flags:\t02\n", 6, makedev(136, 1));
  EXPECT_NE(refusal(tty).find("terminals"), std::string::npos);
  auto kvm = facts(3, "/dev/kvm", S_IFCHR | 0660, "flags:\t02\n", 7, makedev(10, 232));
  EXPECT_NE(refusal(kvm).find("character device 10:232"), std::string::npos);
  auto mem = facts(3, "/dev/mem", S_IFCHR | 0600, "flags:\t02\n", 8, makedev(1, 1));
  EXPECT_NE(refusal(mem).find("character device 1:1"), std::string::npos);
}

TEST(CheckpointFd, OtherKindsAreRefused) {
  EXPECT_NE(refusal(facts(3, "/run/fifo", S_IFIFO | 0600, "")).find("cannot be checkpointed yet"),
            std::string::npos);
  EXPECT_NE(refusal(facts(3, "/dev/sda", S_IFBLK | 0600, "")).find("cannot be checkpointed yet"),
            std::string::npos);
}

TEST(CheckpointFd, StdioSlotIsTheLowestStdioHolder) {
  auto f = facts(9, "/x", S_IFREG, "");
  EXPECT_EQ(held(f).stdio_slot(), -1);
  EXPECT_EQ(held(f, {2, 1}).stdio_slot(), 1);
}

TEST(CheckpointFd, EveryKindHasAHandlerFoundByItsName) {
  for (model::FileKind k :
       {model::FileKind::regular, model::FileKind::directory, model::FileKind::device,
        model::FileKind::ghost, model::FileKind::external}) {
    const files::FileKindHandler& h = files::handler(k);
    EXPECT_EQ(h.kind(), k);
    EXPECT_EQ(files::handler_named(h.name()), &h);
  }
  EXPECT_EQ(files::handler_named("pipe"), nullptr);
}

TEST(CheckpointFd, NetTableLookup) {
  const char* unix_table =
      "Num       RefCount Protocol Flags    Type St Inode Path\n"
      "00000000f105f853: 00000003 00000000 00000000 0001 03  1522\n"
      "00000000789748f5: 00000003 00000000 00000000 0001 03  1521 /run/x.sock\n";
  EXPECT_TRUE(net_table_has_inode(unix_table, 1521));
  EXPECT_FALSE(net_table_has_inode(unix_table, 1523));
}

}  // namespace
}  // namespace ckpt::checkpoint
