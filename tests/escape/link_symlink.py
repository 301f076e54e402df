# escape: Symlinks from /sandbox to host files: /proc/1/root, /etc/shadow, the test's host directory
# expect: contained
# layer: mount namespace (pivot_root, old root detached), non-dumpable supervisor
import re

secret = {{HOST_SECRET}}
server_pid = {{SERVER_PID}}
host_file = "{{HOST_DIR}}/secret"
targets = [
    "/proc/1/root" + host_file, "/proc/1/root/etc/shadow", "/proc/1/cwd/../../etc/shadow",
    f"/proc/{server_pid}/root" + host_file, f"/proc/{server_pid}/root/etc/shadow",
    "/proc/self/root" + host_file, "../../../../../.." + host_file, host_file, "/etc/shadow",
    "/proc/self/root/../../../etc/shadow", "/root/.bash_history", "/proc/1/environ",
]
os.makedirs("/sandbox/links", exist_ok=True)
shadow_line = re.compile(r"^root:[^:]*:\d*:", re.M)
for index, target in enumerate(targets):
    link = f"/sandbox/links/{index}"
    os.symlink(target, link)
    try:
        with open(link, "rb") as f:
            data = f.read(1 << 20).decode(errors="replace")
    except OSError:
        continue
    if secret in data:
        escaped(f"read the host secret through a link to {target}")
    if shadow_line.search(data):
        escaped(f"read a shadow file through a link to {target}")
    if target == "/proc/1/environ":
        escaped("read the supervisor's environment through a link")
finish()
