# escape: Endless output without newlines on both streams, with raw writes from several processes
# expect: truncated
# layer: output cap (server), supervisor (kills every process)
# timeout: 30
for _ in range(3):
    if os.fork() == 0:
        break
block = b"z" * (1 << 20)
while True:
    os.write(1, block)
    os.write(2, block)
