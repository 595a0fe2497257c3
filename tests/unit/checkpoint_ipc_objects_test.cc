// Parsing /proc/sysvipc/{shm,sem,msg} and the refusal each IPC object gets
// (runtime/checkpoint/ipc_objects.h). The texts are as kernel 6.x prints them (ipc/shm.c,
// ipc/sem.c, ipc/msg.c *_proc_show).
#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/checkpoint/ipc_objects.h"

namespace ckpt::checkpoint {
namespace {

constexpr const char* kShm =
    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid "
    "     atime      dtime      ctime                   rss                  swap\n"
    "  11223344          0   644                  4096    12     0      0     0     0     0     0 "
    "         0          0 1700000000                     0                     0\n"
    "         0          3  1600               1048576    13    13      2     0     0     0     0 "
    "1700000001          0 1700000000                  8192                     0\n";

constexpr const char* kSem =
    "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
    " -12345678          1   600          3     0     0     0     0          0 1700000000\n";

constexpr const char* kMsg =
    "       key      msqid perms      cbytes       qnum lspid lrpid   uid   gid  cuid  cgid      "
    "stime      rtime      ctime\n"
    "   1234567          2   644          42          2    10     0     0     0     0     0 "
    "1700000000          0 1700000000\n";

TEST(IpcObjects, ParsesSharedMemory) {
  auto objects = parse_sysvipc(SysvKind::shm, kShm);
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0].key, 11223344u);
  EXPECT_EQ(objects[0].id, 0);
  EXPECT_EQ(objects[0].size, 4096u);
  EXPECT_EQ(objects[0].count, 0u);
  EXPECT_EQ(objects[1].key, 0u);
  EXPECT_EQ(objects[1].id, 3);
  EXPECT_EQ(objects[1].size, 1048576u);
  EXPECT_EQ(objects[1].count, 2u);
}

TEST(IpcObjects, NegativeKeyKeepsItsBits) {
  // The key column is a signed %10d; ipcs shows the same bits in hex.
  auto objects = parse_sysvipc(SysvKind::sem, kSem);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].key, static_cast<uint32_t>(-12345678));
  EXPECT_EQ(objects[0].size, 3u);
}

TEST(IpcObjects, ParsesMessageQueues) {
  auto objects = parse_sysvipc(SysvKind::msg, kMsg);
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].id, 2);
  EXPECT_EQ(objects[0].size, 42u);
  EXPECT_EQ(objects[0].count, 2u);
}

TEST(IpcObjects, HeaderOnlyIsEmpty) {
  EXPECT_TRUE(parse_sysvipc(SysvKind::shm, "       key      shmid perms   size\n").empty());
  EXPECT_TRUE(parse_sysvipc(SysvKind::msg, "").empty());
}

TEST(IpcObjects, ColumnsAreFoundByName) {
  // A kernel that adds or reorders columns still parses.
  auto objects = parse_sysvipc(SysvKind::shm, "shmid extra key size nattch\n7 x 5 100 1\n");
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].id, 7);
  EXPECT_EQ(objects[0].key, 5u);
  EXPECT_EQ(objects[0].size, 100u);
}

TEST(IpcObjects, MalformedRowIsNamed) {
  try {
    parse_sysvipc(SysvKind::sem, "key semid nsems\n1 2\n");
    FAIL() << "accepted a short row";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/proc/sysvipc/sem: line 2"), std::string::npos)
        << e.what();
  }
  EXPECT_THROW(parse_sysvipc(SysvKind::sem, "key semid nsems\n1 two 3\n"), Error);
  EXPECT_THROW(parse_sysvipc(SysvKind::shm, "key shmid nattch\n1 2 3\n"), Error);  // no size
}

TEST(IpcObjects, EachObjectIsRefusedByName) {
  IpcListing listing{kShm, kSem, kMsg, {"jobs", "events"}};
  auto lines = ipc_refusals(listing);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0],
            "SysV shared memory segment key 0x00ab4130 id 0 (4096 bytes, 0 attached) is in the "
            "container's IPC namespace; SysV IPC is not captured yet: remove it (ipcrm -m 0) "
            "before checkpointing");
  EXPECT_NE(lines[1].find("key 0x00000000 (private) id 3 (1048576 bytes, 2 attached)"),
            std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("SysV semaphore set key 0xff439eb2 id 1 (3 semaphores)"),
            std::string::npos)
      << lines[2];
  EXPECT_NE(lines[2].find("ipcrm -s 1"), std::string::npos) << lines[2];
  EXPECT_NE(lines[3].find("SysV message queue key 0x0012d687 id 2 (2 messages, 42 bytes)"),
            std::string::npos)
      << lines[3];
  EXPECT_NE(lines[3].find("ipcrm -q 2"), std::string::npos) << lines[3];
  EXPECT_EQ(lines[4],
            "POSIX message queue /jobs is in the container's IPC namespace; POSIX message queues "
            "are not captured yet: remove it (mq_unlink) before checkpointing");
  EXPECT_NE(lines[5].find("POSIX message queue /events"), std::string::npos);
}

TEST(IpcObjects, EmptyNamespaceHasNoRefusal) {
  IpcListing listing{"key shmid size nattch\n", "key semid nsems\n", "key msqid cbytes qnum\n", {}};
  EXPECT_TRUE(ipc_refusals(listing).empty());
}

}  // namespace
}  // namespace ckpt::checkpoint
