# Runs first in every execution, as `python3 -I -c <this file>`. The server
# passes the user's code on descriptor 3 and builds the environment itself.
# Nothing here is a security boundary: the sandbox around it is. Imports
# stay inside the error path because each one costs start-up time.
import sys

sys.path.append("/sandbox/packages")
# Line by line, so output printed before a timeout or a kill still reaches
# the caller.
sys.stdout.reconfigure(line_buffering=True)


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
