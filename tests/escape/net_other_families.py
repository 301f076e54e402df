# escape: Open sockets of the rarer families with a history of kernel bugs (vsock, AF_ALG, packet, TIPC, ...)
# expect: contained
# layer: seccomp (AF_UNIX only)
FAMILIES = {"AF_INET": 2, "AF_AX25": 3, "AF_IPX": 4, "AF_APPLETALK": 5, "AF_X25": 9, "AF_INET6": 10,
            "AF_DECnet": 12, "AF_KEY": 15, "AF_NETLINK": 16, "AF_PACKET": 17, "AF_RDS": 21,
            "AF_LLC": 26, "AF_CAN": 29, "AF_TIPC": 30, "AF_BLUETOOTH": 31, "AF_RXRPC": 33,
            "AF_ISDN": 34, "AF_PHONET": 35, "AF_IEEE802154": 36, "AF_CAIF": 37, "AF_ALG": 38,
            "AF_NFC": 39, "AF_VSOCK": 40, "AF_KCM": 41, "AF_QIPCRTR": 42, "AF_SMC": 43, "AF_XDP": 44,
            "AF_MCTP": 45}
for name, family in FAMILIES.items():
    for kind in (1, 2, 3, 5):  # STREAM, DGRAM, RAW, SEQPACKET
        must_deny(f"socket({name}, {kind}) fd", 41, family, kind, 0,
                    allowed=(errno.EPERM,))
# socketpair never reaches another host, but it must not open INET either.
pair = (ctypes.c_int * 2)()
must_deny("socketpair(AF_INET)", 53, 2, 1, 0, pair, allowed=(errno.EPERM, errno.EOPNOTSUPP))
finish()
