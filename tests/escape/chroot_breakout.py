# escape: Classic chroot breakout: chroot into a subdirectory, then climb out with ".." past the old root
# expect: contained
# layer: seccomp (chroot), pivot_root with the old root detached
os.makedirs("/sandbox/jail", exist_ok=True)
keep = os.open("/", os.O_RDONLY)
must_fail("chroot /sandbox/jail", os.chroot, "/sandbox/jail")
os.fchdir(keep)
for _ in range(64):
    os.chdir("..")
must_fail("chroot . after climbing", os.chroot, ".")
# Wherever ".." leads, it must be the sandbox's root, not the host's.
if os.stat(".") != os.stat("/") or os.path.exists("/work") or os.path.exists("{{HOST_DIR}}"):
    escaped("climbed above the sandbox's root")
for path in ("/proc/self/root/..", "/../../..", "/sandbox/../../..", "/proc/1/root/.."):
    try:
        if os.path.exists(os.path.join(path, "{{HOST_DIR}}".lstrip("/"))):
            escaped(f"{path} leads to the host")
    except OSError:
        pass
finish()
