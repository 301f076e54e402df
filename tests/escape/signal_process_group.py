# escape: Signal the supervisor's process group, then the execution's own group
# expect: killed
# layer: PID namespace, own session per execution
import signal, time

# The supervisor's group lies outside the sandbox's PID namespace, so
# getpgid(1) returns 0 there. Group 1 would be the supervisor's if it led one.
supervisor_group = os.getpgid(1)
print(f"getpgid(1) = {supervisor_group}", flush=True)
for group in {1, supervisor_group} - {0}:
    try:
        os.killpg(group, signal.SIGKILL)
    except OSError:
        pass
# Group 0 is the caller's own: this kills the execution itself, which the
# server reports as exit 137. The supervisor must survive it.
os.killpg(0, signal.SIGKILL)
time.sleep(5)
