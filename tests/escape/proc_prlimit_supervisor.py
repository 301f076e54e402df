# escape: Lower the supervisor's resource limits with prlimit(1, ...)
# expect: contained
# layer: seccomp
import resource

for name, limit in (("RLIMIT_NOFILE", resource.RLIMIT_NOFILE), ("RLIMIT_CPU", resource.RLIMIT_CPU),
                    ("RLIMIT_AS", resource.RLIMIT_AS), ("RLIMIT_NPROC", resource.RLIMIT_NPROC)):
    try:
        before = resource.prlimit(1, limit)
    except OSError as error:
        before = None
    try:
        resource.prlimit(1, limit, (1, 1) if before is None else (min(before[0], 3), min(before[1], 3)))
    except OSError:
        continue
    escaped(f"prlimit(1, {name}) changed the supervisor's limit from {before}")
finish()
