# escape: Send UDP datagrams to the test's socket on the host's 127.0.0.1, over IPv4 and IPv6
# expect: contained
# layer: seccomp (AF_UNIX only), network namespace
import socket

for family, address in ((socket.AF_INET, ("127.0.0.1", {{UDP_PORT}})),
                        (socket.AF_INET6, ("::ffff:127.0.0.1", {{UDP_PORT}}))):
    try:
        sock = socket.socket(family, socket.SOCK_DGRAM)
    except OSError:
        continue
    escaped(f"created a {family.name} datagram socket")
    try:
        sock.sendto(b"escaped", address)
        escaped(f"sent a datagram to {address}")
    except OSError:
        pass
    finally:
        sock.close()
finish()
