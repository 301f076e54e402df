# escape: Hard links from /sandbox to files of other mounts (interpreter, /etc, /proc) to write or keep them
# expect: contained
# layer: mount boundaries (EXDEV), read-only mounts
for source in (os.path.realpath(sys.executable), "/etc/passwd", "/etc/ld.so.cache", "/usr/lib/os-release",
               "/proc/self/exe", "/proc/1/exe", "/tmp", "/dev/null"):
    target = "/sandbox/hard-" + source.strip("/").replace("/", "-")
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError:
        try:
            os.link(source, target, follow_symlinks=True)
        except OSError:
            continue
    escaped(f"hard-linked {source} into /sandbox")
    try:
        with open(target, "ab") as f:
            f.write(b"")
        escaped(f"opened the link to {source} for writing")
    except OSError:
        pass
# A link to the open interpreter binary through /proc/self/fd and linkat(AT_SYMLINK_FOLLOW).
fd = os.open(os.path.realpath(sys.executable), os.O_RDONLY)
AT_SYMLINK_FOLLOW, AT_EMPTY_PATH = 0x400, 0x1000
result, _ = syscall(265, -100, f"/proc/self/fd/{fd}".encode(), -100, b"/sandbox/hard-fd", AT_SYMLINK_FOLLOW)
if result == 0:
    escaped("linkat through /proc/self/fd linked the interpreter into /sandbox")
result, _ = syscall(265, fd, b"", -100, b"/sandbox/hard-empty", AT_EMPTY_PATH)
if result == 0:
    escaped("linkat(AT_EMPTY_PATH) linked the interpreter into /sandbox")
os.close(fd)
finish()
