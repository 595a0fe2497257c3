// Internal to image/: the manifest (manifest.json + manifest.sum) as written and as checked.
// The compatibility rule lives here: format_version <= kFormatVersion is read, newer refused.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "image/image.h"

namespace ckpt::image {

constexpr const char* kManifestName = "manifest.json";
constexpr const char* kManifestSumName = "manifest.sum";

// What the manifest records for one stored file.
struct FileRecord {
  uint64_t size = 0;      // bytes on disk
  std::string xxh128;     // of the bytes on disk (compressed bytes for zstd)
  uint64_t raw_size = 0;  // bytes a reader gets back (== size when not compressed)
  Compression compression = Compression::none;
  bool stream = false;  // written through open_stream (records raw_size)
};

using FileMap = std::map<std::string, FileRecord>;

// Throws unless `name` can be a file of an image: a plain name, not the manifest's own files.
void check_file_name(const std::string& name);

// The manifest.json document: magic, version, host facts, files and the engine's body.
nlohmann::json build_manifest(const FileMap& files, const nlohmann::json& body);

struct Manifest {
  nlohmann::json doc;
  FileMap files;
};

// Refuses a manifest whose "arch" (uname -m of the dumping host) is not `host_arch`.
void check_arch(const std::string& dir, const nlohmann::json& doc, const std::string& host_arch);

// The architecture this host reports (uname -m), as build_manifest records it.
std::string host_arch();

// Checks manifest.json against manifest.sum, then magic, version and every file entry.
// `dir` only names the image in messages.
Manifest parse_manifest(const std::string& dir, const std::string& json_text,
                        const std::string& sum_text);

}  // namespace ckpt::image
