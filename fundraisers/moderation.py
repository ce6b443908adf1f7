"""What in a supporter's own words waits for a person, even from a trusted supporter.

A page speaks with the charity's name above it, so text that sends readers elsewhere
(a link, an address) or carries abuse is held for staff to read before it goes public.
The word list is short on purpose: it catches the obvious, staff catch the rest, and
visitors can report a page (views.report).
"""

import re

# A URL, a bare domain ("example.com/x", "www.x"), a Markdown link or an email address.
LINK = re.compile(
    r"(https?://|www\.|\]\(|<a\b|\b[\w-]+\.(com|org|net|ru|io|info|biz|xyz|me|co|link|ly)\b|[\w.+-]+@[\w-]+\.\w)",
    re.IGNORECASE,
)
# Whole words only, so that ordinary words containing them pass.
HELD_WORDS = (
    "bitch",
    "bastard",
    "cunt",
    "fuck",
    "fucking",
    "idiot",
    "moron",
    "nigger",
    "retard",
    "scam",
    "shit",
    "slut",
    "whore",
)
ABUSE = re.compile(r"\b(" + "|".join(HELD_WORDS) + r")\b", re.IGNORECASE)


def held_reasons(*texts):
    """Why these texts must wait for a person ("" when they need not)."""
    text = "\n".join(t or "" for t in texts)
    reasons = []
    if LINK.search(text):
        reasons.append("contains a link or an address")
    if ABUSE.search(text):
        reasons.append("contains words held for review")
    return "; ".join(reasons)
