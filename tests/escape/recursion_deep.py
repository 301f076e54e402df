# escape: Unbounded recursion in C with sys.setrecursionlimit(10**9): repr of a list nested 2 million deep
# expect: exit 139 or exit 1
# layer: rlimit (stack), the kernel's stack guard
# timeout: 60
sys.setrecursionlimit(10**9)
nested = []
for _ in range(2 * 10**6):
    nested = [nested]
print("built", flush=True)
# repr recurses in C, so the C stack overflows into its guard page (exit
# 139). Python 3.12 and later raise RecursionError instead (exit 1).
repr(nested)
escaped("the recursion finished")
