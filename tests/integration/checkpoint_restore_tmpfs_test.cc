// Checkpoint and restore of the contents of a container's tmpfs mounts, through the crun-ckpt
// binary, observed from inside the workloads:
//  - tests/workloads/tmpfs_tree.cc builds every kind of file in a spec tmpfs (/tmp) and in
//    /dev/shm and, after each restore, compares a manifest of both trees (contents, modes,
//    owners, nanosecond times, xattrs, hard links, st_blocks of a 64 MiB sparse file) with the
//    one it took before;
//  - tests/workloads/tmpfs_live.cc shares counters through a MAP_SHARED mapping of a /dev/shm
//    file, keeps a modified MAP_PRIVATE mapping of another, and appends and reads records
//    through two fds on a /tmp file: after each restore the counters continue, the mapping is
//    still shared and still the file's, and both fds are at their offsets;
// plus the refusals: a device node in /dev that the runtime does not create (checkpoint), an
// image whose tmpfs the restored container lacks (restore), and owners in a user namespace
// stored as the container sees them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "container_fixture.h"
#include "harness.h"
#include "image/checksum.h"
#include "image/image.h"
#include "image/tree_archive.h"
#include "runtime/model/model_json.h"
#include "runtime/restore/tmpfs_restore.h"

namespace ckpt::test {
namespace {

using std::chrono::seconds;
using Report = std::map<std::string, std::string>;

long number(Report& r, const std::string& key) {
  return r[key].empty() ? -1 : std::stol(r[key]);
}

std::string line_of(const std::string& text, long lineno) {
  std::istringstream in(text);
  std::string line;
  for (long i = 1; std::getline(in, line); ++i)
    if (i == lineno) return line;
  return "(none)";
}

// A container running one workload with its report directory at /mnt and a tmpfs at /tmp.
class TmpfsContainer {
 public:
  TmpfsContainer(Cli& cli, const std::string& prefix, const std::vector<std::string>& args,
                 const std::string& extra_mounts = "", const std::string& tmp_options = "size=32m")
      : cli_(cli), id_(unique_name(prefix)), dir_("ckpt-tmpfs") {
    cli_.track(id_);
    std::vector<std::string> argv = args;
    for (auto& a : argv)
      if (a == "DIR") a = "/mnt";
    spec_ =
        write_spec(cli_, id_, argv,
                   report_mount(dir_.path()) + "  - {type: tmpfs, destination: /tmp, options: [" +
                       tmp_options + "]}\n" + extra_mounts);
  }
  ~TmpfsContainer() { cli_({"delete", "-f", id_}); }
  const std::string& id() const { return id_; }
  const std::string& spec() const { return spec_; }
  TempDir& dir() { return dir_; }

  long counter(const std::string& pid) const {
    std::string text = slurp(dir_.file("status-" + pid));
    return text.rfind("counter=", 0) == 0 ? std::stol(text.substr(8)) : -1;
  }

  bool wait_running(size_t processes) const {
    return wait_until(
        [&] {
          auto pids = status_pids(dir_.path());
          if (pids.size() != processes) return false;
          for (const auto& pid : pids)
            if (counter(pid) < 3) return false;
          return true;
        },
        seconds(60));
  }

  // Reports of every process, by role if they name one, else by pid.
  std::map<std::string, Report> reports(size_t processes) {
    std::map<std::string, Report> out;
    for (const auto& [pid, text] : request_reports(cli_, id_, dir_.path(), processes)) {
      Report r = parse_key_values(text);
      out[r.count("role") ? r["role"] : pid] = r;
    }
    return out;
  }

 private:
  Cli& cli_;
  std::string id_;
  TempDir dir_;
  std::string spec_;
};

model::Checkpoint image_model(const std::string& dir) {
  image::ImageReader reader(dir);
  return model::checkpoint_from_json(reader.body().at("checkpoint"));
}

const model::TmpfsMount* find_mount(const model::Checkpoint& cp, const std::string& point) {
  for (const auto& t : cp.tmpfs_mounts)
    if (t.mount_point == point) return &t;
  return nullptr;
}

// Every entry of the archive of the tmpfs at `point` in the image at `dir`.
std::vector<image::TreeEntry> archive_entries(const std::string& dir, const std::string& point) {
  model::Checkpoint cp = image_model(dir);
  const model::TmpfsMount* t = find_mount(cp, point);
  if (t == nullptr) return {};
  image::ImageReader reader(dir);
  auto stream = reader.open_stream(t->stream);
  image::TreeArchiveReader archive(*stream, t->stream);
  std::vector<image::TreeEntry> out;
  while (auto e = archive.next()) out.push_back(*e);
  stream->finish();
  return out;
}

TEST(CheckpointRestoreTmpfs, EveryKindOfFileComesBackExactlyTwice) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TmpfsContainer c(cli, "tmpfstree", {workload("tmpfs_tree"), "DIR", "/tmp", "/dev/shm"});
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  auto before = c.reports(1);
  ASSERT_EQ(before.size(), 1u);
  Report first = before.begin()->second;
  ASSERT_EQ(first["match"], "1") << "the workload's own manifest is not stable";
  const std::string pid = first["pid"];

