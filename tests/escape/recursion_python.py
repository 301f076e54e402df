# escape: Unbounded recursion of Python frames with sys.setrecursionlimit(10**9)
# expect: killed or destroyed
# layer: cgroup (memory)
# timeout: 60
sys.setrecursionlimit(10**9)


def descend(depth):
    return descend(depth + 1) + 1


descend(0)
escaped("the recursion finished")
