#include "ns/in_namespace.h"

#include <fcntl.h>
#include <sched.h>

#include <exception>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/file_util.h"

namespace ckpt::ns {

namespace {

const char* ns_file(int nstype) {
  switch (nstype) {
    case CLONE_NEWUTS:
      return "uts";
    case CLONE_NEWIPC:
      return "ipc";
    case CLONE_NEWNET:
      return "net";
  }
  return nullptr;
}

}  // namespace

void in_namespace_of(pid_t pid, int nstype, const std::function<void()>& fn) {
  const char* name = ns_file(nstype);
  if (name == nullptr)
    throw Error("in_namespace_of: namespace type " + std::to_string(nstype) +
                " cannot be entered by one thread");
  std::string path = "/proc/" + std::to_string(pid) + "/ns/" + name;
  UniqueFd ns = open_file(path, O_RDONLY);
  std::exception_ptr failure;
  std::thread helper([&] {
    try {
      check_sys(::setns(ns.get(), nstype), "setns " + path);
      fn();
    } catch (...) {
      failure = std::current_exception();
    }
  });
  helper.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace ckpt::ns
