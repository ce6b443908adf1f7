"""Settings for the Podari.Life site.

Every value that differs between machines comes from the environment; the README
lists them all. Nothing secret has a default: production fails loudly instead.
"""

import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long "
            "random string (or set DEBUG=1 for local development)."
        )
    # Only reachable with DEBUG on: a fixed key is harmless on a developer's machine.
    SECRET_KEY = "insecure-local-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])

# The public address of the site, used for Stripe return URLs, feeds and canonical
# links. Empty means "the host of the current request".
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000" if DEBUG else "").rstrip("/")
SITE_NAME = "Podari.Life"
CONTACT_EMAIL = env.str("CONTACT_EMAIL", default="hello@podari.life")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "markdownx",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "auditlog",
    "podari",
    "donations",
    "stories",
    "charity",
    "donors",
    "ledger",
    "fundraisers",
    "campaigns",
]

MIDDLEWARE = [
    # First, so that nothing reads an oversized body; see podari/middleware.py.
    "podari.middleware.RequestBodyLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The final Cache-Control of every response, after every cookie is set; see podari/edge_cache.py.
    "podari.edge_cache.EdgeCacheHeadersMiddleware",
    # Serves anonymous readers before sessions or CSRF are touched; see podari/page_cache.py.
    "podari.page_cache.PublicPageCacheMiddleware",
    "podari.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # Records the signed-in user as the actor of audit-log entries (ledger/apps.py).
    "ledger.middleware.AdminAuditActorMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Locks out an address after repeated failed admin logins.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "podari.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "podari.context_processors.site",
                "charity.context_processors.charity",
            ],
        },
    },
]

WSGI_APPLICATION = "podari.wsgi.application"

# An embedded SQLite file by default; DATABASE_URL switches to PostgreSQL.
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent webhook deliveries wait for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The totals index's INCLUDE columns are a PostgreSQL feature; SQLite builds it without them.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="America/New_York")
USE_I18N = True
USE_TZ = True

# Static files: hashed, compressed names served by WhiteNoise.
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]

# Media: uploads and their renditions. On one machine the site serves them itself;
# with AWS_STORAGE_BUCKET_NAME set they live in S3-compatible object storage.
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "custom_domain": env.str("AWS_S3_CUSTOM_DOMAIN", default=None),
            "default_acl": None,
            "querystring_auth": False,
            "file_overwrite": False,
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=not AWS_STORAGE_BUCKET_NAME)

# Uploaded images: what Pillow will accept.
IMAGE_UPLOAD_MAX_BYTES = env.int("IMAGE_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=40_000_000)

# Request bodies: checked against Content-Length before anything parses them (413 if
# larger; podari/middleware.py), and again by the proxy (deploy/nginx/). Only the admin
# and the Markdown editor's upload take pictures; nothing else needs more than a form.
REQUEST_BODY_MAX_BYTES = 64 * 1024
REQUEST_BODY_LIMITS = {
    "/admin/": IMAGE_UPLOAD_MAX_BYTES + 1024 * 1024,
    # Pages take PDF reports of up to 20 MB (charity.models.validate_pdf).
    "/admin/charity/page/": 21 * 1024 * 1024,
    "/admin/charity/financialreport/": 21 * 1024 * 1024,
    "/markdownx/upload/": IMAGE_UPLOAD_MAX_BYTES + 64 * 1024,
    # 100,000 characters of Cyrillic, percent-encoded, is 600 kB.
    "/markdownx/markdownify/": 1024 * 1024,
    "/webhooks/": 1024 * 1024,
}
# Form fields (not files) held in memory; files above this go to a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATA_UPLOAD_MAX_NUMBER_FILES = 10

# django-markdownx: staff-only endpoints (see podari/urls.py) rendering through our
# sanitising renderer, so the preview shows exactly what the public page will show.
MARKDOWNX_MARKDOWNIFY_FUNCTION = "podari.markdown.render_markdown"
MARKDOWNX_UPLOAD_MAX_SIZE = IMAGE_UPLOAD_MAX_BYTES
MARKDOWNX_UPLOAD_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp")
MARKDOWNX_IMAGE_MAX_SIZE = {"size": (1600, 1600), "quality": 85}
MARKDOWNX_MEDIA_PATH = "stories/body/"

# Caches, shared by every worker and server so that no one serves an old page or
# keeps its own rate-limit counts: Redis with REDIS_URL, otherwise tables in the site's
# database (made by podari/migrations/0001_cache_tables.py). Rate-limit counters have
# an alias of their own, so that filling the cache with pages never culls them.
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "podari.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "podari",
        },
        "ratelimit": {
            "BACKEND": "podari.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "podari-ratelimit",
        },
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "podari_cache",
            # Room for every public page (one per story, project and list page).
            "OPTIONS": {"MAX_ENTRIES": 5000},
        },
        "ratelimit": {
            "BACKEND": "podari.cache.CounterDatabaseCache",
            "LOCATION": "podari_ratelimit",
            # Longer than any rate-limit window: each window has keys of its own.
            "TIMEOUT": 3600,
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        },
    }

