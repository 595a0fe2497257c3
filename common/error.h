// The one error type of crun-ckpt.
//
// Every failure is a ckpt::Error: the errno that caused it (0 when it was not a syscall), what
// failed, and context added on the way up ("restore pid 42", "spec.yaml:3:5"). The CLI edge
// catches it and prints one line: `crun-ckpt: <context>: <what>: <strerror>[ (hint)]`.
// Exceptions rather than result values keep RAII cleanup automatic on every error path.
#pragma once

#include <cerrno>
#include <exception>
#include <string>
#include <utility>

namespace ckpt {

class Error : public std::exception {
 public:
  explicit Error(std::string what, int err = 0, std::string hint = {})
      : what_(std::move(what)), errno_(err), hint_(std::move(hint)) {
    rebuild();
  }

  // The errno of the failing syscall, 0 if the error is not one.
  int code() const noexcept { return errno_; }
  const std::string& hint() const noexcept { return hint_; }
  // The message without context, errno text or hint.
  const std::string& message() const noexcept { return what_; }
  // The full one-line text shown to the user.
  const char* what() const noexcept override { return line_.c_str(); }

  // Prepends "ctx: " to the message; returns *this so callers can `throw e.context(...)`.
  Error& context(const std::string& ctx) {
    context_ = context_.empty() ? ctx : ctx + ": " + context_;
    rebuild();
    return *this;
  }
  // The exit status the CLI should end with (1 unless set; 127 for a missing program, as a shell).
  int exit_status() const noexcept { return exit_status_; }
  Error& with_exit_status(int status) {
    exit_status_ = status;
    return *this;
  }
  Error& with_hint(std::string hint) {
    hint_ = std::move(hint);
    rebuild();
    return *this;
  }

 private:
  void rebuild();

  std::string what_;
  int errno_ = 0;
  std::string hint_;
  std::string context_;
  std::string line_;
  int exit_status_ = 1;
};

// Builds an Error from the current errno: `throw sys_error("open " + path);`
inline Error sys_error(std::string what) { return Error(std::move(what), errno); }

// Checks a syscall-style return value (-1 with errno) and throws on failure.
template <typename T>
T check_sys(T ret, const std::string& what) {
  if (ret == static_cast<T>(-1)) throw sys_error(what);
  return ret;
}

// Runs fn(); any ckpt::Error escaping it gets `ctx` prepended.
template <typename Fn>
decltype(auto) with_context(const std::string& ctx, Fn&& fn) {
  try {
    return std::forward<Fn>(fn)();
  } catch (Error& e) {
    e.context(ctx);
    throw;
  }
}

}  // namespace ckpt
