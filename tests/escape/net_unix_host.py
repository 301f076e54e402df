# escape: Reach the test's Unix sockets on the host: an abstract name and a path in a host directory
# expect: contained
# layer: network namespace (abstract names), mount namespace (paths)
import socket

for address, name in (("\0{{ABSTRACT}}", "the host's abstract socket"),
                      ("{{UNIX_SOCKET}}", "the host's socket file"),
                      ("/proc/1/root{{UNIX_SOCKET}}", "the socket file through /proc/1/root"),
                      ("/run/systemd/private", "systemd"), ("/var/run/docker.sock", "docker"),
                      ("/run/dbus/system_bus_socket", "the system bus")):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(3)
    try:
        sock.connect(address)
        escaped(f"connected to {name}")
    except OSError:
        pass
    finally:
        sock.close()
finish()