# Anonymous readers get public pages from the cache until content changes.
PAGE_CACHE_ENABLED = env.bool("PAGE_CACHE_ENABLED", default=True)
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=600)
# How long a cached page may go on showing totals from before the latest gift (see
# podari/page_cache.py): during a giving spike each page is rebuilt at most this often.
PAGE_CACHE_GIFTS_LAG_SECONDS = env.int("PAGE_CACHE_GIFTS_LAG_SECONDS", default=1)
PAGE_CACHE_BROWSER_SECONDS = 0
# What nginx's microcache or a CDN may keep of a public page (podari/edge_cache.py). A gift
# shows within PAGE_CACHE_SHARED_SECONDS + PAGE_CACHE_GIFTS_LAG_SECONDS = 1 + 1 = 2 s, and
# within 3 s with nginx's clock, which counts whole seconds.
PAGE_CACHE_SHARED_SECONDS = env.int("PAGE_CACHE_SHARED_SECONDS", default=1)
PAGE_CACHE_STALE_WHILE_REVALIDATE_SECONDS = env.int("PAGE_CACHE_STALE_WHILE_REVALIDATE_SECONDS", default=30)
PAGE_CACHE_STALE_IF_ERROR_SECONDS = env.int("PAGE_CACHE_STALE_IF_ERROR_SECONDS", default=86400)

# Email
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Podari.Life <hello@podari.life>")
SERVER_EMAIL = env.str("SERVER_EMAIL", default=DEFAULT_FROM_EMAIL)
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=587)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=True)
ADMINS = [("Site admins", a) for a in env.list("ADMIN_EMAILS", default=[])]

# Background tasks (django-tasks, the backport of Django 6's django.tasks): emails and
# other slow work run after the transaction commits, outside the request.
#   immediate: in the same process, right after commit (DEBUG's default, so `make run`
#              prints emails in its console with no worker running)
#   database:  stored in the database and run by `manage.py db_worker` (the default
#              without DEBUG; works across machines on PostgreSQL)
#   rq:        Redis through RQ, for many machines: `pip install django-tasks-rq`, then run
#              `manage.py rqworker --job-class django_tasks_rq.Job --with-scheduler`
TASKS_BACKEND = env.str("TASKS_BACKEND", default="immediate" if DEBUG else "database")
TASK_BACKENDS = {
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
    "database": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
}
if TASKS_BACKEND not in TASK_BACKENDS:
    raise ImproperlyConfigured(f"TASKS_BACKEND must be one of {', '.join(TASK_BACKENDS)}.")
TASKS = {"default": {"BACKEND": TASK_BACKENDS[TASKS_BACKEND], "QUEUES": ["default"]}}
if TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {
        "default": {"URL": env.str("TASKS_REDIS_URL", default=REDIS_URL or "redis://127.0.0.1:6379/0")}
    }

# Emails: a failed one is tried again after these many seconds, then given up on (and
# shown as failed in the admin under Donors → Emails).
EMAIL_RETRY_DELAYS = [int(s) for s in env.list("EMAIL_RETRY_DELAYS", default=[60, 600, 3600])]
# Impact emails go out in batches of this many per task, over one SMTP connection.
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=200)
# The worker looks for scheduled stories that went live (and emails them) this often.
IMPACT_EMAIL_SWEEP_SECONDS = env.int("IMPACT_EMAIL_SWEEP_SECONDS", default=120)

