// Checkpoint and restore of MAP_SHARED|MAP_ANONYMOUS memory shared by a parent and its child,
// through the crun-ckpt binary. The workload (tests/workloads/shared_memory.cc) proves from
// inside that the pages are still shared after each restore: a fresh token written by one
// process after the restore is read by the other through its own mapping, both see the same
// shmem inode, and the contents' digest is unchanged. Two cycles: the second checkpoint must
// recognise the restored mappings as one shared object again.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"
#include "image/image.h"
#include "runtime/model/model_json.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;
using Report = std::map<std::string, std::string>;

constexpr int kMib = 4;

// A container running the shared_memory workload with its report directory at /mnt.
class SharedMemoryContainer {
 public:
  SharedMemoryContainer(Cli& cli, const std::string& prefix, bool partial)
      : cli_(cli), id_(unique_name(prefix)), dir_("ckpt-shm") {
    cli_.track(id_);
    std::vector<std::string> args = {workload("shared_memory"), "/mnt", std::to_string(kMib)};
    if (partial) args.push_back("--partial");
    spec_ = write_spec(cli_, id_, args, report_mount(dir_.path()));
  }
  // The container goes before its report directory (the workload keeps writing into it).
  ~SharedMemoryContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }

  std::vector<std::string> pids() const { return status_pids(dir_.path()); }

  long counter(const std::string& pid) const {
    std::string text = slurp(dir_.file("status-" + pid));
    return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
  }

  bool wait_running() const {
    return wait_until(
        [&] {
          auto p = pids();
          return p.size() == 2 && counter(p[0]) > 3 && counter(p[1]) > 3;
        },
        seconds(60));
  }

  // Asks both processes for a report (SIGUSR1 to every process) and returns them by role.
  std::map<std::string, Report> reports() {
    std::map<std::string, Report> out;
    for (const auto& [pid, text] : request_reports(cli_, id_, dir_.path(), 2)) {
      Report r = parse_key_values(text);
      out[r["role"]] = r;
    }
    EXPECT_EQ(out.size(), 2u) << "the two reports must name two roles";
    return out;
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

// What the image says about shared memory: the objects, and per pid its shared VMAs.
struct ImageShm {
  std::vector<model::SharedMemory> objects;
  std::map<int, std::vector<model::Vma>> vmas;
};

ImageShm read_image(const std::string& dir) {
  image::ImageReader reader(dir);
  model::Checkpoint ck = model::checkpoint_from_json(reader.body().at("checkpoint"));
  ImageShm out;
  out.objects = ck.shared_memory;
  for (const model::Process& p : ck.processes) {
    for (const model::Vma& v : p.vmas) {
      if (v.kind == model::VmaKind::anonymous_shared) out.vmas[p.pid].push_back(v);
    }
  }
  return out;
}

// Checks that the two reports prove one shared region with intact contents.
void expect_shared(std::map<std::string, Report>& r) {
  Report& parent = r["parent"];
  Report& child = r["child"];
  EXPECT_EQ(parent["round"], child["round"]);
  EXPECT_NE(child["token"], "") << "child did not report";
  EXPECT_EQ(parent["peer_token"], child["token"]) << "the parent does not see the child's writes";
  EXPECT_EQ(child["peer_token"], parent["token"]) << "the child does not see the parent's writes";
  EXPECT_EQ(parent["peer_live"], "1");
  EXPECT_EQ(child["peer_live"], "1");
  for (Report* one : {&parent, &child}) {
    EXPECT_EQ((*one)["digest"], (*one)["start_digest"]) << (*one)["role"];
    EXPECT_EQ((*one)["shared"], "1")
        << (*one)["role"] << ": not a /dev/zero (deleted) rw-s mapping";
  }
  EXPECT_EQ(parent["inode"], child["inode"]) << "parent and child map different objects";
}

void run_two_cycles(bool partial) {
  Cli cli;
  SharedMemoryContainer c(cli, partial ? "shmpart" : "shm", partial);
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running());
  auto before = c.reports();
  expect_shared(before);
  ASSERT_EQ(before.size(), 2u);
  const std::string parent_pid = before["parent"]["pid"], child_pid = before["child"]["pid"];

  for (int cycle = 0; cycle < 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::string image = cli.scratch().file("image-" + std::to_string(cycle));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;

    // One object, dumped once, mapped by both: the second cycle checks that the restored
    // mappings are recognised as one shared object again.
    ImageShm shm = read_image(image);
    ASSERT_EQ(shm.objects.size(), 1u);
    EXPECT_GE(shm.objects[0].size, static_cast<uint64_t>(kMib << 20) + 4096);
    ASSERT_EQ(shm.vmas.size(), 2u);
    for (const auto& [pid, list] : shm.vmas) {
      ASSERT_EQ(list.size(), 1u) << "pid " << pid;
      EXPECT_EQ(list[0].shared_id, shm.objects[0].id) << "pid " << pid;
    }
    const model::Vma& child_vma = shm.vmas[std::stoi(child_pid)][0];
    EXPECT_EQ(child_vma.offset, partial ? static_cast<uint64_t>(kMib << 20) / 2 : 0u);
    EXPECT_EQ(shm.vmas[std::stoi(parent_pid)][0].offset, 0u);

    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    auto after = c.reports();
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after["parent"]["pid"], parent_pid);
    EXPECT_EQ(after["child"]["pid"], child_pid);
    for (const char* role : {"parent", "child"}) {
      EXPECT_EQ(after[role]["digest"], before[role]["digest"]) << role;
      EXPECT_GT(std::stol(after[role]["counter"]), std::stol(before[role]["counter"])) << role;
    }
    EXPECT_NE(after["child"]["token"], before["child"]["token"]) << "no fresh token";
    expect_shared(after);
    before = after;
    std::filesystem::remove_all(image);
  }
}

TEST(CheckpointRestoreSharedMemory, ParentAndChildStillShareAfterTwoCycles) {
  CKPT_REQUIRE_ROOT();
  run_two_cycles(false);
}

TEST(CheckpointRestoreSharedMemory, PartialMappingAtAnOffsetStaysShared) {
  CKPT_REQUIRE_ROOT();
  run_two_cycles(true);
}

}  // namespace
}  // namespace ckpt::test
