# escape: Open the host's disks: block devices by name and through mknod of their numbers
# expect: contained
# layer: minimal read-only /dev, nodev mounts, capabilities (no CAP_MKNOD)
import glob, stat

numbers = set()
try:
    for line in open("/proc/partitions").read().splitlines()[2:]:
        major, minor = line.split()[:2]
        numbers.add((int(major), int(minor)))
except OSError:
    pass
numbers |= {(8, 0), (8, 1), (7, 0), (259, 0), (253, 0), (254, 0), (202, 0), (179, 0)}
for path in sorted(set(glob.glob("/dev/*") + ["/dev/sda", "/dev/vda", "/dev/nvme0n1", "/dev/loop0",
                                               "/dev/loop-control", "/dev/mapper/control"])):
    try:
        mode = os.stat(path).st_mode
    except OSError:
        continue
    if stat.S_ISBLK(mode):
        escaped(f"the block device {path} is visible")
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        continue
    os.close(fd)
    if stat.S_ISBLK(mode) or "loop" in path or "mapper" in path:
        escaped(f"opened {path}")
for index, (major, minor) in enumerate(sorted(numbers)):
    path = f"/sandbox/disk{index}"
    try:
        os.mknod(path, 0o600 | stat.S_IFBLK, os.makedev(major, minor))
    except OSError:
        continue
    escaped(f"created block device node {major}:{minor}")
    try:
        os.close(os.open(path, os.O_RDONLY))
        escaped(f"opened block device {major}:{minor}")
    except OSError:
        pass
finish()