  for (int cycle = 0; cycle < 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::string image = cli.scratch().file("image-" + std::to_string(cycle));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;

    model::Checkpoint cp = image_model(image);
    for (const char* point : {"/dev", "/dev/shm", "/tmp"})
      EXPECT_NE(find_mount(cp, point), nullptr) << point << " was not captured";
    if (const model::TmpfsMount* tmp = find_mount(cp, "/tmp")) {
      EXPECT_EQ(tmp->entries, 23u);  // what tmpfs_tree builds, the mount's root included
      // 100 KiB + 4 KiB + the sparse file's 12 KiB and 4 bytes: data, not the 64 MiB of holes.
      EXPECT_GT(tmp->bytes, 100u * 1024);
      EXPECT_LT(tmp->bytes, 1u << 20);
    }
    auto inspect = cli({"image", "inspect", image});
    EXPECT_EQ(inspect.exit_code, 0) << inspect.err;
    EXPECT_NE(inspect.out.find("TMPFS"), std::string::npos) << inspect.out;
    EXPECT_NE(inspect.out.find("/dev/shm"), std::string::npos) << inspect.out;

    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    auto after = c.reports(1);
    ASSERT_EQ(after.size(), 1u);
    Report r = after.begin()->second;
    EXPECT_EQ(r["pid"], pid);
    EXPECT_GT(number(r, "counter"), number(first, "counter")) << "the counter restarted";
    EXPECT_EQ(r["entries"], first["entries"]);
    EXPECT_EQ(r["match"], "1")
        << "first difference, line " << r["diff_line"] << ":\n  before: "
        << line_of(slurp(c.dir().file("manifest-expected")), number(r, "diff_line"))
        << "\n  after:  " << line_of(slurp(c.dir().file("manifest-after")), number(r, "diff_line"));
    EXPECT_EQ(r["sparse_size"], std::to_string(64 << 20));
    // 16 KiB of data in four pages: 32 blocks of 512 bytes, not 131072.
    EXPECT_LE(number(r, "sparse_blocks"), 64) << "the sparse file's holes were filled";
    first = r;
    std::filesystem::remove_all(image);
  }
}

// Under strictatime every read of a file or directory moves its atime: a dump that read
// without O_NOATIME would show in the workload's manifest. Symlinks' atimes are left out: the
// dump must read their targets, and readlink(2) always touches the atime.
TEST(CheckpointRestoreTmpfs, AFailedOrLeaveRunningDumpChangesNothingInTheTree) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TmpfsContainer c(cli, "tmpfskeep",
                   {workload("tmpfs_tree"), "--ignore-symlink-atime", "DIR", "/tmp"}, "",
                   "size=32m, strictatime");
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  // The first report's own reads move the atimes once more; it compares with them afterwards.
  c.reports(1);
  std::string image = cli.scratch().file("image");
  // Failing after the filesystems stage: every file was walked and read.
  auto failed = cli({"checkpoint", "--test-fail-at", "task_state", "--image-path", image, c.id()},
                    seconds(120));
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("injected failure at stage task_state"), std::string::npos)
      << failed.err;
  EXPECT_FALSE(std::filesystem::exists(image)) << "an image was left behind";
  Report r = c.reports(1).begin()->second;
  EXPECT_EQ(r["match"], "1") << "the failed dump changed line " << r["diff_line"] << ": "
                             << line_of(slurp(c.dir().file("manifest-after")),
                                        number(r, "diff_line"));

  auto kept = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(kept.exit_code, 0) << kept.err;
  r = c.reports(1).begin()->second;
  EXPECT_EQ(r["match"], "1") << "the dump changed line " << r["diff_line"] << ": "
                             << line_of(slurp(c.dir().file("manifest-after")),
                                        number(r, "diff_line"));
}

void expect_live(Report& parent, Report& child) {
  EXPECT_EQ(parent["peer_token"], child["token"]) << "the parent does not see the child's writes";
  EXPECT_EQ(child["peer_token"], parent["token"]) << "the child does not see the parent's writes";
  EXPECT_EQ(parent["peer_live"], "1");
  EXPECT_EQ(child["peer_live"], "1");
  EXPECT_EQ(parent["file_counter_matches"], "1") << "the parent's mapping is not the file";
  EXPECT_EQ(child["file_counter_matches"], "1") << "the child's mapping is not the file";
  EXPECT_EQ(parent["private_ok"], "1") << "the private mapping or the file under it changed";
  EXPECT_EQ(parent["bad"], "0") << "the read fd read records out of order";
  EXPECT_EQ(number(parent, "w_off"), number(parent, "written") * 16);
  EXPECT_EQ(number(parent, "r_off"), number(parent, "read") * 16);
  EXPECT_EQ(parent["log_size"], parent["w_off"]);
}

