#include "image/manifest.h"

#include <sys/utsname.h>

#include <ctime>
#include <optional>

#include "common/error.h"
#include "common/file_util.h"
#include "image/checksum.h"

namespace ckpt::image {

namespace {

using nlohmann::json;

const char* compression_name(Compression c) {
  return c == Compression::zstd ? "zstd" : "none";
}

std::string utc_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Error manifest_error(const std::string& dir, std::string what, std::string hint) {
  Error e(std::move(what), 0, std::move(hint));
  e.context("image " + dir + ": " + kManifestName);
  return e;
}

constexpr const char* kUntrusted = "the image cannot be trusted; take the checkpoint again";

// format_version as a number if it is one, so a newer image is recognised even when other
// checks would fail on fields this version does not know.
std::optional<uint64_t> version_of(const json& doc) {
  if (!doc.is_object()) return std::nullopt;
  auto it = doc.find("format_version");
  if (it == doc.end() || !it->is_number_unsigned()) return std::nullopt;
  return it->get<uint64_t>();
}

FileRecord parse_entry(const std::string& dir, const std::string& name, const json& entry) {
  auto bad = [&](const std::string& what) {
    return manifest_error(dir, "files." + name + ": " + what, kUntrusted);
  };
  if (!entry.is_object()) throw bad("not an object");
  FileRecord r;
  auto size = entry.find("size");
  if (size == entry.end() || !size->is_number_unsigned()) throw bad("size missing or not a count");
  r.size = size->get<uint64_t>();
  auto sum = entry.find("xxh128");
  if (sum == entry.end() || !sum->is_string() || !is_xxh128_hex(sum->get<std::string>())) {
    throw bad("xxh128 missing or not 32 hex digits");
  }
  r.xxh128 = sum->get<std::string>();
  r.compression = Compression::none;
  if (auto c = entry.find("compression"); c != entry.end()) {
    if (*c == "zstd") {
      r.compression = Compression::zstd;
    } else if (*c != "none") {
      throw bad("compression " + c->dump() + " is not none or zstd");
    }
  }
  r.raw_size = r.size;
  if (auto raw = entry.find("raw_size"); raw != entry.end()) {
    if (!raw->is_number_unsigned()) throw bad("raw_size is not a count");
    r.raw_size = raw->get<uint64_t>();
    r.stream = true;
  } else if (r.compression == Compression::zstd) {
    throw bad("raw_size missing for a zstd stream");
  }
  if (r.compression == Compression::none && r.raw_size != r.size) {
    throw bad("raw_size differs from size in an uncompressed file");
  }
  try {
    check_file_name(name);
  } catch (const Error& e) {
    throw bad(e.message());
  }
  return r;
}

}  // namespace

void check_file_name(const std::string& name) {
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos ||
      name.find('\0') != std::string::npos) {
    throw Error("image file name '" + name + "' is not a plain file name", 0,
                "use a name without '/'");
  }
  if (name == kManifestName || name == kManifestSumName) {
    throw Error("image file name '" + name + "' is reserved for the manifest", 0,
                "choose another name");
  }
}

std::string host_arch() {
  struct utsname uts {};
  ::uname(&uts);
  return uts.machine;
}

void check_arch(const std::string& dir, const json& doc, const std::string& host) {
  auto arch = doc.find("arch");
  if (arch == doc.end() || !arch->is_string() || arch->get<std::string>().empty())
    throw manifest_error(dir, "arch missing or not a string", kUntrusted);
  const std::string& image_arch = arch->get_ref<const std::string&>();
  if (image_arch != host) {
    // Registers, the xsave layout, syscall numbers and the code in memory are all the
    // dumping CPU's: nothing of the image could run here.
    throw Error("image " + dir + " was taken on " + image_arch + ", this host is " + host, 0,
                "restore it on a host where uname -m says " + image_arch);
  }
}

json build_manifest(const FileMap& files, const json& body) {
  struct utsname uts {};
  ::uname(&uts);
  json entries = json::object();
  for (const auto& [name, r] : files) {
    json e = {
        {"size", r.size}, {"xxh128", r.xxh128}, {"compression", compression_name(r.compression)}};
    if (r.stream) e["raw_size"] = r.raw_size;
    entries[name] = std::move(e);
  }
  return json{{"magic", kMagic},      {"format_version", kFormatVersion},
              {"created", utc_now()}, {"kernel", uts.release},
              {"arch", uts.machine},  {"files", std::move(entries)},
              {"body", body}};
}

Manifest parse_manifest(const std::string& dir, const std::string& json_text,
                        const std::string& sum_text) {
  std::string expected(trim(sum_text));
  bool sum_ok = xxh128_hex(json_text) == expected;
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);

  // Version first: a newer format may have changed anything after it, even how the manifest
  // is summed, and "upgrade" is the one useful thing to say about it.
  if (auto version = version_of(doc);
      version && *version > kFormatVersion && doc.value("magic", json()) == kMagic) {
    throw Error("image " + dir + " was written by a newer crun-ckpt (format " +
                std::to_string(*version) + ", this one reads up to " +
                std::to_string(kFormatVersion) + "): upgrade crun-ckpt to restore it");
  }
  if (!is_xxh128_hex(expected)) {
    Error e("manifest.sum does not hold a 32-hex-digit xxh128", 0, kUntrusted);
    e.context("image " + dir);
    throw e;
  }
  if (!sum_ok) {
    throw manifest_error(dir, "checksum mismatch against manifest.sum: flipped or truncated",
                         kUntrusted);
  }
  if (doc.is_discarded() || !doc.is_object()) {
    throw manifest_error(dir, "not a JSON object", kUntrusted);
  }
  if (doc.value("magic", json()) != kMagic) {
    throw manifest_error(dir,
                         "magic is " + doc.value("magic", json()).dump() + ", not \"" + kMagic +
                             "\": not a crun-ckpt image",
                         "give the directory of an image written by crun-ckpt checkpoint");
  }
  auto version = version_of(doc);
  if (!version || *version == 0) {
    throw manifest_error(dir, "format_version missing or not a positive integer", kUntrusted);
  }
  auto files = doc.find("files");
  if (files == doc.end() || !files->is_object()) {
    throw manifest_error(dir, "files missing or not an object", kUntrusted);
  }
  Manifest m;
  for (const auto& [name, entry] : files->items()) m.files[name] = parse_entry(dir, name, entry);
  if (!doc.contains("body")) doc["body"] = nullptr;
  m.doc = std::move(doc);
  return m;
}

}  // namespace ckpt::image
