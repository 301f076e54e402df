# escape: personality(MMAP_PAGE_ZERO | READ_IMPLIES_EXEC) and mmap at address 0, to map the NULL page
# expect: contained
# layer: capabilities (no CAP_SYS_RAWIO, vm.mmap_min_addr)
import mmap, subprocess

MMAP_PAGE_ZERO, READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE = 0x0100000, 0x0400000, 0x0040000
SYS_personality, SYS_mmap = 135, 9
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
MAP_FIXED, MAP_PRIVATE, MAP_ANONYMOUS = 0x10, 0x02, 0x20
address = libc.mmap(0, 4096, mmap.PROT_READ | mmap.PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
if address == 0:
    escaped("mapped the page at address 0")

# The personality is inherited across exec, where MMAP_PAGE_ZERO makes the
# ELF loader map page 0 for the new program.
child = os.fork()
if child == 0:
    syscall(SYS_personality, MMAP_PAGE_ZERO | READ_IMPLIES_EXEC | ADDR_NO_RANDOMIZE)
    os.execv(sys.executable, [sys.executable, "-c",
             "import sys; maps = open('/proc/self/maps').read(); "
             "sys.exit(3 if any(l.startswith('00000000-') for l in maps.splitlines()) else 0)"])
_, status = os.waitpid(child, 0)
if os.waitstatus_to_exitcode(status) == 3:
    escaped("the program executed with MMAP_PAGE_ZERO has page 0 mapped")
finish()
