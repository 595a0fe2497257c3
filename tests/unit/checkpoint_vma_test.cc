// VMA classification from smaps text (fixtures as the 6.18 kernel prints them) and page-run
// selection from pagemap entries.
#include <gtest/gtest.h>
#include <sys/mman.h>

#include "common/error.h"
#include "runtime/checkpoint/pagemap.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::checkpoint {
namespace {

// Trimmed smaps of a static workload with shared anonymous memory, as 6.18 shows it.
const char* kSmaps = R"(00400000-00401000 r--p 00000000 fe:00 10953129                   /bin/memhog
Size:                  4 kB
Rss:                   4 kB
VmFlags: rd mr mw me sd
00401000-00480000 r-xp 00001000 fe:00 10953129                   /bin/memhog
Size:                508 kB
VmFlags: rd ex mr mw me sd
004c6000-004c9000 rw-p 000c5000 fe:00 10953129                   /bin/memhog
Size:                 12 kB
VmFlags: rd wr mr mw me ac sd
01a8c000-01aae000 rw-p 00000000 00:00 0                          [heap]
Size:                136 kB
VmFlags: rd wr mr mw me ac sd
7f6f75568000-7f6f7556a000 rw-p 00000000 00:06 4                          /dev/zero
VmFlags: rd wr mr mw me ac sd
7f6f7556a000-7f6f7556c000 rw-s 00000000 00:01 1026                       /dev/zero (deleted)
Size:                  8 kB
VmFlags: rd wr sh mr mw me ms sd
7f6f7556e000-7f6f75570000 rw-p 00000000 00:00 0 
VmFlags: rd wr mr mw me ac sd
7f6f75570000-7f6f75574000 r--p 00000000 00:00 0                          [vvar]
VmFlags: rd mr pf io de dd sd
7f6f75574000-7f6f75576000 r--p 00000000 00:00 0                          [vvar_vclock]
VmFlags: rd mr pf io de dd sd
7f6f75576000-7f6f75578000 r-xp 00000000 00:00 0                          [vdso]
VmFlags: rd ex mr mw me de sd
7fff98ea2000-7fff98ec3000 rw-p 00000000 00:00 0                          [stack]
Size:                132 kB
VmFlags: rd wr mr mw me gd ac
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
VmFlags: ex
)";

std::vector<model::Vma> classify_all(const std::string& text, const std::string& root = "/") {
  std::vector<model::Vma> out;
  for (const auto& e : parse_smaps(text)) out.push_back(classify_vma(e, root));
  return out;
}

SmapsEntry one(const std::string& header, const std::string& flags = "rd wr mr mw me") {
  auto entries = parse_smaps(header + "\nVmFlags: " + flags + "\n");
  EXPECT_EQ(entries.size(), 1u);
  return entries.at(0);
}

TEST(CheckpointVma, ParsesSmapsEntriesAndFlags) {
  auto entries = parse_smaps(kSmaps);
  ASSERT_EQ(entries.size(), 12u);
  EXPECT_EQ(entries[0].map.start, 0x400000u);
  EXPECT_EQ(entries[0].map.name, "/bin/memhog");
  EXPECT_TRUE(entries[5].has_flag("sh"));
  EXPECT_TRUE(entries[10].has_flag("gd"));
  EXPECT_EQ(entries[6].map.name, "");
}

TEST(CheckpointVma, ClassifiesEveryKind) {
  auto v = classify_all(kSmaps);
  ASSERT_EQ(v.size(), 12u);
  EXPECT_EQ(v[0].kind, model::VmaKind::file_private);
  EXPECT_EQ(v[0].path, "/bin/memhog");
  EXPECT_EQ(v[1].prot, PROT_READ | PROT_EXEC);
  EXPECT_EQ(v[2].offset, 0xc5000u);
  EXPECT_EQ(v[3].kind, model::VmaKind::anonymous_private);
  EXPECT_EQ(v[3].name, "[heap]");
  EXPECT_EQ(v[4].kind, model::VmaKind::anonymous_private);  // MAP_PRIVATE of /dev/zero
  EXPECT_EQ(v[5].kind, model::VmaKind::anonymous_shared);
  EXPECT_EQ(v[5].shared_id, 1026u);
  EXPECT_EQ(v[5].flags, MAP_SHARED);
  EXPECT_EQ(v[6].kind, model::VmaKind::anonymous_private);
  EXPECT_EQ(v[7].kind, model::VmaKind::vvar);
  EXPECT_EQ(v[8].kind, model::VmaKind::vvar);
  EXPECT_EQ(v[8].name, "[vvar_vclock]");
  EXPECT_EQ(v[9].kind, model::VmaKind::vdso);
  EXPECT_EQ(v[10].kind, model::VmaKind::anonymous_private);
  EXPECT_EQ(v[10].flags, MAP_PRIVATE | MAP_GROWSDOWN);
  EXPECT_EQ(v[11].kind, model::VmaKind::vsyscall);
}

TEST(CheckpointVma, SharedFileAndNamedShmem) {
  auto v =
      classify_vma(one("7f0000000000-7f0000002000 rw-s 00000000 00:1a 77   /dev/shm/ring"), "/");
  EXPECT_EQ(v.kind, model::VmaKind::file_shared);
  EXPECT_EQ(v.path, "/dev/shm/ring");
  v = classify_vma(one("7f0000000000-7f0000002000 rw-s 00000000 00:01 99   [anon_shmem:ring]"),
                   "/");
  EXPECT_EQ(v.kind, model::VmaKind::anonymous_shared);
  EXPECT_EQ(v.shared_id, 99u);
  v = classify_vma(one("7f0000000000-7f0000002000 rw-p 00000000 00:00 0   [anon:arena]"), "/");
  EXPECT_EQ(v.kind, model::VmaKind::anonymous_private);
}