# "Manage my giving": how long an emailed sign-in link works, and how long the page stays
# open after it was used.
DONOR_LINK_MAX_AGE_SECONDS = env.int("DONOR_LINK_MAX_AGE_SECONDS", default=3600)
DONOR_SESSION_SECONDS = env.int("DONOR_SESSION_SECONDS", default=3600)
DONOR_LINK_RATE_LIMIT_PER_EMAIL = env.int("DONOR_LINK_RATE_LIMIT_PER_EMAIL", default=3)
DONOR_LINK_RATE_LIMIT_PER_IP = env.int("DONOR_LINK_RATE_LIMIT_PER_IP", default=10)
DONOR_LINK_RATE_LIMIT_WINDOW_SECONDS = 3600
# How long the email preferences and unsubscribe links in emails work (90 days).
DONOR_EMAIL_LINK_MAX_AGE_DAYS = env.int("DONOR_EMAIL_LINK_MAX_AGE_DAYS", default=90)
# Download my data: how long the emailed link (and the file behind it) lasts.
DATA_EXPORT_DAYS = env.int("DATA_EXPORT_DAYS", default=7)
# Erase me: how long the emailed link to confirm an erasure works (a day).
DONOR_ERASURE_LINK_MAX_AGE_SECONDS = env.int("DONOR_ERASURE_LINK_MAX_AGE_SECONDS", default=86400)
# The salt of the hashes erased addresses are kept as (the suppression list). Set it once and
# keep it: another salt forgets every erased address's unsubscribe. Derived from SECRET_KEY
# when unset.
SUPPRESSION_SALT = (
    env.str("SUPPRESSION_SALT", default="")
    or hashlib.sha256(f"suppression:{SECRET_KEY}".encode()).hexdigest()
)
# Retention (donors/retention.py, `manage.py apply_retention` daily): how long personal data
# the site no longer needs is kept. Money is never deleted; after FINANCIAL_RECORDS_YEARS only
# the names and addresses on gifts go.
RETENTION_ABANDONED_CHECKOUT_DAYS = env.int("RETENTION_ABANDONED_CHECKOUT_DAYS", default=30)
RETENTION_SIGN_IN_DAYS = env.int("RETENTION_SIGN_IN_DAYS", default=30)
RETENTION_EMAIL_DAYS = env.int("RETENTION_EMAIL_DAYS", default=365)
FINANCIAL_RECORDS_YEARS = env.int("FINANCIAL_RECORDS_YEARS", default=7)
# How long the link that turns stories on again after an unsubscribe works (14 days).
DONOR_CONFIRM_LINK_MAX_AGE_SECONDS = env.int("DONOR_CONFIRM_LINK_MAX_AGE_SECONDS", default=14 * 86400)

# Stripe
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# A donor waits on the call that opens Checkout. Its longest wait, every try timing out,
# is (connect + read) × (retries + 1) plus stripe-python's sleeps between tries (0.5 s, then
# 1 s): (2 + 5) × 3 + 1.5 = 22.5 s by default, inside nginx's 30 s proxy_read_timeout
# (deploy/nginx/podari-proxy.conf) and gunicorn's 60 s timeout (gunicorn.conf.py) with room
# for the rest of the request; tests/donations/test_stripe_timeouts.py keeps it so. Stripe
# answers in well under a second; a retry reuses the idempotency key, so it never opens a
# second session.
STRIPE_CONNECT_TIMEOUT_SECONDS = env.float("STRIPE_CONNECT_TIMEOUT_SECONDS", default=2.0)
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=5.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# The charity's Stripe account is shared with ticket sales, shops and other tools. This
# site acts only on what it created: its Checkout Sessions carry this marker in their
# metadata (key "podari_site"). Sites sharing one account (staging, production) use
# different markers.
STRIPE_SITE_MARKER = env.str("STRIPE_SITE_MARKER", default="podari-life")
# Payment Links staff made for giving (a QR code at an event): "plink_123=car-t" counts
# its payments as gifts to the project with that slug; a bare "plink_123" gives to the
# general fund. A link whose metadata has "podari_project" counts too.
DONATION_PAYMENT_LINKS = dict(
    (item.split("=", 1) + [""])[:2] for item in env.list("DONATION_PAYMENT_LINKS", default=[])
)
# Events must come from the same mode (live or test) as the key; test gifts never count
# on a live site. Restricted keys (rk_live_) are live too.
STRIPE_LIVEMODE = STRIPE_SECRET_KEY.startswith(("sk_live_", "rk_live_"))
# Without a key, a developer's machine gives through a simulated checkout on the site
# itself. Its events are signed with a secret derived from SECRET_KEY, so they pass
# through the very same signature check as Stripe's.
SIMULATED_CHECKOUT = DEBUG and not STRIPE_SECRET_KEY
if SIMULATED_CHECKOUT and not STRIPE_WEBHOOK_SECRET:
    STRIPE_WEBHOOK_SECRET = "whsec_sim_" + hashlib.sha256(SECRET_KEY.encode()).hexdigest()[:32]

