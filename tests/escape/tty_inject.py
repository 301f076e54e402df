# escape: Inject keystrokes with TIOCSTI and TIOCLINUX into a terminal (the server's, or any reachable)
# expect: contained
# layer: no terminal in the sandbox, seccomp (TIOCSTI, TIOCLINUX denied)
import fcntl

TIOCSTI, TIOCLINUX = 0x5412, 0x541C
# A harmless single space, no newline, so even a reached shell runs nothing.
char = ctypes.c_char(b" ")
ttys = []
for path in ("/dev/tty", "/dev/console", "/dev/ptmx", "/dev/tty0", "/dev/tty1", "/dev/pts/0",
             "/dev/pts/ptmx", "/proc/1/fd/0", "/proc/self/fd/0"):
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
    except OSError:
        continue
    if os.isatty(fd):
        escaped(f"opened a terminal: {path}")
        ttys.append(fd)
    else:
        os.close(fd)
try:
    master, slave = os.openpty()
    escaped("openpty created a pseudo-terminal")
    ttys += [master, slave]
except OSError:
    pass
for fd in [0, 1, 2] + ttys:
    for request, name in ((TIOCSTI, "TIOCSTI"), ((1 << 32) | TIOCSTI, "TIOCSTI with high bits"),
                          (TIOCLINUX, "TIOCLINUX")):
        arg = ctypes.byref(char) if "TIOCSTI" in name else ctypes.byref(ctypes.c_char(b"\x02"))
        must_deny(f"ioctl({fd}, {name})", 16, fd, request, arg)
finish()
