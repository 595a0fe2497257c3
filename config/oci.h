// Reads an OCI runtime bundle's config.json (runtime-spec 1.x) into a ContainerSpec, so that
// podman, containerd and CRI-O can drive crun-ckpt like runc. Unsupported fields that would
// change behaviour are refused with the JSON pointer of the field.
//
// Mapped: process.{args, env, cwd, user.{uid, gid, additionalGids}, noNewPrivileges, rlimits},
// root.{path (relative to the bundle), readonly}, hostname, mounts (bind when the type is
// "bind" or the options hold bind/rbind; tmpfs, proc, sysfs, mqueue), linux.namespaces
// (without path), linux.{uid,gid}Mappings, linux.resources.{memory.limit, pids.limit,
// cpu.quota/period}.
// Skipped: the mounts of /proc, /dev, /dev/pts, /dev/shm, /dev/mqueue, /sys, /sys/fs/cgroup
// (the runtime creates those itself).
// Ignored as harmless: ociVersion (must be 1.x), annotations, process.terminal when false,
// process.consoleSize, empty process.apparmorProfile / selinuxLabel / linux.mountLabel,
// linux.cgroupsPath (the runtime places its cgroup itself), linux.rootfsPropagation,
// linux.resources.devices (the container's /dev holds only the standard nodes), empty hooks,
// domainname, linux.devices, linux.sysctl, linux.maskedPaths and linux.readonlyPaths.
// Refused: everything else, notably hooks, namespace paths, process.capabilities,
// linux.seccomp and non-empty maskedPaths / readonlyPaths / devices / sysctl.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "config/spec.h"

namespace ckpt::config {

// Reads BUNDLE/config.json; a relative bundle_dir is made absolute against the working
// directory. Errors read "BUNDLE/config.json: /process/args: must not be empty".
ContainerSpec load_oci_bundle(const std::string& bundle_dir, const std::string& container_id);

// The pure part: `config` is the parsed config.json, `bundle_dir` must be absolute, `file`
// names the file in messages.
ContainerSpec parse_oci_config(const nlohmann::json& config, const std::string& bundle_dir,
                               const std::string& container_id, const std::string& file);

}  // namespace ckpt::config
