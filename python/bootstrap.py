# Runs first in every execution, as `python3 -I -c <this file>`. The server
# passes the user's code on descriptor 3 and builds the environment itself.
# Nothing here is a security boundary: the sandbox around it is. Imports
# stay inside the error path because each one costs start-up time.
import sys

sys.path.append("/sandbox/packages")
# Line by line, so output printed before a timeout or a kill still reaches
# the caller.
sys.stdout.reconfigure(line_buffering=True)

# Modules built into omcp, {name: source}. The server passes the source of
# the omop module as the first argument after -c: an argument costs nothing
# to parse, unlike a string literal here. User code then gets sys.argv == ["-c"].
_OMCP_MODULES = {"omop": sys.argv.pop(1)} if len(sys.argv) > 1 else {}


class _OmcpModuleFinder:
    """Finder and loader of the built-in modules. It is first on
    sys.meta_path, so no file in /sandbox/packages can shadow them, and it
    compiles a module only when code imports it."""

    @classmethod
    def find_spec(cls, name, path=None, target=None):
        if name not in _OMCP_MODULES:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(name, cls, origin="omcp:" + name)

    @staticmethod
    def create_module(spec):
        return None

    @staticmethod
    def exec_module(module):
        import linecache

        source = _OMCP_MODULES[module.__name__]
        filename = "<omcp:%s>" % module.__name__
        # Tracebacks then quote the module's lines.
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        exec(compile(source, filename, "exec"), module.__dict__)


sys.meta_path.insert(0, _OmcpModuleFinder)


def _omcp_run():
    with open(3, "rb", closefd=True) as stream:
        source = stream.read()
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(compile(source, "<code>", "exec"), namespace)
    except SystemExit:
        raise
    except BaseException as error:
        import linecache
        import traceback

        # Let the traceback quote the user's lines, and drop this
        # bootstrap's own frame so that it starts at <code>.
        text = source.decode("utf-8", "replace")
        linecache.cache["<code>"] = (len(text), None, text.splitlines(True), "<code>")
        tb = error.__traceback__
        if tb is not None and tb.tb_frame.f_code is _omcp_run.__code__:
            tb = tb.tb_next
        traceback.print_exception(type(error), error, tb)
        sys.stderr.flush()
        sys.exit(1)


_omcp_run()
