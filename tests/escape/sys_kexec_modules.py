# escape: Load a kernel or a kernel module: kexec_load, kexec_file_load, init_module, finit_module, delete_module
# expect: contained
# layer: seccomp, capabilities
# Arguments are invalid on purpose (unknown flags, an empty image, a
# module that does not exist), so that a call that got through still
# changes nothing on the host.
SYS_kexec_load, SYS_kexec_file_load = 246, 320
SYS_init_module, SYS_finit_module, SYS_delete_module = 175, 313, 176
must_deny("kexec_load", SYS_kexec_load, 0, 0, 0, 0x7FFF0000, allowed=(errno.EPERM,))
must_deny("kexec_file_load", SYS_kexec_file_load, -1, -1, 0, 0, 0x7FFF0000)
image = ctypes.create_string_buffer(b"\x7fELF", 64)
must_deny("init_module", SYS_init_module, image, 64, b"")
null = os.open("/dev/null", os.O_RDONLY)
must_deny("finit_module", SYS_finit_module, null, b"", 0)
os.close(null)
must_deny("delete_module", SYS_delete_module, b"omcp_no_such_module", 0o4000)  # O_NONBLOCK
for path in ("/proc/sys/kernel/modprobe", "/sbin/modprobe"):
    try:
        os.close(os.open(path, os.O_WRONLY))
        escaped(f"opened {path} for writing")
    except OSError:
        pass
finish()
