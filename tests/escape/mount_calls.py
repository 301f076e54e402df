# escape: mount, remount read-write, bind the host in, umount, pivot_root and the new mount API
# expect: contained
# layer: seccomp, user namespace without capabilities
SYS_mount, SYS_umount2, SYS_pivot_root = 165, 166, 155
SYS_open_tree, SYS_move_mount, SYS_fsopen, SYS_fsmount, SYS_fspick, SYS_mount_setattr = 428, 429, 430, 432, 433, 442
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
MNT_DETACH = 2

os.makedirs("/sandbox/m", exist_ok=True)
os.makedirs("/sandbox/old", exist_ok=True)
must_deny("mount tmpfs", SYS_mount, b"none", b"/sandbox/m", b"tmpfs", 0, 0)
must_deny("mount proc", SYS_mount, b"proc", b"/sandbox/m", b"proc", 0, 0)
must_deny("remount / read-write", SYS_mount, 0, b"/", 0, MS_REMOUNT | MS_BIND, 0)
must_deny("remount /usr read-write", SYS_mount, 0, b"/usr", 0, MS_REMOUNT | MS_BIND, 0)
must_deny("bind /proc/1/root", SYS_mount, b"/proc/1/root", b"/sandbox/m", 0, MS_BIND | MS_REC, 0)
must_deny("make / private", SYS_mount, 0, b"/", 0, MS_PRIVATE | MS_REC, 0)
for target in (b"/proc", b"/usr", b"/", b"/sandbox", b"/dev", b"/etc"):
    must_deny(f"umount2 {target.decode()}", SYS_umount2, target, MNT_DETACH)
must_deny("pivot_root", SYS_pivot_root, b"/sandbox", b"/sandbox/old")
must_deny("fsopen tmpfs fd", SYS_fsopen, b"tmpfs", 0)
must_deny("fspick / fd", SYS_fspick, -100, b"/", 0)
must_deny("open_tree / fd", SYS_open_tree, -100, b"/", 1)  # OPEN_TREE_CLONE
must_deny("move_mount", SYS_move_mount, -100, b"/proc", -100, b"/sandbox/m", 0)
must_deny("fsmount", SYS_fsmount, -1, 0, 0)


class mount_attr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


attr = mount_attr(0, 1, 0, 0)  # clear MOUNT_ATTR_RDONLY
must_deny("mount_setattr / read-write", SYS_mount_setattr, -100, b"/", 0, ctypes.byref(attr),
            ctypes.sizeof(attr))
try:
    open("/usr/pwned", "w")
    escaped("/usr became writable")
except OSError:
    pass
finish()
