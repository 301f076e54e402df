# escape: Open netlink sockets (routing, audit, uevents, netfilter) to reconfigure the network or listen to the kernel
# expect: contained
# layer: seccomp (AF_UNIX only), network namespace, capabilities
AF_NETLINK = 16
for protocol, name in ((0, "NETLINK_ROUTE"), (9, "NETLINK_AUDIT"), (15, "NETLINK_KOBJECT_UEVENT"),
                       (12, "NETLINK_NETFILTER"), (4, "NETLINK_SOCK_DIAG"), (16, "NETLINK_GENERIC"),
                       (11, "NETLINK_XFRM")):
    for kind in (2, 3):  # SOCK_DGRAM, SOCK_RAW
        must_deny(f"socket(AF_NETLINK, {kind}, {name}) fd", 41, AF_NETLINK, kind, protocol)
finish()
