# escape: Kill the supervisor (PID 1 of the sandbox) with SIGKILL, SIGTERM, SIGSTOP and pidfd_send_signal
# expect: contained
# layer: PID namespace (init ignores signals without a handler)
import signal, time

SYS_pidfd_open, SYS_pidfd_send_signal = 434, 424
for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGSTOP, signal.SIGINT, signal.SIGSEGV):
    try:
        os.kill(1, sig)
    except OSError:
        pass
pidfd, _ = syscall(SYS_pidfd_open, 1, 0)
if pidfd >= 0:
    syscall(SYS_pidfd_send_signal, pidfd, signal.SIGKILL, 0, 0)
    os.close(pidfd)
time.sleep(0.5)
try:
    state = [l for l in open("/proc/1/status") if l.startswith("State:")][0].split()[1]
except OSError:
    state = "gone"
if state not in ("S", "R"):
    escaped(f"the supervisor is in state {state}")
finish()
