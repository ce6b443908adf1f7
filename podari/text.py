"""Text people typed, made safe to repeat where it could be misread: in emails.

A donor may type anything as their name or the name a gift honours, and a receipt then
carries it, from the charity's own address, to an inbox: "Call +1 800 … or visit
refund-desk.example to claim your refund" reads like the charity's words, and mail
programs turn addresses into links. So such text is put on one line, capped in length,
and every place a mail program would start a link (`www.`, `example.com`, `a@b`, `https://`)
is broken with an invisible zero-width space, which leaves it readable and unclickable.
"""

import re
import unicodedata

ZERO_WIDTH_SPACE = "\u200b"
# Where a link or an address could continue: after ".", "@", ":" or "/" before a letter or digit.
LINK_JOINT = re.compile(r"([.@:/])(?=\w)")


def single_line(text, max_length=None):
    """One line: control and formatting characters (newlines, tabs, bidi overrides) dropped or
    turned into spaces, runs of space made one; cut with "…" beyond `max_length`."""
    cleaned = []
    for char in str(text or ""):
        category = unicodedata.category(char)
        if char.isspace() or category in ("Zl", "Zp", "Cc"):
            cleaned.append(" ")
        elif category in ("Cf", "Co", "Cs", "Cn"):
            continue
        else:
            cleaned.append(char)
    line = " ".join("".join(cleaned).split())
    if max_length and len(line) > max_length:
        line = line[: max_length - 1].rstrip() + "…"
    return line


def unlinked(text):
    """The text with a zero-width space wherever a mail program would continue a link."""
    return LINK_JOINT.sub(rf"\1{ZERO_WIDTH_SPACE}", text)


def typed_by_donor(text, max_length=80):
    """A name a donor typed, as an email may show it: one line, capped, never a link."""
    return unlinked(single_line(text, max_length))
