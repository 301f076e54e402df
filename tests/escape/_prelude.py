# Prepended to every program of the corpus by tests/integration/test_escape.py.
# A program calls escaped() for each attempt that got through and finish()
# at its end, which prints CONTAINED only when none did.
import ctypes
import errno
import os
import sys

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
_escapes = []


def escaped(what):
    """Record an attempt that succeeded."""
    _escapes.append(what)
    print("ESCAPED: " + what, flush=True)


def finish():
    if _escapes:
        print(f"{len(_escapes)} attempts got through", flush=True)
        sys.exit(1)
    print("CONTAINED", flush=True)


def _argument(value):
    if isinstance(value, int):
        return ctypes.c_long(value)
    if isinstance(value, (bytes, str)):
        return ctypes.c_char_p(value.encode() if isinstance(value, str) else value)
    return value


def syscall(number, *args):
    """Make system call NUMBER (x86_64); return (result, errno)."""
    ctypes.set_errno(0)
    result = libc.syscall(ctypes.c_long(number), *[_argument(a) for a in args])
    return result, ctypes.get_errno()


def must_deny(what, number, *args, allowed=(errno.EPERM,)):
    """Make a system call that must fail with an errno in ALLOWED.

    Any other outcome is recorded as escaped: a success reached the kernel
    feature, and another errno means the call got past the layer that
    should deny it. When WHAT ends in "fd", a returned descriptor is closed.
    """
    result, error = syscall(number, *args)
    if result >= 0:
        escaped(f"{what} succeeded (returned {result})")
        if result > 2 and what.endswith("fd"):
            os.close(result)
    elif error not in allowed:
        escaped(f"{what} failed with {errno.errorcode.get(error, error)}, not "
                + "/".join(errno.errorcode[e] for e in allowed))
    return result, error


def must_fail(what, action, *args):
    """Run ACTION(*ARGS), which must raise OSError; return the errno or the result."""
    try:
        value = action(*args)
    except OSError as error:
        return error.errno
    escaped(what)
    return value
