# escape: Make the memory-cgroup OOM killer pick the supervisor: lower the own oom_score_adj, raise PID 1's
# expect: contained
# layer: capabilities (no CAP_SYS_RESOURCE), non-dumpable supervisor
for path, value in (("/proc/self/oom_score_adj", b"-1000"), ("/proc/self/oom_adj", b"-17"),
                    ("/proc/1/oom_score_adj", b"1000"), ("/proc/1/oom_adj", b"15")):
    try:
        with open(path, "wb", buffering=0) as f:
            f.write(value)
    except OSError:
        continue
    escaped(f"wrote {value.decode()} to {path}")
print("own oom_score_adj:", open("/proc/self/oom_score_adj").read().strip())
finish()
