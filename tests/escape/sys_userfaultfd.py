# escape: Create a userfaultfd (used to stall the kernel at will in race exploits), by syscall and /dev/userfaultfd
# expect: contained
# layer: seccomp, minimal /dev
SYS_userfaultfd = 323
O_CLOEXEC, O_NONBLOCK, UFFD_USER_MODE_ONLY = 0o2000000, 0o4000, 1
for flags, name in ((O_CLOEXEC | UFFD_USER_MODE_ONLY, "user mode only"), (O_CLOEXEC | O_NONBLOCK, "kernel faults")):
    must_deny(f"userfaultfd({name}) fd", SYS_userfaultfd, flags)
try:
    os.close(os.open("/dev/userfaultfd", os.O_RDWR))
    escaped("opened /dev/userfaultfd")
except OSError:
    pass
finish()
