# escape: Privileged host-wide calls: I/O ports, swap, reboot, clocks, kernel log, accounting, quotas, hostname
# expect: contained
# layer: seccomp, capabilities
# Arguments are chosen so that a call that got through changes nothing:
# wrong reboot magic, no swap file, the clock set to what it reads.
import time

SYS_iopl, SYS_ioperm, SYS_swapon, SYS_swapoff, SYS_reboot = 172, 173, 167, 168, 169
SYS_acct, SYS_quotactl, SYS_syslog, SYS_settimeofday, SYS_clock_settime = 163, 179, 103, 164, 227
SYS_adjtimex, SYS_sethostname, SYS_vhangup, SYS_clock_adjtime = 159, 170, 153, 305
# ENOSYS: the kernel is built without CONFIG_X86_IOPL_IOPERM.
must_deny("iopl(3)", SYS_iopl, 3, allowed=(errno.EPERM, errno.ENOSYS))
must_deny("ioperm(0x80)", SYS_ioperm, 0x80, 1, 1, allowed=(errno.EPERM, errno.ENOSYS))
must_deny("swapon", SYS_swapon, b"/sandbox/no-swap", 0)
must_deny("swapoff", SYS_swapoff, b"/sandbox/no-swap")
must_deny("reboot (wrong magic)", SYS_reboot, 0, 0, 0x1234567, 0)
must_deny("acct", SYS_acct, b"/sandbox/acct")
must_deny("quotactl", SYS_quotactl, 0x800002, b"/", 0, 0)  # Q_GETQUOTA
buffer = ctypes.create_string_buffer(4096)
must_deny("syslog(READ_ALL)", SYS_syslog, 3, buffer, 4096)
timex = (ctypes.c_uint8 * 208)()  # modes 0: read only
must_deny("adjtimex(read)", SYS_adjtimex, timex)
must_deny("clock_adjtime(read)", SYS_clock_adjtime, 0, timex)
now = time.clock_gettime_ns(time.CLOCK_REALTIME)
timespec = (ctypes.c_long * 2)(now // 10**9, now % 10**9)
must_deny("clock_settime(CLOCK_REALTIME)", SYS_clock_settime, 0, timespec)
must_deny("settimeofday", SYS_settimeofday, timespec, 0)
must_deny("sethostname", SYS_sethostname, b"sandbox", 7)
must_deny("vhangup", SYS_vhangup)
SYS_fanotify_init = 300
must_deny("fanotify_init (watch every file access) fd", SYS_fanotify_init, 0, 0)
finish()
