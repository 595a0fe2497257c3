// Fd classification from fixtures of /proc/PID/fd links, fdinfo and stat modes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/error.h"
#include "runtime/checkpoint/fd_classify.h"

namespace ckpt::checkpoint {
namespace {

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

std::string refusal(const FdFacts& f, const PipeEnds& pipes = {}, const std::string& root = "/") {
  try {
    classify_fd(f, root, pipes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(CheckpointFd, ParsesFdinfo) {
  FdInfo i = parse_fdinfo("pos:\t4096\nflags:\t02102001\nmnt_id:\t24\nino:\t3\n");
  EXPECT_EQ(i.pos, 4096u);
  EXPECT_EQ(i.flags, 02102001);
  EXPECT_EQ(i.mnt_id, 24);
}

TEST(CheckpointFd, RegularFileKeepsPathPosAndFlags) {
  auto f = facts(3, "/data/log", S_IFREG | 0644, "pos:\t123\nflags:\t02102001\n");
  model::Fd fd = classify_fd(f, "/", {});
  EXPECT_EQ(fd.kind, model::FdKind::regular);
  EXPECT_EQ(fd.path, "/data/log");
  EXPECT_EQ(fd.pos, 123u);
  EXPECT_TRUE(fd.cloexec);
  EXPECT_EQ(fd.flags & O_CLOEXEC, 0);
  EXPECT_NE(fd.flags & O_APPEND, 0);
  EXPECT_EQ(fd.flags & O_ACCMODE, O_WRONLY);
  EXPECT_TRUE(fd.external.empty());
}

TEST(CheckpointFd, DirectoryAndRootTranslation) {
  auto f = facts(4, "/srv/rootfs/etc", S_IFDIR | 0755, "pos:\t0\nflags:\t0200000\n");
  model::Fd fd = classify_fd(f, "/srv/rootfs", {});
  EXPECT_EQ(fd.kind, model::FdKind::directory);
  EXPECT_EQ(fd.path, "/etc");
}

TEST(CheckpointFd, StdioFromOutsideIsExternal) {
  PipeEnds pipes;
  auto in = facts(0, "/dev/null", S_IFCHR | 0666, "pos:\t0\nflags:\t0100000\n", 5, makedev(1, 3));
  auto out = facts(1, "pipe:[777]", S_IFIFO | 0600, "pos:\t0\nflags:\t01\n", 777);
  auto err =
      facts(2, "/dev/pts/3", S_IFCHR | 0620, "pos:\t0\nflags:\t0102002\n", 6, makedev(136, 3));
  pipes.add(out);
  model::Fd a = classify_fd(in, "/", pipes), b = classify_fd(out, "/", pipes),
            c = classify_fd(err, "/", pipes);
  EXPECT_EQ(a.external, "stdin");
  EXPECT_EQ(b.external, "stdout");
  EXPECT_EQ(b.kind, model::FdKind::pipe);
  EXPECT_EQ(c.external, "stderr");
  EXPECT_EQ(c.kind, model::FdKind::tty);
  EXPECT_EQ(c.path, "external:stderr");
}

TEST(CheckpointFd, RefusesSocketsNamingTheFamily) {
  auto s = facts(5, "socket:[12345]", S_IFSOCK | 0777, "pos:\t0\nflags:\t02\n");
  s.socket_family = "unix";
  EXPECT_EQ(refusal(s),
            "socket:[12345] (unix sockets are not supported yet; close it before "
            "checkpointing)");
  s.socket_family = "";
  EXPECT_NE(refusal(s).find("sockets are not supported"), std::string::npos);
}

TEST(CheckpointFd, RefusesAnonInodes) {
  for (const char* link : {"anon_inode:[eventfd]", "anon_inode:[eventpoll]",
                           "anon_inode:[signalfd]", "anon_inode:[timerfd]", "anon_inode:inotify"}) {
    auto f = facts(6, link, S_IFREG | 0600, "pos:\t0\nflags:\t02\n");
    std::string r = refusal(f);
    EXPECT_NE(r.find(link), std::string::npos) << r;
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

TEST(CheckpointFd, RefusesDeletedAndUnreachableFiles) {
  EXPECT_NE(refusal(facts(3, "/tmp/x (deleted)", S_IFREG | 0600, "")).find("deleted"),
            std::string::npos);
  EXPECT_NE(refusal(facts(3, "/etc/passwd", S_IFREG | 0600, ""), {}, "/srv/rootfs")
                .find("outside the container's root"),
            std::string::npos);
  EXPECT_NE(refusal(facts(3, "/memfd:x (deleted)", S_IFREG | 0600, "")).find("memfd"),
            std::string::npos);
}

TEST(CheckpointFd, CharacterDevicesBeyondStdio) {
  auto null = facts(3, "/dev/null", S_IFCHR | 0666, "flags:\t02\n", 5, makedev(1, 3));
  EXPECT_EQ(classify_fd(null, "/", {}).kind, model::FdKind::regular);
  EXPECT_EQ(classify_fd(null, "/", {}).path, "/dev/null");
  auto tty = facts(3, "/dev/pts/1", S_IFCHR | 0620, "flags:\t02\n", 6, makedev(136, 1));
  EXPECT_NE(refusal(tty).find("terminals"), std::string::npos);
  auto kvm = facts(3, "/dev/kvm", S_IFCHR | 0660, "flags:\t02\n", 7, makedev(10, 232));
  EXPECT_NE(refusal(kvm).find("character device 10:232"), std::string::npos);
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
