# escape: Memory bomb through a memfd: 2 GiB of file pages that belong to no process
# expect: killed or destroyed or contained
# layer: cgroup (memory), rlimit (RLIMIT_FSIZE)
# timeout: 60
fd = os.memfd_create("bomb")
chunk = b"x" * (16 << 20)
written = 0
try:
    while written < (2 << 30):
        written += os.write(fd, chunk)
except OSError as error:
    print(f"stopped after {written >> 20} MiB: {errno.errorcode[error.errno]}")
if written > (512 << 20):
    escaped(f"wrote {written >> 20} MiB into a memfd")
finish()
