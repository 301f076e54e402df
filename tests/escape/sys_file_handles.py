# escape: "Shocker": open the host filesystem's root inode by handle with open_by_handle_at, and name_to_handle_at
# expect: contained
# layer: seccomp, capabilities (no CAP_DAC_READ_SEARCH)
SYS_name_to_handle_at, SYS_open_by_handle_at = 303, 304


class file_handle(ctypes.Structure):
    _fields_ = [("handle_bytes", ctypes.c_uint32), ("handle_type", ctypes.c_int),
                ("f_handle", ctypes.c_uint8 * 128)]


handle = file_handle(128, 0)
mount_id = ctypes.c_int()
must_deny("name_to_handle_at(/usr/bin/python3)", SYS_name_to_handle_at, -100, b"/usr/bin/python3",
            ctypes.byref(handle), ctypes.byref(mount_id), 0)
# The handle of inode 2, generation 0 (FILEID_INO32_GEN) is the root of
# an ext4 filesystem: with /usr as the mount, that is the host's root.
root = file_handle(8, 1)
ctypes.memmove(root.f_handle, ctypes.byref(ctypes.c_uint32(2)), 4)
for mount in ("/usr", "/etc/ld.so.cache", "/sandbox"):
    fd = os.open(mount, os.O_RDONLY)
    result, error = must_deny(f"open_by_handle_at(root inode via {mount})", SYS_open_by_handle_at,
                                fd, ctypes.byref(root), os.O_RDONLY | os.O_DIRECTORY)
    if result >= 0:
        try:
            escaped(f"host root through a handle: {os.listdir(result)[:10]}")
        finally:
            os.close(result)
    os.close(fd)
finish()
