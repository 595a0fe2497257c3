// check_network_identities: the kernel's view of the host (net_scan.h) against the rules
// (net_identity.h), turned into the one line the user sees.
#include "common/error.h"
#include "ns/net_scan.h"
#include "ns/network.h"

namespace ckpt::ns {

void check_network_identities(const config::ContainerSpec& spec, const NetworkOwner& owner,
                              StartKind kind) {
  if (spec.network.interfaces.empty()) return;
  HostNetwork host = scan_host_network();
  std::optional<IdentityConflict> conflict =
      find_identity_conflict(spec.network.interfaces, owner, host);
  if (!conflict) return;
  std::string hint = conflict->hint;
  bool identity = conflict->kind != IdentityConflict::Kind::subnet;
  if (kind == StartKind::restore && identity && conflict->holder) {
    // The usual case: a copy restored beside the container it was checkpointed from.
    const Holder& h = *conflict->holder;
    std::string other = h.owner ? "'" + h.owner->id + "'" : "the container behind " + h.link;
    hint = "restore with --network-detached to run it beside " + other +
           " with no host side, or delete " + other + " first";
  }
  throw Error(conflict->key + ": " + conflict->message, 0, hint);
}

}  // namespace ckpt::ns
