"""The README's reverse proxy (deploy/nginx/) in front of gunicorn, on 127.0.0.1.

nginx refuses oversized and over-long bodies itself, so they never reach a gunicorn
worker; requests within the limits pass through to the site. Skipped where nginx is not
installed (Debian: apt-get install nginx).
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
from django.conf import settings

DEPLOY = settings.BASE_DIR / "deploy" / "nginx"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main_config(tmp_path, servers):
    """A whole nginx.conf around the given http-level text, with every path inside tmp_path."""
    temp = {name: tmp_path / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    return f"""
daemon off;
master_process off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
{servers}
}}
"""


def cache_config(tmp_path):
    """deploy/nginx/podari-cache.conf with its cache folder inside tmp_path: the http-level
    half of podari-proxy.conf, which every server running that file includes first."""
    folder = tmp_path / "cache"
    folder.mkdir(exist_ok=True)
    copy = tmp_path / "podari-cache.conf"
    text = (DEPLOY / "podari-cache.conf").read_text()
    copy.write_text(text.replace("/var/cache/nginx/podari", str(folder)))
    return copy


def nginx_test(config_path):
    return subprocess.run(  # noqa: S603
        [NGINX, "-t", "-c", str(config_path)], capture_output=True, text=True, timeout=30
    )


def test_the_production_config_is_valid(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(  # noqa: S603
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=podari.life",
         "-keyout", str(key), "-out", str(cert), "-days", "1"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    site = (DEPLOY / "podari.conf").read_text()
    # The same file, on 127.0.0.1 ports and a throwaway certificate.
    site = site.replace("/etc/nginx/snippets/podari-proxy.conf", str(DEPLOY / "podari-proxy.conf"))
    site = site.replace("/etc/nginx/snippets/podari-log.conf", str(DEPLOY / "podari-log.conf"))
    site = site.replace("/etc/nginx/snippets/podari-cache.conf", str(cache_config(tmp_path)))
    site = site.replace("/var/log/nginx/podari.access.log", str(tmp_path / "access.log"))
    site = site.replace("/etc/letsencrypt/live/podari.life/fullchain.pem", str(cert))
    site = site.replace("/etc/letsencrypt/live/podari.life/privkey.pem", str(key))
    site = re.sub(r"\n\s*listen \[::\]:\d+[^;]*;", "", site)
    site = re.sub(r"listen 80\b", f"listen 127.0.0.1:{free_port()}", site)
    site = re.sub(r"listen 443\b", f"listen 127.0.0.1:{free_port()}", site)
    assert "listen 127.0.0.1:" in site
    assert "/etc/" not in re.sub(r"#.*", "", site) and "/var/" not in re.sub(r"#.*", "", site)
    config = tmp_path / "nginx.conf"
    config.write_text(main_config(tmp_path, site))
    result = nginx_test(config)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


def wait_for(port, process, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on {port}")


@pytest.fixture(scope="module")
def proxied_site(tmp_path_factory):
    """gunicorn in production settings on 127.0.0.1, and nginx with the README's rules in front."""
    tmp_path = tmp_path_factory.mktemp("proxy")
    app_port, proxy_port = free_port(), free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "podari.settings",
        "SECRET_KEY": "proxy-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://podari.life",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    processes = []
    try:
        app = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "podari.wsgi", "--bind", f"127.0.0.1:{app_port}",
             "--workers", "1", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(app)
        servers = f"""
    include {cache_config(tmp_path)};
    upstream podari_app {{ server 127.0.0.1:{app_port}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{proxy_port};
        server_name localhost;
        include {DEPLOY / "podari-proxy.conf"};
    }}
"""
        config = tmp_path / "nginx.conf"
        config.write_text(main_config(tmp_path, servers))
        proxy = subprocess.Popen(  # noqa: S603
            [NGINX, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(proxy)
        wait_for(app_port, app)
        wait_for(proxy_port, proxy)
        yield proxy_port
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def raw_request(port, head, body=b"", read_timeout=10):
    """Send a request's head (and maybe part of a body); return the status code nginx answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def post_head(path, *headers):
    return "".join(f"{line}\n" for line in (f"POST {path} HTTP/1.1", "Host: localhost", *headers))


CHUNKED = ("Content-Type: application/x-www-form-urlencoded", "Transfer-Encoding: chunked")


def test_requests_within_the_limits_reach_the_site(proxied_site):
    connection = http.client.HTTPConnection("127.0.0.1", proxied_site, timeout=10)
    connection.request("GET", "/robots.txt", headers={"Host": "localhost"})
    response = connection.getresponse()
    assert response.status == 200
    assert b"Sitemap: https://podari.life/sitemap.xml" in response.read()


@pytest.mark.parametrize(
    "path, length",
    [
        ("/donate/", 300 * 1024 * 1024),
        ("/donate/", 64 * 1024 + 1),
        ("/", 64 * 1024 + 1),
        ("/webhooks/stripe/", 1024 * 1024 + 1),
        ("/markdownx/markdownify/", 1024 * 1024 + 1),
        ("/admin/login/", 11 * 1024 * 1024 + 1),
        ("/admin/charity/page/add/", 21 * 1024 * 1024 + 1),
        ("/markdownx/upload/", 11 * 1024 * 1024 + 1),
    ],
)
def test_oversized_bodies_are_refused_by_the_proxy_at_once(proxied_site, path, length):
    # Only the head is sent: nginx answers from Content-Length without waiting for the body.
    head = post_head(path, "Content-Type: multipart/form-data; boundary=x", f"Content-Length: {length}")
    assert raw_request(proxied_site, head) == 413


def test_an_oversized_chunked_body_is_refused(proxied_site):
    head = post_head("/donate/", *CHUNKED)
    chunk = b"a" * 16384
    body = (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 5 + b"0\r\n\r\n"
    assert raw_request(proxied_site, head, body) == 413


def test_a_small_chunked_body_reaches_the_site_with_a_length(proxied_site):
    # nginx de-chunks it, so the site sees a Content-Length and the form (and CSRF) as usual.
    head = post_head("/donate/", *CHUNKED)
    body = b"5\r\na=bcd\r\n0\r\n\r\n"
    assert raw_request(proxied_site, head, body) == 403  # Django's CSRF refusal, not a 413


def test_a_request_for_another_host_name_gets_no_page(tmp_path):
    # The default servers in podari.conf answer 444 (close) or refuse the TLS handshake;
    # checked here as text, since the test above runs a single named server.
    site = (DEPLOY / "podari.conf").read_text()
    assert re.search(r"listen 80 default_server;[^}]*return 444;", site)
    assert re.search(r"listen 443 ssl default_server;[^}]*ssl_reject_handshake on;", site)


def test_the_access_log_keeps_no_token_from_donors_links(tmp_path):
    """Tokens in the path and in the Referer are replaced by [token]; other paths stay whole."""
    port, log = free_port(), tmp_path / "access.log"
    servers = f"""
    include {DEPLOY / "podari-log.conf"};
    include {cache_config(tmp_path)};
    upstream podari_app {{ server 127.0.0.1:{free_port()}; }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {log} podari_no_tokens;
        include {DEPLOY / "podari-proxy.conf"};
    }}
"""
    config = tmp_path / "nginx.conf"
    config.write_text(main_config(tmp_path, servers))
    proxy = subprocess.Popen([NGINX, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        wait_for(port, proxy)
        tokens = {
            "/manage/link/eyJsaW5rIjoxfQ:1vT3aB:SiGnAtUrE1/": "https://podari.life/manage/",
            "/email/unsubscribe/eyJkb25vciI6N30:1vT3aB:SiGnAtUrE2/": "",
            "/email/preferences/eyJkb25vciI6N30:1vT3aB:SiGnAtUrE3/?x=1": "",
            "/static/css/site.css": "https://podari.life/email/confirm-stories/eyJlbWFpbCI6NH0:1vT3aB:SiGnAtUrE4/",
        }
        for path, referer in tokens.items():
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            headers = {"Host": "localhost", **({"Referer": referer} if referer else {})}
            connection.request("GET", path, headers=headers)
            connection.getresponse().read()
            connection.close()
    finally:
        proxy.terminate()
        proxy.wait(timeout=10)
    lines = log.read_text()
    assert "SiGnAtUrE" not in lines and "eyJ" not in lines
    assert '"GET /manage/link/[token]/ HTTP/1.1"' in lines
    assert '"GET /email/preferences/[token]/?x=1 HTTP/1.1"' in lines
    assert '"https://podari.life/email/confirm-stories/[token]/"' in lines
    assert '"GET /static/css/site.css HTTP/1.1"' in lines
