# escape: Memory bomb: allocate and touch 64 MiB blocks until the kernel stops it
# expect: killed or destroyed
# layer: cgroup (memory)
# timeout: 60
blocks = []
for i in range(256):
    blocks.append(b"x" * (64 << 20))
    print(i, flush=True)
escaped(f"allocated {len(blocks) * 64} MiB")
