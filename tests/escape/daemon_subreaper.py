# escape: Become a child subreaper so that orphaned daemons attach to the attacker, not to PID 1
# expect: contained
# layer: supervisor (kill(-1) reaches every process, whoever its parent is)
import time

PR_SET_CHILD_SUBREAPER = 36
if os.fork() == 0:
    os.setsid()
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    for _ in range(3):
        if os.fork() == 0:
            if os.fork() == 0:
                time.sleep(600)
            os._exit(0)
    time.sleep(600)
time.sleep(0.5)
finish()
