// The workload of the tmpfs checkpoint/restore tests: it builds a file tree in each tmpfs it is
// given, records a manifest of everything in it, and on SIGUSR1 checks from inside that the
// trees are still exactly as recorded.
//
//   tmpfs_tree [--ignore-symlink-atime] DIR ROOT...
//
// In each ROOT (a tmpfs mount point: /tmp, /dev/shm) it creates: directories with modes 0750,
// setgid 02775 and sticky 01777 and owners 1000:1000 / 1000:1001; a 100 KiB file with a
// user.* xattr; an empty file; a root-owned setuid file; a file owned by 1000:1000 carrying a
// security.capability xattr (chown would clear it: the restore's order shows); a relative, a
// dangling and an absolute symlink (one owned by 1000:1000); a hard-link pair in two
// directories; a 64 MiB sparse file with 16 KiB of data; a FIFO; the socket file a bound unix
// socket leaves; a file with an mtime in 2001 to the nanosecond; a deep directory chain.
//
// The manifest has one line per entry: path, st_mode, owner, size, st_blocks (regular files),
// nlink, mtime in nanoseconds, symlink target, every xattr (hex), the content's digest, and for
// a second name of an inode the first name ("same=PATH") instead of an inode number; then one
// line per entry with its atime. Atimes are read with lstat(2) over the known paths before
// anything is read: a restore cannot set ctime (it becomes the restore's time), so under
// relatime the first read after a restore updates the atime it had restored (relatime updates
// when ctime >= atime). The baseline is taken after a first pass whose reads settled the
// atimes, written to DIR/manifest-before, and its atimes are taken again after each report.
// --ignore-symlink-atime leaves symlinks' atimes out: reading a symlink's target, which a dump
// must do, moves its atime on a strictatime mount (readlink(2) has no O_NOATIME).
//
// Counts forever (DIR/status-<pid>: "counter=N"). On SIGUSR1 it takes the manifest again,
// writes it to DIR/manifest-after, what it compared it with to DIR/manifest-expected, and
// DIR/report-<pid>:
//   pid=P counter=N entries=E match=0|1 diff_line=L sparse_size=S sparse_blocks=B
// where diff_line is the first line that differs (0 if none).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "report_file.h"

namespace {

volatile sig_atomic_t g_report = 0;
void on_usr1(int) {
  g_report = 1;
}

[[noreturn]] void die(const std::string& what) {
  std::perror(("tmpfs_tree: " + what).c_str());
  _exit(3);
}

void check(int rc, const std::string& what) {
  if (rc < 0) die(what);
}

std::string hex(const std::string& bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

void write_bytes(const std::string& path, const std::string& data, int flags = O_TRUNC) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | flags | O_CLOEXEC, 0644);
  check(fd, "create " + path);
  if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size()))
    die("write " + path);
  close(fd);
}

