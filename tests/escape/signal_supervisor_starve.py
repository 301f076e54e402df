# escape: Starve the supervisor of CPU (SCHED_IDLE, nice 19, one CPU) behind busy loops, so that it cannot enforce the deadline
# expect: timeout or destroyed
# layer: host-enforced deadline (the server kills the supervisor when it does not confirm the kill)
# timeout: 3
# The supervisor shares the uid of the code, so these calls may succeed;
# the server must still end the execution in time and keep serving.
for action in (lambda: os.sched_setscheduler(1, os.SCHED_IDLE, os.sched_param(0)),
               lambda: os.setpriority(os.PRIO_PROCESS, 1, 19),
               lambda: os.sched_setaffinity(1, {0})):
    try:
        action()
    except OSError as error:
        print(f"failed: {errno.errorcode[error.errno]}")
os.sched_setaffinity(0, {0})
for _ in range(8):
    if os.fork() == 0:
        break
while True:
    pass
