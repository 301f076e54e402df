# Static check of user code, run by the server as a long-lived
# `python3 -I -S -c <this file>` in a sandbox of its own that no agent can
# reach. Each request on descriptor 3 is an 8-byte big-endian length and
# that many bytes of source; each reply on stdout is one JSON line,
# {"ok": true} or {"ok": false, "error": "Security Violation: ..."}.
# The check is defence in depth: the sandbox that runs the code is the
# security boundary, and a determined author can get past a static check.
import sys

# -I leaves neither the current directory nor user paths on sys.path, and
# -S skips site-packages. Drop any writable location all the same, before
# the first import below, so that no planted ast.py can shadow the stdlib.
sys.path[:] = [p for p in sys.path
               if p and not p.startswith(("/sandbox", "/tmp", "/var/tmp", "/dev/shm"))]

import ast  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

BLOCKED_MODULES = frozenset((
    "os", "sys", "subprocess", "shutil", "socket", "requests", "urllib", "http", "ftplib",
    "poplib", "imaplib", "smtplib", "telnetlib", "ctypes", "pickle", "marshal", "shelve",
    "dbm", "sqlite3", "importlib", "threading", "asyncio", "multiprocessing", "signal", "pty",
    "mmap", "resource", "gc", "inspect",
))

BLOCKED_CALLS = frozenset((
    "exec", "eval", "compile", "open", "__import__", "getattr", "setattr", "delattr", "input",
    "breakpoint", "globals", "locals", "vars",
))

BLOCKED_NAMES = frozenset((
    "__builtins__", "__globals__", "__class__", "__bases__", "__subclasses__", "__mro__",
    "__code__", "__closure__", "__dict__", "__new__", "__init_subclass__", "__getattribute__",
    "__reduce__", "__reduce_ex__", "__loader__", "__spec__", "f_globals", "f_locals", "f_back",
    "gi_frame", "cr_frame", "tb_frame",
))

# Maximum length of an identifier or module name quoted in a message.
MAX_QUOTED = 100

# Virtual memory limit of this process, so that a huge input raises
# MemoryError here instead of waking the sandbox's OOM killer.
ADDRESS_SPACE_BYTES = 384 << 20

TOO_COMPLEX = "Security Violation: the code is too deeply nested or too large to check"


def quote(name):
    if len(name) > MAX_QUOTED:
        name = name[:MAX_QUOTED] + "..."
    return repr(name)


def blocked_module(name):
    """Return True when dotted module NAME is, or lies below, a blocked one."""
    return name.split(".", 1)[0] in BLOCKED_MODULES


def node_violation(node):
    """Return the message for NODE when it breaks a rule, else None."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            if blocked_module(alias.name):
                return "import of %s is not allowed" % quote(alias.name)
    elif isinstance(node, ast.ImportFrom):
        if node.module and node.level == 0 and blocked_module(node.module):
            return "import of %s is not allowed" % quote(node.module)
        for alias in node.names:
            # "from . import os" and "from x import __builtins__"
            if node.level > 0 and blocked_module(alias.name):
                return "import of %s is not allowed" % quote(alias.name)
            if alias.name in BLOCKED_NAMES:
                return "access to %s is not allowed" % quote(alias.name)
    elif isinstance(node, ast.Call):
        if isinstance(node.func, ast.Name) and node.func.id in BLOCKED_CALLS:
            return "call to built-in %s is not allowed" % quote(node.func.id)
    elif isinstance(node, ast.Name):
        if node.id in BLOCKED_NAMES:
            return "access to %s is not allowed" % quote(node.id)
    elif isinstance(node, ast.Attribute):
        if node.attr in BLOCKED_NAMES:
            return "access to attribute %s is not allowed" % quote(node.attr)
    elif isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str) \
                and key.value in BLOCKED_NAMES:
            return "access to %s by subscript is not allowed" % quote(key.value)
    return None


def check(source):
    """Return None when SOURCE (bytes) passes, else the rejection message."""
    try:
        tree = ast.parse(source, "<code>", "exec")
    except SyntaxError as error:
        # IndentationError and TabError are subclasses.
        where = " (line %d)" % error.lineno if error.lineno else ""
        return "Security Violation: %s: %s%s" % (
            "SyntaxError" if type(error) is SyntaxError else type(error).__name__ + " (SyntaxError)",
            error.msg, where)
    except ValueError as error:
        # Python 3.11 rejects null bytes with ValueError rather than SyntaxError.
        return "Security Violation: SyntaxError: %s" % error
    except (RecursionError, MemoryError):
        return TOO_COMPLEX

    first = None
    # ast.walk keeps a queue rather than recursing, so deep trees are safe.
    for node in ast.walk(tree):
        message = node_violation(node)
        if message is None:
            continue
        position = (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))
        if first is None or position < first[0]:
            first = (position, message)
    if first is None:
        return None
    (line, _), message = first
    return "Security Violation: %s (line %d)" % (message, line)


def read_exact(fd, size):
    parts = []
    while size > 0:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def limit_memory():
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    except (ImportError, OSError, ValueError):
        pass


def serve():
    limit_memory()
    while True:
        header = read_exact(3, 8)
        if header is None:
            return
        source = read_exact(3, int.from_bytes(header, "big"))
        if source is None:
            return
        try:
            error = check(source)
        except (RecursionError, MemoryError):
            error = TOO_COMPLEX
        del source
        reply = {"ok": True} if error is None else {"ok": False, "error": error}
        os.write(1, json.dumps(reply).encode() + b"\n")


serve()