std::string pseudo_random(size_t n, uint64_t seed) {
  std::string out(n, '\0');
  uint64_t x = seed * 0x9e3779b97f4a7c15ULL + 1;
  for (auto& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

void build(const std::string& root) {
  auto p = [&](const std::string& rel) { return root + "/" + rel; };
  umask(0);
  check(mkdir(p("d").c_str(), 0750), "mkdir d");
  check(chown(p("d").c_str(), 1000, 1000), "chown d");
  check(mkdir(p("d/sub").c_str(), 0755), "mkdir d/sub");
  check(chown(p("d/sub").c_str(), 1000, 1001), "chown d/sub");
  check(chmod(p("d/sub").c_str(), 02775), "chmod d/sub");
  check(mkdir(p("sticky").c_str(), 01777), "mkdir sticky");

  write_bytes(p("d/file.txt"), pseudo_random(100 * 1024, root.size()));
  check(chown(p("d/file.txt").c_str(), 1000, 1000), "chown file.txt");
  check(chmod(p("d/file.txt").c_str(), 0640), "chmod file.txt");
  std::string origin = "tmpfs_tree " + root;
  check(setxattr(p("d/file.txt").c_str(), "user.origin", origin.data(), origin.size(), 0),
        "setxattr user.origin");
  check(setxattr(p("d").c_str(), "user.dir", "yes", 3, 0), "setxattr user.dir");

  write_bytes(p("empty"), "");
  check(chmod(p("empty").c_str(), 0600), "chmod empty");
  write_bytes(p("suid"), pseudo_random(4096, 7));
  check(chmod(p("suid").c_str(), 04755), "chmod suid");

  // security.capability, VFS_CAP_REVISION_2 with CAP_NET_BIND_SERVICE permitted + effective.
  write_bytes(p("capfile"), "#!/bin/true\n");
  check(chown(p("capfile").c_str(), 1000, 1000), "chown capfile");
  check(chmod(p("capfile").c_str(), 0750), "chmod capfile");
  uint32_t cap[5] = {0x02000001, 1u << 10, 0, 0, 0};
  check(setxattr(p("capfile").c_str(), "security.capability", cap, sizeof cap, 0),
        "setxattr security.capability");

  check(symlink("d/file.txt", p("link").c_str()), "symlink link");
  check(lchown(p("link").c_str(), 1000, 1000), "lchown link");
  check(symlink("/nonexistent/x", p("dangling").c_str()), "symlink dangling");
  check(symlink("/etc/hostname", p("d/abs").c_str()), "symlink abs");

  write_bytes(p("hard1"), "two names, one inode\n");
  check(link(p("hard1").c_str(), p("d/sub/hard2").c_str()), "link hard2");

  // 64 MiB, data in three places: 4 KiB at 0, 8 KiB at 32 MiB, the last 4 bytes.
  int fd = open(p("sparse").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  check(fd, "create sparse");
  check(ftruncate(fd, 64 << 20), "truncate sparse");
  std::string a = pseudo_random(4096, 1), b = pseudo_random(8192, 2);
  check(static_cast<int>(pwrite(fd, a.data(), a.size(), 0)), "write sparse");
  check(static_cast<int>(pwrite(fd, b.data(), b.size(), 32 << 20)), "write sparse");
  check(static_cast<int>(pwrite(fd, "tail", 4, (64 << 20) - 4)), "write sparse");
  close(fd);

  check(mkfifo(p("fifo").c_str(), 0620), "mkfifo");
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  check(s, "socket");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", p("sock").c_str());
  check(bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind sock");
  close(s);  // the socket file stays, the socket is gone

  write_bytes(p("d/old"), "from 2001\n");
  timespec times[2] = {{0, UTIME_OMIT}, {981173106, 123456789}};  // 2001-02-03T04:05:06.123...
  check(utimensat(AT_FDCWD, p("d/old").c_str(), times, 0), "utimensat d/old");

  std::string deep = root;
  for (const char* level : {"a", "b", "c", "d", "e"}) {
    deep += std::string("/") + level;
    check(mkdir(deep.c_str(), 0755), "mkdir " + deep);
  }
  write_bytes(deep + "/leaf", "deep\n");
  umask(022);
}

uint64_t digest_file(const std::string& path) {
  uint64_t h = 0xcbf29ce484222325ULL;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    for (ssize_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(buf[i])) * 0x100000001b3ULL;
  close(fd);
  return h;
}

std::string xattrs_of(const std::string& path) {
  char names[4096];
  ssize_t n = llistxattr(path.c_str(), names, sizeof names);
  if (n <= 0) return "";
  std::vector<std::string> list;
  for (ssize_t at = 0; at < n; at += static_cast<ssize_t>(std::strlen(names + at)) + 1)
    list.push_back(names + at);
  std::sort(list.begin(), list.end());
  std::string out;
  for (const auto& name : list) {
    char value[4096];
    ssize_t v = lgetxattr(path.c_str(), name.c_str(), value, sizeof value);
    out += " x:" + name + "=" + (v < 0 ? "?" : hex(std::string(value, static_cast<size_t>(v))));
  }
  return out;
}

void describe(const std::string& root, const std::string& rel,
              std::map<ino_t, std::string>& first_name, std::vector<std::string>& lines) {
  std::string path = rel.empty() ? root : root + "/" + rel;
  struct stat st {};
  if (lstat(path.c_str(), &st) < 0) {
    lines.push_back(path + " missing");
    return;
  }
  char line[512];
  std::snprintf(line, sizeof line, "%s mode=%o owner=%u:%u size=%lld nlink=%lu mtime=%lld.%09ld",
                path.c_str(), st.st_mode, st.st_uid, st.st_gid, static_cast<long long>(st.st_size),
                static_cast<unsigned long>(st.st_nlink), static_cast<long long>(st.st_mtim.tv_sec),
                st.st_mtim.tv_nsec);
  std::string out = line;
  if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
    auto [it, first] = first_name.try_emplace(st.st_ino, path);
    if (!first) out += " same=" + it->second;
  }
  if (S_ISREG(st.st_mode)) {
    char extra[96];
    std::snprintf(extra, sizeof extra, " blocks=%lld digest=%016llx",
                  static_cast<long long>(st.st_blocks),
                  static_cast<unsigned long long>(digest_file(path)));
    out += extra;
  } else if (S_ISLNK(st.st_mode)) {
    char target[4096];
    ssize_t n = readlink(path.c_str(), target, sizeof target);
    out += " target=" + std::string(target, n > 0 ? static_cast<size_t>(n) : 0);
  }
  out += xattrs_of(path);
  lines.push_back(out);
  if (!S_ISDIR(st.st_mode)) return;
  std::vector<std::string> names;
  if (DIR* d = opendir(path.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  for (const auto& name : names)
    describe(root, rel.empty() ? name : rel + "/" + name, first_name, lines);
}

// The manifest lines without atimes (reads files and directories).
std::vector<std::string> manifest(const std::vector<std::string>& roots) {
  std::vector<std::string> lines;
  std::map<ino_t, std::string> first_name;
  for (const auto& root : roots) describe(root, "", first_name, lines);
  return lines;
}

bool g_ignore_symlink_atime = false;

// "PATH atime=S.NS" for each manifest line's path, by lstat only (reads nothing).
std::vector<std::string> atimes(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    std::string path = l.substr(0, l.find(' '));
    struct stat st {};
    char line[600];
    if (lstat(path.c_str(), &st) < 0)
      std::snprintf(line, sizeof line, "%s atime=missing", path.c_str());
    else if (g_ignore_symlink_atime && S_ISLNK(st.st_mode))
      std::snprintf(line, sizeof line, "%s atime=(symlink, not compared)", path.c_str());
    else
      std::snprintf(line, sizeof line, "%s atime=%lld.%09ld", path.c_str(),
                    static_cast<long long>(st.st_atim.tv_sec), st.st_atim.tv_nsec);
    out.push_back(line);
  }
  return out;
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int first = 1;
  if (argc > 1 && std::strcmp(argv[1], "--ignore-symlink-atime") == 0) {
    g_ignore_symlink_atime = true;
    ++first;
  }
  if (argc - first < 2) {
    std::fprintf(stderr, "usage: tmpfs_tree [--ignore-symlink-atime] DIR ROOT...\n");
    return 2;
  }
  std::string dir = argv[first];
  std::vector<std::string> roots(argv + first + 1, argv + argc);
  struct sigaction sa {};
  sa.sa_handler = on_usr1;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGUSR1, &sa, nullptr);

  for (const auto& root : roots) build(root);
  manifest(roots);  // settles the atimes the first reads change (relatime)
  const std::vector<std::string> contents = manifest(roots);
  std::vector<std::string> before = contents;
  for (const auto& l : atimes(contents)) before.push_back(l);
  workload::replace_file(dir + "/manifest-before", joined(before));

  std::string me = std::to_string(getpid());
  for (uint64_t counter = 1;; ++counter) {
    workload::replace_file(dir + "/status-" + me, "counter=" + std::to_string(counter) + "\n");
    if (g_report) {
      g_report = 0;
      // Atimes first, by lstat, before the reads of manifest() can change them.
      std::vector<std::string> now_atimes = atimes(contents);
      std::vector<std::string> now = manifest(roots);
      for (const auto& l : now_atimes) now.push_back(l);
      workload::replace_file(dir + "/manifest-after", joined(now));
      size_t diff = 0;
      for (size_t i = 0; i < std::max(now.size(), before.size()) && diff == 0; ++i) {
        if (i >= now.size() || i >= before.size() || now[i] != before[i]) diff = i + 1;
      }
      struct stat sparse {};
      lstat((roots[0] + "/sparse").c_str(), &sparse);
      char line[256];
      std::snprintf(line, sizeof line,
                    "pid=%d counter=%llu entries=%zu match=%d diff_line=%zu sparse_size=%lld "
                    "sparse_blocks=%lld\n",
                    getpid(), static_cast<unsigned long long>(counter), now.size(), diff == 0, diff,
                    static_cast<long long>(sparse.st_size),
                    static_cast<long long>(sparse.st_blocks));
      // The reads above may have moved atimes (once, after a restore): the next check
      // compares with them as they are now.
      std::vector<std::string> settled = atimes(contents);
      workload::replace_file(dir + "/manifest-expected", joined(before));
      std::copy(settled.begin(), settled.end(), before.begin() + contents.size());
      workload::replace_file(dir + "/report-" + me, line);
    }
    usleep(10000);
  }
}
