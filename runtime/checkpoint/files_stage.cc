// The bulk state of open file descriptions, written once per description by the handler of its
// kind (runtime/files/): today the contents of deleted files. Runs after the memory stage and
// counts toward its progress; the model's files were filled by classify_stage.
#include "common/error.h"
#include "runtime/checkpoint/dump_context.h"
#include "runtime/files/file_kinds.h"

namespace ckpt::checkpoint {

void files_stage(DumpContext& ctx) {
  files::DumpEnv env{ctx.writer, ctx.options.compression, ctx.ghosts, ctx.bytes_written};
  for (size_t i = 0; i < ctx.files.size(); ++i) {
    const model::File& file = ctx.files[i];
    const files::Holder& first = ctx.descriptions[i].holders.at(0);
    with_context("pid " + std::to_string(first.pid) + " fd " + std::to_string(first.fd),
                 [&] { files::handler(file.kind).dump(env, ctx.descriptions[i], file); });
  }
  ctx.progress(Stage::memory);
}

}  // namespace ckpt::checkpoint