TEST(CheckpointRestoreTmpfs, SharedMappingAndOpenFilesContinueTwice) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TmpfsContainer c(cli, "tmpfslive", {workload("tmpfs_live"), "DIR"});
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(2));
  auto before = c.reports(2);
  ASSERT_EQ(before.size(), 2u);
  expect_live(before["parent"], before["child"]);

  for (int cycle = 0; cycle < 2; ++cycle) {
    SCOPED_TRACE("cycle " + std::to_string(cycle));
    std::string image = cli.scratch().file("image-" + std::to_string(cycle));
    auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
    ASSERT_EQ(ck.exit_code, 0) << ck.err;
    auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
    ASSERT_EQ(rs.exit_code, 0) << rs.err;
    auto after = c.reports(2);
    ASSERT_EQ(after.size(), 2u);
    for (const char* role : {"parent", "child"}) {
      EXPECT_EQ(after[role]["pid"], before[role]["pid"]) << role;
      EXPECT_GT(number(after[role], "counter"), number(before[role], "counter")) << role;
    }
    EXPECT_NE(after["child"]["token"], before["child"]["token"]) << "no fresh token";
    expect_live(after["parent"], after["child"]);
    EXPECT_GT(number(after["parent"], "written"), number(before["parent"], "written"))
        << "the parent stopped appending";
    before = after;
    std::filesystem::remove_all(image);
  }
}

TEST(CheckpointRestoreTmpfs, ADeviceNodeTheRuntimeDoesNotCreateIsRefused) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TmpfsContainer c(cli, "tmpfsdev",
                   {"/bin/sh", "-c",
                    "mknod /dev/sdz b 8 0 && mknod /dev/null2 c 1 3 && i=0 && while :; do "
                    "i=$((i+1)); echo counter=$i > /mnt/status-1.tmp && "
                    "mv /mnt/status-1.tmp /mnt/status-1; sleep 0.02; done"});
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  EXPECT_NE(ck.exit_code, 0);
  EXPECT_NE(ck.err.find("cannot checkpoint: /dev/null2 is a character device 1:3 that the "
                        "runtime does not create"),
            std::string::npos)
      << ck.err;
  EXPECT_NE(ck.err.find("(and 1 more problem)"), std::string::npos) << ck.err;
  EXPECT_EQ(ck.err.find('\n'), ck.err.size() - 1) << "one line: " << ck.err;
  EXPECT_FALSE(std::filesystem::exists(image)) << "an image was left behind";
  long seen = c.counter("1");
  EXPECT_TRUE(wait_until([&] { return c.counter("1") > seen; }, seconds(20)))
      << "the container stopped after the refused checkpoint";

  // Without them the same container checkpoints.
  ASSERT_EQ(cli({"exec", c.id(), "--", "/bin/rm", "/dev/sdz", "/dev/null2"}).exit_code, 0);
  auto again = cli({"checkpoint", "--leave-running", "--image-path", image, c.id()}, seconds(120));
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

TEST(CheckpointRestoreTmpfs, RestoreRefusesATmpfsTheContainerDoesNotHave) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  TmpfsContainer c(cli, "tmpfsmiss",
                   {"/bin/sh", "-c",
                    "echo kept > /run/file && i=0 && while :; do i=$((i+1)); "
                    "echo counter=$i > /mnt/status-1.tmp && mv /mnt/status-1.tmp /mnt/status-1; "
                    "sleep 0.02; done"},
                   "  - {type: tmpfs, destination: /run}\n");
  ASSERT_EQ(cli({"run", "-d", c.spec()}).exit_code, 0);
  ASSERT_TRUE(c.wait_running(1));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--image-path", image, c.id()}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;

  // The image's spec loses its /run mount, as an image would whose /run was mounted at run
  // time; the manifest is rewritten consistently, as a tool would.
  std::string manifest_path = image + "/manifest.json";
  nlohmann::json doc = nlohmann::json::parse(slurp(manifest_path));
  nlohmann::json& mounts = doc["body"]["spec"]["mounts"];
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& m : mounts)
    if (m.value("destination", "") != "/run") kept.push_back(m);
  ASSERT_EQ(kept.size() + 1, mounts.size());
  mounts = kept;
  std::string text = doc.dump(2) + "\n";
  std::ofstream(manifest_path, std::ios::trunc) << text;
  std::ofstream(image + "/manifest.sum", std::ios::trunc) << image::xxh128_hex(text) << "\n";

  auto rs = cli({"restore", "-d", "--image-path", image}, seconds(120));
  EXPECT_NE(rs.exit_code, 0);
  EXPECT_NE(rs.err.find("the image holds the contents of tmpfs /run but the restored container "
                        "has no tmpfs of its own mounted there"),
            std::string::npos)
      << rs.err;
  EXPECT_EQ(rs.err.find('\n'), rs.err.size() - 1) << "one line: " << rs.err;
  EXPECT_NO_LEFTOVERS(cli, c.id());
}