# Giving
DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="usd").lower()
# The currencies staff may give a project (Finance only); empty: DEFAULT_CURRENCY and those
# with amounts of their own in donations/money.py.
PROJECT_CURRENCIES = [c.lower() for c in env.list("PROJECT_CURRENCIES", default=[])]
# Limits in minor units of DEFAULT_CURRENCY (cents for usd): $5 to $25,000 by default. Projects in
# other currencies take theirs from donations.money.GIFT_AMOUNTS_BY_CURRENCY.
DONATION_MIN_MINOR = env.int("DONATION_MIN_MINOR", default=500)
DONATION_MAX_MINOR = env.int("DONATION_MAX_MINOR", default=2_500_000)
# Preset amounts offered on the donate page, in minor units.
DONATION_PRESETS_MINOR = [
    int(v) for v in env.list("DONATION_PRESETS_MINOR", default=[2500, 5000, 10000, 25000])
]
# Monthly gifts are smaller and repeat: their own presets ($10, $25, $50, $100; the second is chosen).
DONATION_MONTHLY_PRESETS_MINOR = [
    int(v) for v in env.list("DONATION_MONTHLY_PRESETS_MINOR", default=[1000, 2500, 5000, 10000])
]
# A project's donor wall lists names of gifts paid before the current batch began, in
# alphabetical order: it changes once a batch, so a new name cannot be paired with a new amount.
DONOR_WALL_BATCH_HOURS = env.int("DONOR_WALL_BATCH_HOURS", default=24)
# A public ledger line (project page, CSV, JSON) covers at least this many gifts: months with
# fewer are merged, so no line's amount is one donor's gift.
LEDGER_MIN_GIFTS_PER_LINE = env.int("LEDGER_MIN_GIFTS_PER_LINE", default=3)
# "Cover the fee": Stripe's card fee as a percentage in basis points (220 = 2.2%) plus a
# fixed amount per charge that depends on the currency (the table and its sources are in
# donations/money.py); the donor may add it on top. FEE_COVER_FIXED_MINOR replaces the
# default currency's fixed amount, FEE_COVER_FIXED_MINOR_BY_CURRENCY ("eur=25,gbp=20") any
# currency's, in its minor units.
FEE_COVER_PERCENT_BP = env.int("FEE_COVER_PERCENT_BP", default=220)
FEE_COVER_FIXED_MINOR = env.int("FEE_COVER_FIXED_MINOR", default=None)
FEE_COVER_FIXED_MINOR_BY_CURRENCY = {
    code.strip().lower(): int(minor)
    for code, minor in (
        item.split("=", 1) for item in env.list("FEE_COVER_FIXED_MINOR_BY_CURRENCY", default=[])
    )
}

# Security. Production defaults are strict; DEBUG relaxes them for local work.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Only staff have sessions; a forgotten one ends after a working day, not two weeks.
SESSION_COOKIE_AGE = 12 * 60 * 60
CSRF_COOKIE_HTTPONLY = True

# Content-Security-Policy: no inline script anywhere, nothing loaded from other hosts.
# Checkout is on Stripe's host, and browsers check form-action on the 303 there too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # Add the media host here when uploads live in object storage.
        "img-src": ["'self'", "data:", *env.list("CSP_EXTRA_IMG_SRC", default=[])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        # The Customer Portal (monthly gifts) is a redirect after a form post, like Checkout.
        "form-action": ["'self'", "https://checkout.stripe.com", "https://billing.stripe.com"],
    }
}

# Admin login (django-axes): five failures lock that user name from that address out for
# 15 minutes, and AXES_ADDRESS_FAILURE_LIMIT failures from one address, whatever the
# user names, lock the address out (podari/login_lockout.py). Both key on the client's
# address as the rate limits see it, through trusted proxies only.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_ADDRESS_FAILURE_LIMIT = env.int("AXES_ADDRESS_FAILURE_LIMIT", default=20)
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HANDLER = "podari.login_lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "podari.ratelimit.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"

# Donate form. Card testers post it over and over with new cards; Stripe Checkout's own
# fraud checks see the cards, these limits see the posts. A guest at an event gives once
# or twice, but 200 guests may share one Wi-Fi address within minutes, so the limit per
# address is only a cap on floods; the tight limits are per email and per browser.
# Counts are per window (10 minutes), shared by every worker (the "ratelimit" cache).
DONATE_RATE_LIMIT_WINDOW_SECONDS = env.int("DONATE_RATE_LIMIT_WINDOW_SECONDS", default=600)
DONATE_RATE_LIMIT_PER_IP = env.int("DONATE_RATE_LIMIT_PER_IP", default=600)
DONATE_RATE_LIMIT_PER_EMAIL = env.int("DONATE_RATE_LIMIT_PER_EMAIL", default=5)
DONATE_RATE_LIMIT_PER_BROWSER = env.int("DONATE_RATE_LIMIT_PER_BROWSER", default=10)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
BEHIND_HTTPS_PROXY = env.bool("BEHIND_HTTPS_PROXY", default=False)
if BEHIND_HTTPS_PROXY:
    # Only when a proxy in front of gunicorn sets this header and strips it from clients.
    # gunicorn.conf.py trusts the header from the same proxy, and only then.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the site append to X-Forwarded-For: the client's address
# is read that many entries from the end (podari/ratelimit.py). With none the header is
# ignored; behind the HTTPS proxy the default is that one proxy.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=1 if BEHIND_HTTPS_PROXY else 0)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.server": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
