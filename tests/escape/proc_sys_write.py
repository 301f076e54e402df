# escape: Write host kernel settings under /proc/sys (hostname, modprobe, ip_forward, ...)
# expect: contained
# layer: read-only /proc/sys, user namespace
# Every file gets its own current value back, so even a broken sandbox
# changes nothing; whether the write is accepted is what counts.
written = []
for top, dirs, files in os.walk("/proc/sys"):
    for name in files:
        path = os.path.join(top, name)
        try:
            value = open(path, "rb").read()
        except OSError:
            continue
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError:
            continue
        try:
            os.write(fd, value)
            written.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
for path in written:
    escaped(f"wrote {path}")
import socket
try:
    socket.sethostname("pwned")
    escaped("sethostname succeeded")
except OSError:
    pass
finish()
