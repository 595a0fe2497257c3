// Link and address dumps, of the caller's network namespace or of another one named by its
// netnsid. libnl's caches cannot carry IFLA_TARGET_NETNSID, so the request is built here and
// each answer is parsed by libnl's own link and address parsers (nl_msg_parse).
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/object.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <sys/socket.h>

#include <cstring>
#include <functional>

#include "common/error.h"
#include "ns/netlink.h"

namespace ckpt::ns::nl {
namespace {

struct MsgDeleter {
  void operator()(nl_msg* m) const { nlmsg_free(m); }
};
struct CbDeleter {
  void operator()(nl_cb* c) const { nl_cb_put(c); }
};

using ObjectFn = std::function<void(nl_object*)>;

void parsed(nl_object* obj, void* arg) {
  (*static_cast<ObjectFn*>(arg))(obj);
}

int on_valid(nl_msg* msg, void* arg) {
  // Answers of a kind libnl cannot parse are skipped, not fatal.
  nl_msg_parse(msg, parsed, arg);
  return NL_OK;
}

// Sends a dump request `type` with header `header` and, if given, the target netnsid as
// attribute `netnsid_attr`; calls `fn` for each object parsed from the answers. A dump the
// kernel interrupted because the table changed meanwhile (NLM_F_DUMP_INTR: libnl reads it to
// the end and then fails it) is repeated, after `restart` dropped what it had collected.
void dump(nl_sock* sock, int type, const void* header, size_t header_len, int netnsid_attr,
          std::optional<int32_t> netnsid, const ObjectFn& fn, const std::function<void()>& restart,
          const std::string& what) {
  for (int attempt = 0;; ++attempt) {
    if (attempt > 0) restart();
    std::unique_ptr<nl_msg, MsgDeleter> msg(nlmsg_alloc_simple(type, NLM_F_DUMP));
    if (!msg) throw Error("allocate a netlink message", ENOMEM);
    check(nlmsg_append(msg.get(), const_cast<void*>(header), header_len, NLMSG_ALIGNTO), what);
    if (netnsid) check(nla_put_s32(msg.get(), netnsid_attr, *netnsid), what);
    check(nl_send_auto(sock, msg.get()), what);
    std::unique_ptr<nl_cb, CbDeleter> cb(nl_cb_clone(nl_socket_get_cb(sock)));
    if (!cb) throw Error("allocate a netlink callback", ENOMEM);
    ObjectFn collect = fn;
    nl_cb_set(cb.get(), NL_CB_VALID, NL_CB_CUSTOM, on_valid, &collect);
    int rc = nl_recvmsgs(sock, cb.get());
    if (rc == -NLE_DUMP_INTR && attempt < 5) continue;
    check(rc, what);
    return;
  }
}

}  // namespace

Socket connect_route_strict() {
  Socket sock = connect_route();
  int one = 1;
  if (::setsockopt(nl_socket_get_fd(sock.get()), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one,
                   sizeof one) < 0)
    throw sys_error("set NETLINK_GET_STRICT_CHK on a NETLINK_ROUTE socket");
  return sock;
}

std::vector<LinkFacts> dump_links(nl_sock* sock, std::optional<int32_t> netnsid) {
  std::vector<LinkFacts> out;
  ifinfomsg header;
  std::memset(&header, 0, sizeof header);
  header.ifi_family = AF_UNSPEC;
  auto fn = [&](nl_object* obj) {
    if (std::strcmp(nl_object_get_type(obj), "route/link") != 0) return;
    auto* link = reinterpret_cast<rtnl_link*>(obj);
    LinkFacts f;
    f.index = rtnl_link_get_ifindex(link);
    if (const char* name = rtnl_link_get_name(link)) f.name = name;
    if (const char* kind = rtnl_link_get_type(link)) f.kind = kind;
    f.master = rtnl_link_get_master(link);
    f.flags = rtnl_link_get_flags(link);
    if (const char* alias = rtnl_link_get_ifalias(link)) f.alias = alias;
    nl_addr* addr = rtnl_link_get_addr(link);
    if (addr && nl_addr_get_len(addr) == 6) {
      config::MacAddress mac;
      std::memcpy(mac.bytes.data(), nl_addr_get_binary_addr(addr), 6);
      f.mac = mac;
    }
    int32_t id = 0;
    if (rtnl_link_get_link_netnsid(link, &id) == 0) f.peer_netnsid = id;
    out.push_back(std::move(f));
  };
  dump(
      sock, RTM_GETLINK, &header, sizeof header, IFLA_TARGET_NETNSID, netnsid, fn,
      [&] { out.clear(); },
      netnsid ? "list the links of network namespace id " + std::to_string(*netnsid)
              : "list the host's links");
  return out;
}

std::vector<AddressFacts> dump_addresses(nl_sock* sock, std::optional<int32_t> netnsid) {
  std::vector<AddressFacts> out;
  ifaddrmsg header;
  std::memset(&header, 0, sizeof header);
  header.ifa_family = AF_INET;
  auto fn = [&](nl_object* obj) {
    if (std::strcmp(nl_object_get_type(obj), "route/addr") != 0) return;
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    nl_addr* local = rtnl_addr_get_local(addr);
    if (rtnl_addr_get_family(addr) != AF_INET || !local || nl_addr_get_len(local) != 4) return;
    AddressFacts f;
    f.index = rtnl_addr_get_ifindex(addr);
    std::memcpy(f.cidr.address.bytes.data(), nl_addr_get_binary_addr(local), 4);
    f.cidr.prefix = static_cast<uint8_t>(rtnl_addr_get_prefixlen(addr));
    out.push_back(f);
  };
  dump(
      sock, RTM_GETADDR, &header, sizeof header, IFA_TARGET_NETNSID, netnsid, fn,
      [&] { out.clear(); },
      netnsid ? "list the addresses of network namespace id " + std::to_string(*netnsid)
              : "list the host's addresses");
  return out;
}

}  // namespace ckpt::ns::nl
