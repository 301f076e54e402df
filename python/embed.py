"""Write a C header that contains a text file as a string constant."""
import sys


def main():
    source, header, name = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(source, encoding="utf-8") as f:
        text = f.read()
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
