# escape: Connect to the test's TCP listeners on the host's 127.0.0.1 and ::1
# expect: contained
# layer: seccomp (AF_UNIX only), network namespace
import socket

for family, address in ((socket.AF_INET, ("127.0.0.1", {{PORT}})), (socket.AF_INET6, ("::1", {{PORT6}})),
                        (socket.AF_INET, ("localhost", {{PORT}}))):
    try:
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError:
        continue
    escaped(f"created a {family.name} stream socket")
    sock.settimeout(3)
    try:
        sock.connect(address)
        escaped(f"connected to the host listener {address}")
    except OSError:
        pass
    finally:
        sock.close()
# socket.create_connection resolves through getaddrinfo and tries every address.
try:
    socket.create_connection(("127.0.0.1", {{PORT}}), 3).close()
    escaped("create_connection reached the host listener")
except OSError:
    pass
finish()
