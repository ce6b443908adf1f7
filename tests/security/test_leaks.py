"""Smaller leaks: markup in feed summaries, and client-chosen Host headers in links."""

import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import SystemCheckError

ATOM = "{http://www.w3.org/2005/Atom}"
PAYLOAD = 'Masha is home <img src=x onerror="alert(1)"> <script>alert(2)</script>'


class Tags(HTMLParser):
    def __init__(self, html):
        super().__init__()
        self.tags = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def test_feed_summaries_are_text_in_feed_readers(client, make_story):
    make_story(summary=PAYLOAD)
    root = ET.fromstring(client.get("/stories/feed/").content)  # noqa: S314 (our own feed)
    summary = root.find(f"{ATOM}entry/{ATOM}summary")
    # A feed reader parses a type="html" summary as HTML: what it finds must be text only.
    if summary.get("type") == "html":
        assert Tags(summary.text).tags == []
        assert "onerror" in summary.text  # shown as text, not dropped
    else:
        assert summary.get("type") in (None, "text")
        assert summary.text == PAYLOAD


@pytest.mark.parametrize("host", ["testserver:6666", "localhost:8080", "127.0.0.1:1"])
def test_a_host_header_with_a_port_never_reaches_links(client, make_story, host):
    story = make_story()
    pages = [story.get_absolute_url(), "/", "/stories/", "/stories/feed/", "/sitemap.xml", "/robots.txt"]
    for url in pages:
        response = client.get(url, headers={"Host": host})
        assert response.status_code == 200, url
        body = response.content.decode()
        assert host not in body, url
        assert host.split(":")[0] + ":" not in body.replace("http://testserver", ""), url
    html = client.get(story.get_absolute_url(), headers={"Host": host}).content.decode()
    assert f'<link rel="canonical" href="http://testserver{story.get_absolute_url()}">' in html


def test_production_without_site_url_fails_its_system_check(settings):
    settings.DEBUG = False
    settings.SITE_URL = ""
    with pytest.raises(SystemCheckError, match="SITE_URL"):
        call_command("check")
    settings.SITE_URL = "https://podari.life"
    call_command("check")


def test_a_production_server_without_site_url_refuses_to_start(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "podari.life",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "podari.settings",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "check"],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "podari.E001" in result.stderr
