# escape: Use inherited descriptors: list /proc/self/fd, look for directories, sockets or files outside the sandbox
# expect: contained
# layer: supervisor (close_range before exec)
import socket, stat

allowed_dirs = ("/sandbox", "/tmp", "/dev/null", "/proc/")
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        target = os.readlink(f"/proc/self/fd/{fd}")
        st = os.fstat(fd)
    except OSError:
        continue  # the descriptor of the listing itself
    print(f"fd {fd}: {target}")
    if stat.S_ISDIR(st.st_mode):
        escaped(f"descriptor {fd} is a directory: {target}")
        # A directory descriptor from outside the root is the classic way out.
        try:
            print(os.listdir(os.open("..", os.O_RDONLY, dir_fd=fd)))
        except OSError:
            pass
    elif stat.S_ISSOCK(st.st_mode):
        sock = socket.socket(fileno=os.dup(fd))
        escaped(f"descriptor {fd} is a socket ({sock.family!r}): {target}")
        sock.close()
    elif stat.S_ISREG(st.st_mode) and not target.startswith(("/memfd:",) + allowed_dirs):
        escaped(f"descriptor {fd} is a host file: {target}")
    elif stat.S_ISCHR(st.st_mode) and target != "/dev/null":
        escaped(f"descriptor {fd} is a device: {target}")
# The supervisor's descriptors (its control socket to the server) are out of reach.
try:
    escaped(f"listed the supervisor's descriptors: {os.listdir('/proc/1/fd')}")
except OSError:
    pass
for fd in range(0, 16):
    try:
        os.close(os.open(f"/proc/1/fd/{fd}", os.O_RDONLY))
        escaped(f"opened the supervisor's descriptor {fd}")
    except OSError:
        pass
finish()
