// The objects of a container's IPC namespace: SysV shared memory segments, semaphore sets and
// message queues (/proc/sysvipc/{shm,sem,msg}, ipc/util.c sysvipc_proc_show) and POSIX message
// queues (the entries of the namespace's mqueue file system). The image cannot hold any of them
// yet, so each one makes the checkpoint refuse, naming it. Pure parsing and wording,
// unit-tested (tests/unit/checkpoint_ipc_objects_test.cc); the reading is in
// namespace_probe.cc.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ckpt::checkpoint {

// What the files and the mqueue directory of one IPC namespace hold, as read from inside it.
struct IpcListing {
  std::string sysvipc_shm, sysvipc_sem, sysvipc_msg;  // file texts, header line included
  std::vector<std::string> posix_queues;              // names, without the leading '/'
};

enum class SysvKind { shm, sem, msg };

struct SysvObject {
  SysvKind kind = SysvKind::shm;
  uint32_t key = 0;  // IPC_PRIVATE is 0
  int id = 0;
  uint64_t size = 0;   // shm: bytes; sem: semaphores in the set; msg: bytes queued
  uint64_t count = 0;  // shm: attaches (nattch); msg: messages queued; sem: unused
};

// Parses one /proc/sysvipc file. Columns are found by the names in its header line, so a kernel
// that adds columns still parses. Throws naming the line when one cannot be read.
std::vector<SysvObject> parse_sysvipc(SysvKind kind, std::string_view text);

// One sentence per object, e.g. "SysV shared memory segment key 0x0000162e id 3 (4096 bytes,
// 0 attached) is in the container's IPC namespace; SysV IPC is not captured yet: remove it
// (ipcrm -m 3) before checkpointing". Objects in listing order: shm, sem, msg, POSIX queues.
std::vector<std::string> ipc_refusals(const IpcListing& listing);

}  // namespace ckpt::checkpoint
