"""gunicorn settings: `gunicorn -c gunicorn.conf.py podari.wsgi`. Every value can be
changed through the environment, like the site's own settings.

- bind: 127.0.0.1:8000. The HTTPS proxy in front is the only client; nothing else
  should reach gunicorn directly (GUNICORN_BIND to change it).
- workers: 4 sync workers (WEB_CONCURRENCY). Pages take a few milliseconds and the
  proxy buffers slow clients, so a sync worker is never held by a slow connection;
  about two per core. They share the page cache and the rate-limit counts through
  Redis or the database, never through memory.
- timeout: 60 s. Pages answer in milliseconds; the slowest request is the donate form
  waiting on Stripe. A worker silent for longer is stuck and is restarted, so it cannot
  hold one of the four slots for good. graceful_timeout lets requests finish on reload.
- forwarded_allow_ips: gunicorn believes X-Forwarded-Proto (and so the request's scheme)
  only from the proxy, and only with BEHIND_HTTPS_PROXY=1, as Django does. Without it,
  no one is trusted: gunicorn's own default would trust 127.0.0.1. The proxy is on this
  machine by default; FORWARDED_ALLOW_IPS names another one.
"""

import os

import environ

env = environ.Env()

bind = env.str("GUNICORN_BIND", default="127.0.0.1:8000")
workers = env.int("WEB_CONCURRENCY", default=4)
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 2

behind_https_proxy = env.bool("BEHIND_HTTPS_PROXY", default=False)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1") if behind_https_proxy else ""

# gunicorn's control socket sits at one path per user ($HOME/.gunicorn/gunicorn.ctl), so
# two servers on one machine (a release beside the old one, a test's server) would share
# it; nothing here uses it.
control_socket_disable = True
