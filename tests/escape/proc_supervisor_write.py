# escape: Write to the supervisor's /proc files: mem, oom_score_adj, comm, attr, coredump_filter
# expect: contained
# layer: non-dumpable supervisor
for name, data in (("mem", b"\0"), ("oom_score_adj", b"1000"), ("oom_adj", b"15"),
                   ("comm", b"pwned"), ("coredump_filter", b"0x7f"), ("attr/current", b"unconfined"),
                   ("clear_refs", b"1"), ("timerslack_ns", b"1000000"), ("autogroup", b"19"),
                   ("loginuid", b"0"), ("sched", b"0"), ("setgroups", b"deny"),
                   ("uid_map", b"0 0 1"), ("projid_map", b"0 0 1")):
    try:
        fd = os.open(f"/proc/1/{name}", os.O_WRONLY)
    except OSError:
        continue
    try:
        os.write(fd, data)
        escaped(f"wrote /proc/1/{name}")
    except OSError as error:
        # The open alone gives a writable handle on a file of PID 1.
        if name in ("mem", "oom_score_adj", "oom_adj", "comm"):
            escaped(f"opened /proc/1/{name} for writing (write failed: {error.errno})")
    finally:
        os.close(fd)
with open("/proc/1/status") as f:
    status = f.read()
if "pwned" in status:
    escaped("renamed the supervisor")
finish()