TEST(CheckpointRestoreTmpfs, OwnersInAUserNamespaceAreStoredAsTheContainerSeesThem) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  std::string id = unique_name("tmpfsuser");
  cli.track(id);
  // Container root is host uid 100000; the file's owner 1000:1000 inside is 101000 outside.
  std::string spec = write_spec(
      cli, id, {"/bin/sh", "-c", "echo hi > /tmp/f && chown 1000:1000 /tmp/f && exec sleep 1000"},
      "namespaces: [pid, mount, net, uts, ipc, time, user]\n"
      "mounts:\n  - {type: tmpfs, destination: /tmp}\n");
  ASSERT_EQ(cli({"run", "-d", spec}).exit_code, 0);
  auto state = nlohmann::json::parse(cli({"state", id}).out);
  std::string file = "/proc/" + std::to_string(state.at("pid").get<int>()) + "/root/tmp/f";
  ASSERT_TRUE(wait_until([&] {
    struct stat st {};
    return ::stat(file.c_str(), &st) == 0 && st.st_uid == 101000;
  })) << "the workload did not chown "
      << file;

  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, id}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;
  std::vector<image::TreeEntry> entries = archive_entries(image, "/tmp");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].path, "");
  EXPECT_EQ(entries[0].uid, 0u) << "the mount's root belongs to the container's root";
  EXPECT_EQ(entries[1].path, "f");
  EXPECT_EQ(entries[1].uid, 1000u);
  EXPECT_EQ(entries[1].gid, 1000u);
  cli({"delete", "-f", id});
}

// The restore maps the archive's container ids back to host ids through the restored
// container's maps. (A whole user-namespace restore is not possible yet, so the unpack is
// driven directly, into a second container with the same maps.)
TEST(CheckpointRestoreTmpfs, OwnersInAUserNamespaceComeBackAsTheContainerSawThem) {
  CKPT_REQUIRE_ROOT();
  Cli cli;
  const std::string userns =
      "namespaces: [pid, mount, net, uts, ipc, time, user]\n"
      "mounts:\n  - {type: tmpfs, destination: /tmp}\n";
  std::string source = unique_name("tmpfsusrc"), target = unique_name("tmpfsudst");
  cli.track(source);
  cli.track(target);
  ASSERT_EQ(cli({"run", "-d",
                 write_spec(cli, source,
                            {"/bin/sh", "-c",
                             "echo hi > /tmp/f && chown 1000:1000 /tmp/f && mkdir /tmp/d && "
                             "chown 2000:2001 /tmp/d && chmod 2750 /tmp/d && touch /tmp/ready "
                             "&& exec sleep 1000"},
                            userns)})
                .exit_code,
            0);
  ASSERT_TRUE(wait_until([&] {
    return cli({"exec", source, "--", "/usr/bin/test", "-e", "/tmp/ready"}).exit_code == 0;
  }));
  std::string image = cli.scratch().file("image");
  auto ck = cli({"checkpoint", "--leave-running", "--image-path", image, source}, seconds(120));
  ASSERT_EQ(ck.exit_code, 0) << ck.err;

  ASSERT_EQ(cli({"run", "-d", write_spec(cli, target, {"/bin/sleep", "1000"}, userns)}).exit_code,
            0);
  auto state = nlohmann::json::parse(cli({"state", target}).out);
  image::ImageReader reader(image);
  model::Checkpoint cp = model::checkpoint_from_json(reader.body().at("checkpoint"));
  restore::ImageReaderSource from(reader);
  restore::restore_tmpfs_mounts(state.at("pid").get<int>(), cp.tmpfs_mounts, from);

  auto seen = cli({"exec", target, "--", "/usr/bin/stat", "-c", "%n %u:%g %a", "/tmp/f", "/tmp/d",
                   "/tmp/ready", "/tmp"});
  ASSERT_EQ(seen.exit_code, 0) << seen.err;
  EXPECT_EQ(seen.out,
            "/tmp/f 1000:1000 644\n/tmp/d 2000:2001 2750\n/tmp/ready 0:0 644\n"
            "/tmp 0:0 1777\n");
  auto cat = cli({"exec", target, "--", "/bin/cat", "/tmp/f"});
  EXPECT_EQ(cat.out, "hi\n");
}

}  // namespace
}  // namespace ckpt::test
