# escape: Defeat KASLR: look for kernel addresses in /proc/kallsyms, modules, iomem, vmallocinfo and timer_list
# expect: contained
# layer: capabilities (no CAP_SYSLOG, kptr_restrict), user namespace
import re

kernel_address = re.compile(r"\bffff[0-9a-f]{12}\b")
for path in ("/proc/kallsyms", "/proc/modules", "/proc/iomem", "/proc/vmallocinfo",
             "/proc/timer_list", "/proc/sched_debug", "/proc/slabinfo", "/proc/self/stack",
             "/proc/1/stack", "/proc/keys", "/proc/net/tcp", "/proc/net/unix", "/proc/self/wchan"):
    try:
        with open(path) as f:
            data = f.read(1 << 22)
    except OSError:
        continue
    found = kernel_address.findall(data)
    if found:
        escaped(f"{path} shows kernel addresses such as {found[0]}")
    if path == "/proc/iomem" and re.search(r"^\s*0*[1-9a-f][0-9a-f]*-", data, re.M):
        escaped("/proc/iomem shows physical addresses")
finish()
