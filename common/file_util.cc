#include "common/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"

namespace ckpt {

UniqueFd open_file(const std::string& path, int flags, int mode) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) throw sys_error("open " + path);
  return UniqueFd(fd);
}

std::string read_file(const std::string& path) {
  UniqueFd fd = open_file(path, O_RDONLY);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

void write_existing(const std::string& path, std::string_view data) {
  UniqueFd fd = open_file(path, O_WRONLY);
  ssize_t n = ::write(fd.get(), data.data(), data.size());
  if (n < 0) throw sys_error("write '" + std::string(trim(data)) + "' to " + path);
}

void read_full(int fd, void* buf, size_t len, const std::string& what) {
  auto* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t n = ::read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("read " + what);
    }
    if (n == 0) throw Error("read " + what + ": unexpected end of file");
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void write_full(int fd, const void* buf, size_t len, const std::string& what) {
  const auto* p = static_cast<const char*>(buf);
  while (len > 0) {
    ssize_t n = ::write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw sys_error("write " + what);
    }
    p += n;
    len -= static_cast<size_t>(n);
  }
}

void write_file_atomic(const std::string& path, std::string_view data, int mode, bool durable) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    UniqueFd fd = open_file(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode);
    write_full(fd.get(), data.data(), data.size(), tmp);
    if (durable && ::fsync(fd.get()) < 0) throw sys_error("fsync " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) < 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw Error("rename " + tmp + " to " + path, err);
  }
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void for_each_proc_field(std::string_view text,
                         const std::function<void(const std::string&, const std::string&)>& fn) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    fn(std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
  }
}

std::string_view trim(std::string_view text) {
  const char* ws = " \t\r\n";
  size_t b = text.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  size_t e = text.find_last_not_of(ws);
  return text.substr(b, e - b + 1);
}

void make_dirs(const std::string& path, int mode) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), mode) < 0 && errno != EEXIST) throw sys_error("mkdir " + prefix);
  }
}

namespace {
void remove_at(int dirfd, const char* name, dev_t dev) {
  struct stat st;
  if (::fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return;
    throw sys_error(std::string("stat ") + name);
  }
  if (S_ISDIR(st.st_mode)) {
    if (st.st_dev != dev) throw Error(std::string("refusing to remove mount point ") + name);
    int fd = ::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) throw sys_error(std::string("open ") + name);
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      throw sys_error(std::string("opendir ") + name);
    }
    while (dirent* ent = ::readdir(dir)) {
      if (std::strcmp(ent->d_name, ".") == 0 || std::strcmp(ent->d_name, "..") == 0) continue;
      try {
        remove_at(fd, ent->d_name, dev);
      } catch (...) {
        ::closedir(dir);
        throw;
      }
    }
    ::closedir(dir);
    if (::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
      throw sys_error(std::string("rmdir ") + name);
  } else if (::unlinkat(dirfd, name, 0) < 0 && errno != ENOENT) {
    throw sys_error(std::string("unlink ") + name);
  }
}
}  // namespace

void remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return;
    throw sys_error("stat " + path);
  }
  with_context("remove " + path, [&] { remove_at(AT_FDCWD, path.c_str(), st.st_dev); });
}

void for_each_line(std::string_view text,
                   const std::function<void(size_t, const std::string&)>& fn) {
  size_t lineno = 0, start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    ++lineno;
    if (end > start) fn(lineno, std::string(text.substr(start, end - start)));
    start = end + 1;
  }
}

}  // namespace ckpt
