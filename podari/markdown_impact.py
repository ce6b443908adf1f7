"""The impact callout: a highlighted figure with a short text, written in a story's Markdown.

    !!! impact $5,000
        paid for the clinical description Russia's Ministry of Health asks for.

becomes

    <aside class="impact"><p class="impact__figure">$5,000</p><p>paid for …</p></aside>

The syntax follows Python-Markdown's admonitions (the text is indented by four spaces and
may run over several paragraphs), so staff who know one know the other. CommonMark has no
extensions, so the callout is rewritten before parsing into an HTML block that holds
Markdown: `<aside>` starts an HTML block that a blank line ends, the indented text in
between is ordinary Markdown, and a lone `</aside>` closes it. One pass over the lines:
the time stays linear in the length of the text.
"""

import re
from html import escape

# Classes the sanitiser lets through (podari.markdown): only the callout's own.
ALLOWED_CLASSES = {"aside": {"impact"}, "p": {"impact__figure"}}

START = re.compile(r"!!![ \t]+impact[ \t]+(?P<figure>\S.*?)[ \t]*")
FENCE = re.compile(r" {0,3}(```|~~~)")
INDENT = "    "


def _indented(line):
    return line.startswith((INDENT, "\t"))


def expand_impact_callouts(text):
    lines = text.split("\n")
    out = []
    fence = None  # inside a fenced code block, "!!! impact" is just text
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = FENCE.match(line)
        if fence is None and opening:
            fence = opening.group(1)
        elif fence is not None and line.lstrip().startswith(fence):
            fence = None
        start = START.fullmatch(line) if fence is None else None
        if start is None:
            out.append(line)
            i += 1
            continue
        body = []
        i += 1
        while i < len(lines):
            current = lines[i]
            if _indented(current):
                body.append(current[4:] if current.startswith(INDENT) else current[1:])
            elif current.strip() == "" and i + 1 < len(lines) and _indented(lines[i + 1]):
                body.append("")
            else:
                break
            i += 1
        figure = escape(start.group("figure"), quote=False)
        out += ['<aside class="impact">', f'<p class="impact__figure">{figure}</p>', ""]
        out += [*body, "", "</aside>", ""]
    return "\n".join(out)
