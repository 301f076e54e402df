# escape: Walk out through /proc/*/root and /proc/*/cwd and through directory descriptors opened with O_PATH
# expect: contained
# layer: mount namespace, non-dumpable supervisor, PID namespace
secret = {{HOST_SECRET}}
host_dir = "{{HOST_DIR}}"
own_root = os.stat("/")
for pid in ["self", "thread-self", "1"] + [p for p in os.listdir("/proc") if p.isdigit()]:
    for link in ("root", "cwd"):
        path = f"/proc/{pid}/{link}"
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        try:
            if pid == "1":
                escaped(f"opened {path}")
            for climb in ("", "..", "../..", "../../../.."):
                st = os.stat(climb or ".", dir_fd=fd)
                if link == "root" and (st.st_dev, st.st_ino) != (own_root.st_dev, own_root.st_ino) \
                        and climb:
                    escaped(f"{path}/{climb} is above the sandbox's root")
            try:
                data = open(f"{path}{host_dir}/secret").read()
                if secret in data:
                    escaped(f"read the host secret through {path}")
            except OSError:
                pass
        finally:
            os.close(fd)
# O_PATH descriptors of / and "..": openat must stay below the sandbox's root.
fd = os.open("/", os.O_PATH)
for _ in range(8):
    parent = os.open("..", os.O_PATH, dir_fd=fd)
    os.close(fd)
    fd = parent
st = os.fstat(fd)
if (st.st_dev, st.st_ino) != (own_root.st_dev, own_root.st_ino):
    escaped("'..' from the root led somewhere else")
os.close(fd)
finish()
