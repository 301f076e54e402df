# escape: Fork bomb: every process forks forever
# expect: timeout
# layer: cgroup (pids), host-enforced deadline, supervisor (kills every process)
# timeout: 4
while True:
    try:
        os.fork()
    except OSError:
        pass
