"""Write a C header that contains a text file as a string constant.

Usage: embed.py SOURCE HEADER NAME [MODULE=FILE ...]

Each MODULE=FILE puts the text of FILE, as a Python string literal, into
the line `_OMCP_MODULES = {}` of SOURCE, so that the bootstrap can import
it without a file in the sandbox.
"""
import sys

MODULES_LINE = "_OMCP_MODULES = {}\n"


def embed_modules(text, specs):
    modules = {}
    for spec in specs:
        name, path = spec.split("=", 1)
        with open(path, encoding="utf-8") as f:
            modules[name] = f.read()
    if not modules:
        return text
    if MODULES_LINE not in text:
        sys.exit("embed.py: the source has no line %r to fill in" % MODULES_LINE.strip())
    return text.replace(MODULES_LINE, "_OMCP_MODULES = %r\n" % modules, 1)


def main():
    source, header, name = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(source, encoding="utf-8") as f:
        text = embed_modules(f.read(), sys.argv[4:])
    lines = ["/* Generated from %s by embed.py; do not edit. */" % source.split("/")[-1],
             "static const char %s[] =" % name]
    for line in text.splitlines(True):
        escaped = line.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        lines.append('  "%s"' % escaped)
    lines[-1] += ";"
    with open(header, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
