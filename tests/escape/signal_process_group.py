# escape: Signal the whole process group and session, and the supervisor's group
# expect: killed
# layer: PID namespace, own session per execution
import signal, time

for target in (os.getpgid(1), 1):
    try:
        os.killpg(target, signal.SIGKILL)
    except OSError:
        pass
# Group 0 is the caller's own: this kills the execution itself, which the
# runner sees as exit 137; the supervisor must survive it.
os.killpg(0, signal.SIGKILL)
time.sleep(5)
