# escape: Send every signal, plain and queued with forged sender data, to the supervisor
# expect: contained
# layer: PID namespace (init ignores signals without a handler)
import signal, time

SYS_rt_sigqueueinfo, SYS_tgkill = 129, 234


class siginfo(ctypes.Structure):
    _fields_ = [("signo", ctypes.c_int), ("errno", ctypes.c_int), ("code", ctypes.c_int),
                ("pid", ctypes.c_int), ("uid", ctypes.c_int), ("pad", ctypes.c_byte * 108)]


for sig in range(1, signal.SIGRTMAX + 1):
    for send in (lambda: os.kill(1, sig), lambda: syscall(SYS_tgkill, 1, 1, sig)):
        try:
            send()
        except OSError:
            pass
    # si_code SI_USER with a forged pid 0 and uid 0, as if the kernel sent it.
    info = siginfo(sig, 0, 0, 0, 0)
    result, _ = syscall(SYS_rt_sigqueueinfo, 1, sig, ctypes.byref(info))
    if result == 0:
        escaped(f"rt_sigqueueinfo with a forged SI_USER sender delivered signal {sig}")
    info = siginfo(sig, 0, 0x80, 0, 0)  # SI_KERNEL
    result, _ = syscall(SYS_rt_sigqueueinfo, 1, sig, ctypes.byref(info))
    if result == 0:
        escaped(f"rt_sigqueueinfo with SI_KERNEL delivered signal {sig}")
time.sleep(0.5)
state = [l for l in open("/proc/1/status") if l.startswith("State:")][0].split()[1]
if state not in ("S", "R"):
    escaped(f"the supervisor is in state {state} after the signals")
finish()
