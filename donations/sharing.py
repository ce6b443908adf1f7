"""Share links for the thank-you page and stories: plain links to each service's share address.

No buttons from the services themselves: their scripts would follow the donor around
the web, and the Content-Security-Policy allows no third-party script anyway.
"""

from urllib.parse import quote, urlencode


def share_links(url, text, subject):
    """(name, href) pairs for email, Facebook, X, WhatsApp and Telegram."""
    return [
        ("Email", "mailto:?" + urlencode({"subject": subject, "body": f"{text}\n\n{url}"}, quote_via=quote)),
        ("Facebook", "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
        ("X", "https://x.com/intent/post?" + urlencode({"text": text, "url": url})),
        ("WhatsApp", "https://wa.me/?" + urlencode({"text": f"{text} {url}"})),
        ("Telegram", "https://t.me/share/url?" + urlencode({"url": url, "text": text})),
    ]
