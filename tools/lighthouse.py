"""`make audit`: Lighthouse on a phone for the home page, a story, a project and the donate page.

Runs the site with the demo content on a throwaway SQLite database, then Google's Lighthouse
(from npm, pinned below; Node 20 runs the 12.x line) in Debian's Chromium. Accessibility,
best practices and SEO must each score 100; the JSON reports go to test-artifacts/lighthouse/.
Performance is measured by `make bench` instead: a development server says little about speed.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = str(ROOT / ".venv" / "bin" / "python")
LIGHTHOUSE = "lighthouse@12.8.2"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CATEGORIES = ["accessibility", "best-practices", "seo"]
PAGES = {
    "home": "/",
    "story": "/stories/car-t-first-milestone/",
    "project": "/projects/car-t-therapy/",
    "donate": "/donate/?project=car-t-therapy",
}
REPORTS = ROOT / "test-artifacts" / "lighthouse"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"The site did not answer at {url}")


def lighthouse(url, name):
    report = REPORTS / f"{name}.json"
    subprocess.run(
        [
            "npx",
            "--yes",
            LIGHTHOUSE,
            url,
            f"--only-categories={','.join(CATEGORIES)}",
            "--form-factor=mobile",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
            "--output=json",
            f"--output-path={report}",
            "--quiet",
        ],  # fmt: skip
        check=True,
        env={**os.environ, "CHROME_PATH": CHROME},
    )
    result = json.loads(report.read_text())
    scores = {key: round(result["categories"][key]["score"] * 100) for key in CATEGORIES}
    failing = [
        f"{audit['id']}: {audit['title']}"
        for audit in result["audits"].values()
        if audit.get("score") is not None and audit["score"] < 1 and audit["scoreDisplayMode"] == "binary"
    ]
    return scores, failing


def main():
    REPORTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "DEBUG": "1",
            "DATABASE_URL": f"sqlite:///{tmp}/audit.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
        }
        manage = [PYTHON, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v0"], check=True, env=env)
        # Quiet: with DEBUG the demo gifts' receipts go to the console.
        subprocess.run(
            [*manage, "seed_demo"], check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        port = free_port()
        server = subprocess.Popen(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            origin = f"http://127.0.0.1:{port}"
            wait_for(f"{origin}/healthz")
            results = {name: lighthouse(origin + path, name) for name, path in PAGES.items()}
        finally:
            server.terminate()
            server.wait(timeout=10)

    print(f"\nLighthouse (mobile), {LIGHTHOUSE}")
    print(f"{'page':10}" + "".join(f"{c:>16}" for c in CATEGORIES))
    ok = True
    for name, (scores, failing) in results.items():
        print(f"{name:10}" + "".join(f"{scores[c]:>16}" for c in CATEGORIES))
        for line in failing:
            print(f"    {line}")
        ok = ok and all(score == 100 for score in scores.values())
    print(f"Reports: {REPORTS.relative_to(ROOT)}/")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