TEST(CheckpointVma, TranslatesPathsUnderTheContainerRoot) {
  auto v = classify_vma(one("00400000-00401000 r--p 00000000 fe:00 5   /srv/rootfs/bin/app"),
                        "/srv/rootfs");
  EXPECT_EQ(v.path, "/bin/app");
  EXPECT_EQ(container_path("/srv/rootfs", "/srv/rootfs"), "/");
  EXPECT_EQ(container_path("/srv/rootfsx/a", "/srv/rootfs"), "");
  EXPECT_EQ(container_path("/a/b", "/"), "/a/b");
}

void expect_refused(const SmapsEntry& e, const std::string& needle, const std::string& root = "/") {
  try {
    classify_vma(e, root);
    ADD_FAILURE() << "accepted " << e.map.name;
  } catch (const Error& err) {
    EXPECT_NE(std::string(err.what()).find(needle), std::string::npos) << err.what();
  }
}

TEST(CheckpointVma, RefusesWhatCannotBeRestored) {
  expect_refused(one("7f0000000000-7f0000001000 r--p 00000000 fe:00 5   /tmp/gone (deleted)"),
                 "deleted");
  expect_refused(one("7f0000000000-7f0000001000 rw-s 00000000 00:01 5   /SYSV00000000 (deleted)"),
                 "System V");
  expect_refused(one("7f0000000000-7f0000001000 rw-s 00000000 00:01 5   /memfd:buf (deleted)"),
                 "memfd");
  expect_refused(one("00400000-00401000 r--p 00000000 fe:00 5   /usr/bin/app"), "not reachable",
                 "/srv/rootfs");
  expect_refused(
      one("7f0000000000-7f0000001000 rw-s 00000000 00:05 5   /dev/fb0", "rd wr sh io pf"),
      "device");
  expect_refused(
      one("7f0000000000-7f0000200000 rw-p 00000000 00:0f 5   /anon_hugepage", "rd wr ht"),
      "hugetlb");
  expect_refused(one("7f0000000000-7f0000001000 r--p 00000000 00:00 0   [uprobes]"), "unknown");
}

TEST(CheckpointVma, RefusalNamesTheMapping) {
  expect_refused(one("7f0000000000-7f0000001000 r--p 00000000 fe:00 5   /tmp/gone (deleted)"),
                 "mapping 7f0000000000-7f0000001000 /tmp/gone (deleted)");
}

TEST(CheckpointVma, MappingOfADeletedFileHeldOpenMapsItsGhost) {
  // The inode (00:2a, 77) is held open by an fd of the container: ghost 3.
  GhostLookup ghosts = [](unsigned dev_major, unsigned dev_minor, uint64_t ino) -> uint64_t {
    return dev_major == 0 && dev_minor == 0x2a && ino == 77 ? 3 : 0;
  };
  model::Vma v = classify_vma(
      one("7f0000000000-7f0000002000 rw-s 00001000 00:2a 77   /srv/rootfs/tmp/x (deleted)"),
      "/srv/rootfs", ghosts);
  EXPECT_EQ(v.kind, model::VmaKind::file_shared);
  EXPECT_EQ(v.ghost_id, 3u);
  EXPECT_EQ(v.path, "/tmp/x");
  EXPECT_EQ(v.offset, 0x1000u);
  model::Vma p = classify_vma(
      one("7f0000000000-7f0000001000 r--p 00000000 00:2a 77   /tmp/x (deleted)"), "/", ghosts);
  EXPECT_EQ(p.kind, model::VmaKind::file_private);
  EXPECT_EQ(p.ghost_id, 3u);
  // Another inode of the same name, not held open: refused, saying what to do.
  try {
    classify_vma(one("7f0000000000-7f0000001000 r--p 00000000 00:2a 78   /tmp/x (deleted)"), "/",
                 ghosts);
    ADD_FAILURE() << "accepted a mapping of a deleted file nobody holds open";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no fd of the container holds it open"), std::string::npos)
        << e.what();
  }
}

TEST(CheckpointPagemap, SelectsTouchedPages) {
  const uint64_t e[] = {kPmPresent, kPmPresent | kPmFileOrShared, 0, kPmSwapped, kPmPresent, 0};
  std::vector<model::PageRun> runs;
  append_runs(0x10000, e, 6, PageSelect::touched, runs);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].start, 0x10000u);
  EXPECT_EQ(runs[0].npages, 2u);
  EXPECT_EQ(runs[1].start, 0x13000u);
  EXPECT_EQ(runs[1].npages, 2u);
  EXPECT_EQ(total_pages(runs), 4u);
}

TEST(CheckpointPagemap, FilePrivateKeepsOnlyAnonymousCopies) {
  // present file page (shared with the page cache), COW copy, swapped copy, absent
  const uint64_t e[] = {kPmPresent | kPmFileOrShared, kPmPresent, kPmSwapped, 0};
  std::vector<model::PageRun> runs;
  append_runs(0x400000, e, 4, PageSelect::anonymous_only, runs);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].start, 0x401000u);
  EXPECT_EQ(runs[0].npages, 2u);
}

TEST(CheckpointPagemap, MergesAcrossChunks) {
  const uint64_t e[] = {kPmPresent, kPmPresent};
  std::vector<model::PageRun> runs;
  append_runs(0x1000, e, 2, PageSelect::touched, runs);
  append_runs(0x3000, e, 2, PageSelect::touched, runs);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].npages, 4u);
}

}  // namespace
}  // namespace ckpt::checkpoint
