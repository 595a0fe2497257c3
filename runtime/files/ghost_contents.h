// The bytes of a deleted file, sparse-aware: the data is found with lseek SEEK_DATA/SEEK_HOLE
// (lseek(2); a filesystem without hole tracking reports the whole file as data), copied into an
// image stream run after run, and written back at the same offsets at restore, so holes stay
// holes and a mostly empty file costs its data, not its size.
#pragma once

#include <cstdint>
#include <vector>

#include "image/image.h"
#include "runtime/model/files_model.h"

namespace ckpt::files {

// The data runs of the first `size` bytes of `fd`, ascending.
std::vector<model::DataRun> data_runs(int fd, uint64_t size);

// Bytes in all runs.
uint64_t run_bytes(const std::vector<model::DataRun>& runs);

// Copies the runs of `fd` into `out`; returns the bytes copied. Throws if the file ends before
// a run does.
uint64_t copy_runs(int fd, const std::vector<model::DataRun>& runs, image::StreamWriter& out);

// Writes the runs from `in` at their offsets in `fd`, then sets its size to `size`; checks that
// `in` ends there.
void fill_runs(int fd, const std::vector<model::DataRun>& runs, uint64_t size,
               image::StreamReader& in);

}  // namespace ckpt::files
