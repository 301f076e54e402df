# escape: Outlive the deadline: a session leader and its daemon keep running while the execution times out
# expect: timeout
# layer: host-enforced deadline, supervisor (kills every process)
# timeout: 3
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(600)
    os._exit(0)
time.sleep(600)
