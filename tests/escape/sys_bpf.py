# escape: Load an eBPF program and create a map with bpf(2)
# expect: contained
# layer: seccomp, capabilities
SYS_bpf = 321
BPF_MAP_CREATE, BPF_PROG_LOAD = 0, 5
BPF_MAP_TYPE_ARRAY, BPF_PROG_TYPE_SOCKET_FILTER = 2, 1

attr = (ctypes.c_uint32 * 32)()
attr[0], attr[1], attr[2], attr[3] = BPF_MAP_TYPE_ARRAY, 4, 8, 1  # type, key, value, entries
must_deny("bpf(BPF_MAP_CREATE) fd", SYS_bpf, BPF_MAP_CREATE, attr, ctypes.sizeof(attr))

# "r0 = 0; exit": the smallest valid socket filter.
program = (ctypes.c_uint64 * 2)(0x00000000000000B7, 0x0000000000000095)
license = ctypes.create_string_buffer(b"GPL")


class prog_attr(ctypes.Structure):
    _fields_ = [("prog_type", ctypes.c_uint32), ("insn_cnt", ctypes.c_uint32),
                ("insns", ctypes.c_uint64), ("license", ctypes.c_uint64),
                ("log_level", ctypes.c_uint32), ("log_size", ctypes.c_uint32),
                ("log_buf", ctypes.c_uint64), ("pad", ctypes.c_uint8 * 64)]


load = prog_attr(BPF_PROG_TYPE_SOCKET_FILTER, 2, ctypes.addressof(program),
                 ctypes.addressof(license))
must_deny("bpf(BPF_PROG_LOAD) fd", SYS_bpf, BPF_PROG_LOAD, ctypes.byref(load), ctypes.sizeof(load))
finish()
