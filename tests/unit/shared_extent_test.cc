// model/shared_extent.h: how far the mappings of a checkpoint reach into each shared anonymous
// object, the size an object is dumped with, and the checks a restore makes before creating
// the objects.
#include "runtime/model/shared_extent.h"

#include <gtest/gtest.h>

#include "common/error.h"
#include "runtime/checkpoint/vma_classify.h"

namespace ckpt::model {
namespace {

Vma shared_vma(uint64_t start, uint64_t end, uint64_t id, uint64_t offset) {
  Vma v;
  v.start = start;
  v.end = end;
  v.kind = VmaKind::anonymous_shared;
  v.shared_id = id;
  v.offset = offset;
  return v;
}

Process process(pid_t pid, std::vector<Vma> vmas) {
  Process p;
  p.pid = pid;
  p.vmas = std::move(vmas);
  return p;
}

std::string error_of(const Checkpoint& ck) {
  try {
    check_shared_memory(ck);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(SharedExtent, FurthestOffsetPlusLengthOverAllProcesses) {
  Vma priv;
  priv.start = 0x1000;
  priv.end = 0x100000;  // private memory never counts
  std::vector<Process> procs = {
      process(1, {priv, shared_vma(0x7000000, 0x7400000, 7, 0)}),
      // The child unmapped the first half: its mapping starts 2 MiB into the object.
      process(2, {shared_vma(0x7200000, 0x7401000, 7, 0x200000)}),
      process(3, {shared_vma(0x9000000, 0x9002000, 9, 0x3000)}),
  };
  auto extents = shared_extents(procs);
  ASSERT_EQ(extents.size(), 2u);
  EXPECT_EQ(extents[7], 0x401000u);
  EXPECT_EQ(extents[9], 0x5000u);
}

TEST(SharedExtent, NoSharedMappingsNoExtents) {
  EXPECT_TRUE(shared_extents({process(1, {})}).empty());
}

TEST(SharedExtent, ObjectSizeIsTheLargerOfFileAndExtentInWholePages) {
  EXPECT_EQ(shared_object_size(0x400000, 0x200000), 0x400000u);  // partial mapping
  EXPECT_EQ(shared_object_size(0x400000, 0x600000), 0x600000u);  // grown by mremap
  EXPECT_EQ(shared_object_size(0x1001, 0), 0x2000u);
  EXPECT_EQ(shared_object_size(0, 0), 0u);
}

Checkpoint valid() {
  Checkpoint ck;
  ck.shared_memory.push_back({7, 0x401000, "shm-7"});
  ck.processes.push_back(process(1, {shared_vma(0x7000000, 0x7401000, 7, 0)}));
  ck.processes.push_back(process(2, {shared_vma(0x7200000, 0x7401000, 7, 0x200000)}));
  return ck;
}

TEST(SharedExtent, ValidCheckpointPasses) {
  EXPECT_EQ(error_of(valid()), "");
}

TEST(SharedExtent, UnknownObjectIsRefusedNamingPidAndVma) {
  Checkpoint ck = valid();
  ck.processes[1].vmas[0].shared_id = 8;
  std::string err = error_of(ck);
  EXPECT_NE(err.find("pid 2"), std::string::npos) << err;
  EXPECT_NE(err.find("0x7200000-0x7401000"), std::string::npos) << err;
  EXPECT_NE(err.find("holds no such object"), std::string::npos) << err;
}

TEST(SharedExtent, MappingPastTheObjectEndIsRefused) {
  Checkpoint ck = valid();
  ck.processes[1].vmas[0].offset = 0x201000;
  std::string err = error_of(ck);
  EXPECT_NE(err.find("outside the object"), std::string::npos) << err;
}

TEST(SharedExtent, UnalignedOffsetIsRefused) {
  Checkpoint ck = valid();
  ck.processes[1].vmas[0].offset = 0x200010;
  EXPECT_NE(error_of(ck).find("not page-aligned"), std::string::npos);
}

TEST(SharedExtent, DamagedObjectListIsRefused) {
  Checkpoint ck = valid();
  ck.shared_memory.push_back(ck.shared_memory[0]);
  EXPECT_NE(error_of(ck).find("listed twice"), std::string::npos);
  ck = valid();
  ck.shared_memory[0].size = 0x1234;
  EXPECT_NE(error_of(ck).find("has size"), std::string::npos);
}

// The dump records where in its object a shared anonymous mapping starts (the maps offset is
// vm_pgoff in bytes), so a restore can map a partial mapping at the right place.
TEST(SharedExtent, ClassifiedMappingKeepsItsOffsetInTheObject) {
  auto entries = checkpoint::parse_smaps(
      "7f0000200000-7f0000401000 rw-s 00200000 00:01 4242   /dev/zero (deleted)\n"
      "VmFlags: rd wr sh mr mw me ms sd\n");
  ASSERT_EQ(entries.size(), 1u);
  Vma v = checkpoint::classify_vma(entries[0], "/");
  EXPECT_EQ(v.kind, VmaKind::anonymous_shared);
  EXPECT_EQ(v.shared_id, 4242u);
  EXPECT_EQ(v.offset, 0x200000u);
  EXPECT_EQ(shared_extents({process(2, {v})})[4242], 0x401000u);
}

}  // namespace
}  // namespace ckpt::model
