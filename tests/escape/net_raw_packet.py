# escape: Open raw IP, ICMP and packet sockets (sniffing and forging traffic)
# expect: contained
# layer: seccomp (AF_UNIX only), capabilities (no CAP_NET_RAW), network namespace
import socket

AF_PACKET = 17
for family, kind, protocol, name in (
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP, "raw ICMP"),
        (socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW, "raw IP"),
        (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP, "ICMP datagram (ping)"),
        (socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6, "raw ICMPv6"),
        (AF_PACKET, socket.SOCK_RAW, 0x0300, "packet (ETH_P_ALL)"),
        (AF_PACKET, socket.SOCK_DGRAM, 0x0300, "cooked packet")):
    must_deny(f"socket({name}) fd", 41, family, kind, socket.htons(protocol) if family == AF_PACKET else protocol)
# The family is an int: bits above 32 must not let AF_INET through.
must_deny("socket(AF_INET with high bits) fd", 41, (1 << 32) | socket.AF_INET, socket.SOCK_RAW,
            socket.IPPROTO_ICMP)
finish()
