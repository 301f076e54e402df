# escape: An endless stream of output without a newline, on stdout
# expect: truncated
# layer: output cap (server), host-enforced deadline
# timeout: 30
while True:
    sys.stdout.write("x" * 65536)
