// Checkpoint and restore of open file descriptions through the crun-ckpt binary, observed from
// inside by tests/workloads/shared_files.cc: fds sharing one description (dup, dup2, F_DUPFD,
// inherited across fork, received over SCM_RIGHTS) keep one offset and one set of status flags
// after each restore, a separate open of the same file keeps its own offset, and a file
// deleted while open comes back deleted, at its offset, with its contents and holes, shared by
// its holders and its mapping, and keeps working. Two cycles in a row. The log file the records
// go to is also read from the host: records in sequence, none overwritten.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "container_fixture.h"
#include "harness.h"
#include "image/image.h"
#include "runtime/model/model_json.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;
using Report = std::map<std::string, std::string>;

class FilesContainer {
 public:
  // `ghost_dir`: where the workload creates its deleted file (inside the container).
  explicit FilesContainer(Cli& cli, const std::string& ghost_dir = "/tmp")
      : cli_(cli), id_(unique_name("files")), dir_("ckpt-files") {
    cli_.track(id_);
    spec_ = write_spec(cli_, id_, {workload("shared_files"), "/mnt", ghost_dir},
                       report_mount(dir_.path()) + "  - {type: tmpfs, destination: /tmp}\n");
  }
  // The container goes before its report directory (the workload keeps writing into it).
  ~FilesContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  std::string log() const { return dir_.file("shared.log"); }
  std::string file(const std::string& name) const { return dir_.file(name); }

  long counter(const std::string& pid) const {
    std::string text = slurp(dir_.file("status-" + pid));
    return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
  }
  bool wait_running() const {
    return wait_until(
        [&] {
          auto p = status_pids(dir_.path());
          return p.size() == 2 && counter(p[0]) > 5 && counter(p[1]) > 5;
        },
        seconds(60));
  }
  // Both reports, by role.
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

// What the workload itself says about its files.
void expect_sound(std::map<std::string, Report>& r) {
  Report& p = r["parent"];
  Report& c = r["child"];
  EXPECT_EQ(p["errors"], "0") << "first error: " << p["first_error"];
  EXPECT_EQ(c["errors"], "0");
  EXPECT_EQ(p["offsets_equal"], "1") << "the parent's A, B, C, D disagree on the offset";
  EXPECT_EQ(c["offsets_equal"], "1") << "the child's inherited and received fds disagree";
  EXPECT_EQ(p["nonblock_same"], "1");
  EXPECT_EQ(c["nonblock_same"], "1");
  EXPECT_EQ(p["toggle_seen"], "1") << "O_NONBLOCK set through A is not seen through B, C, D";
  EXPECT_EQ(c["toggle_seen"], "1") << "the parent's O_NONBLOCK change is not seen by the child";
  EXPECT_EQ(p["reader_ok"], "1") << "the separate reader lost its own offset";
  EXPECT_NE(p["reader_pos"], p["log_pos"]) << "the reader's offset merged with the writers'";
  EXPECT_EQ(p["ghost_deleted"], "1");
  EXPECT_EQ(c["ghost_deleted"], "1");
  EXPECT_EQ(p["ghost_same_name"], "1") << "/proc/self/fd shows another name for the ghost";
  EXPECT_EQ(p["ghost_nlink"], "0");
  EXPECT_EQ(p["ghost_size"], std::to_string(2 << 20));
  EXPECT_LT(std::stol(p["ghost_kib"]), 1024) << "the ghost's 2 MiB of holes were filled in";
  EXPECT_EQ(p["ghost_pos_ok"], "1");
  EXPECT_EQ(c["ghost_pos_ok"], "1");
  EXPECT_EQ(p["ghost_separate"], "1") << "the ghost's two opens are not one inode, two offsets";
  EXPECT_EQ(p["ghost_digest_ok"], "1") << "the ghost's contents differ from what was written";
  EXPECT_EQ(p["ghost_gone"], "1") << "a file is linked at the ghost's old path";
  EXPECT_EQ(p["map_ok"], "1") << "the ghost mapping and the ghost file disagree";
  EXPECT_EQ(c["map_ok"], "1");
}

// Every line of the log is the record with the next sequence number: nothing overwritten.
// Returns the number of records.
uint64_t check_log(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  uint64_t n = 0;
  while (std::getline(in, line)) {
    char want[24];
    std::snprintf(want, sizeof want, "seq=%010llu", static_cast<unsigned long long>(n));
    if (line.rfind(want, 0) != 0) {
      ADD_FAILURE() << "log line " << n << " is \"" << line << "\", expected " << want;
      return n;
    }
    ++n;
  }
  return n;
}

struct ImageFiles {
  model::Checkpoint cp;
  // pid:fd holders of each file id
  std::map<uint64_t, std::set<std::string>> holders;
};

ImageFiles read_image(const std::string& dir) {
  image::ImageReader reader(dir);
  ImageFiles out;
  out.cp = model::checkpoint_from_json(reader.body().at("checkpoint"));
  for (const model::Process& p : out.cp.processes)
    for (const model::Fd& fd : p.fds)
      out.holders[fd.file].insert(std::to_string(p.pid) + ":" + std::to_string(fd.fd));
  return out;
}

// The image holds one description for the log shared by six fds in two processes, another for
// the reader, and one ghost with two descriptions and its mappings.
void expect_image(const ImageFiles& img, const Report& parent, const Report& child) {
  const std::string pp = parent.at("pid"), cp = child.at("pid");
  const model::File* log = nullptr;
  const model::File* reader = nullptr;
  std::vector<const model::File*> ghosts;
  for (const model::File& f : img.cp.files) {
    if (f.path == "/mnt/shared.log" && (f.flags & O_ACCMODE) == O_WRONLY) log = &f;
    if (f.path == "/mnt/shared.log" && (f.flags & O_ACCMODE) == O_RDONLY) reader = &f;
    if (f.kind == model::FileKind::ghost) ghosts.push_back(&f);
  }
  ASSERT_NE(log, nullptr);
  ASSERT_NE(reader, nullptr);
  std::set<std::string> want;
  for (const char* fd : {"3", "4", "20", "30"}) want.insert(pp + ":" + fd);
  const std::string& held = child.at("holders");  // "A,E"
  want.insert(cp + ":" + held.substr(0, held.find(',')));
  want.insert(cp + ":" + held.substr(held.find(',') + 1));
  EXPECT_EQ(img.holders.at(log->id), want);
  // O_NONBLOCK as the parent's last toggle left it.
  EXPECT_EQ((log->flags & O_NONBLOCK) != 0, parent.at("nonblock_now") == "1")
      << "the description's status flags were not captured";
  EXPECT_EQ(img.holders.at(reader->id).size(), 1u);

  ASSERT_EQ(img.cp.ghost_files.size(), 1u) << "one inode, stored once";
  const model::GhostFile& g = img.cp.ghost_files[0];
  EXPECT_EQ(g.path, "/tmp/ghost.dat");
  EXPECT_EQ(g.size, 2u << 20);
  uint64_t stored = 0;
  for (const model::DataRun& r : g.runs) stored += r.length;
  EXPECT_LT(stored, 1u << 20) << "holes stored as data";
  ASSERT_EQ(ghosts.size(), 2u) << "G (shared with the child) and G2";
  for (const model::File* f : ghosts) EXPECT_EQ(f->ghost_id, g.id);
  size_t mappings = 0;
  for (const model::Process& p : img.cp.processes)
    for (const model::Vma& v : p.vmas) mappings += v.ghost_id == g.id;
  EXPECT_EQ(mappings, 2u) << "the ghost mapping of parent and child";
}

TEST(CheckpointRestoreFiles, SharedDescriptionsAndADeletedFileSurviveTwoCycles) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  FilesContainer c(cli);
  auto run = cli({"run", "-d", c.spec()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  ASSERT_TRUE(c.wait_running());
  auto before = c.reports();
  ASSERT_EQ(before.size(), 2u);
  expect_sound(before);

  for (int cycle = 0; cycle < 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::string image = cli.scratch().file("image-" + std::to_string(cycle));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    ImageFiles img = read_image(image);
    expect_image(img, before["parent"], before["child"]);
    auto inspect = cli({"image", "inspect", image});
    EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_NE(inspect.out.find("/tmp/ghost.dat (deleted"), std::string::npos) << inspect.out;
    EXPECT_NE(inspect.out.find(before["parent"]["pid"] + ":20"), std::string::npos) << inspect.out;

    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    auto after = c.reports();
    ASSERT_EQ(after.size(), 2u);
    EXPECT_EQ(after["parent"]["pid"], before["parent"]["pid"]);
    EXPECT_EQ(after["child"]["pid"], before["child"]["pid"]);
    EXPECT_EQ(after["child"]["holders"], before["child"]["holders"]);
    for (const char* role : {"parent", "child"}) {
      EXPECT_EQ(after[role]["getfl"], before[role]["getfl"]) << role << ": status flags changed";
    }
    // The flags came back as they were: O_NONBLOCK as the last toggle before the checkpoint
    // left it (and the toggle after the restore reaches every holder again).
    EXPECT_EQ(after["parent"]["nonblock_was"], before["parent"]["nonblock_now"]);
    EXPECT_GT(std::stoull(after["parent"]["seq"]), std::stoull(before["parent"]["seq"]));
    expect_sound(after);
    before = after;
    std::filesystem::remove_all(image);
  }
  // The records of both processes through all six fds, before and after both restores, in
  // order with none lost to an overwrite.
  EXPECT_GE(check_log(c.log()), std::stoull(before["parent"]["seq"]));
}

TEST(CheckpointRestoreFiles, ImageWithAMissingFileIsRefusedAndLeavesNothing) {
  CKPT_REQUIRE_ROOT();
  // A restore whose regular file is gone fails naming it, and leaves no recreated deleted file
  // behind: the ghost lives in the bind-mounted report directory here, where the host sees it,
  // and is created before the missing file is opened.
  Cli cli;
  FilesContainer c(cli, "/mnt");
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running());
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  std::filesystem::rename(c.log(), c.log() + ".moved");
  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  EXPECT_EQ(rs.exit_code, 1);
  EXPECT_NE(rs.err.find("/mnt/shared.log"), std::string::npos) << rs.err;
  EXPECT_NE(rs.err.find("No such file"), std::string::npos) << rs.err;
  EXPECT_EQ(std::count(rs.err.begin(), rs.err.end(), '\n'), 1) << rs.err;
  EXPECT_NO_LEFTOVERS(cli, c.id());
  for (const auto& e :
       std::filesystem::directory_iterator(std::filesystem::path(c.log()).parent_path()))
    EXPECT_EQ(e.path().filename().string().find("ghost"), std::string::npos)
        << "a recreated deleted file was left behind: " << e.path();
}

}  // namespace
}  // namespace ckpt::test
