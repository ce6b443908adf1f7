"""Fill the (freshly migrated) benchmark database with a realistic amount of content.

20 projects (one general fund), 200 published stories (plus a few drafts and scheduled
ones the public must not see) linked to 1-3 projects each, and 200,000 gifts spread
unevenly over the projects with a realistic mix of statuses. Pictures: one real upload
per model, whose file and renditions the other rows reuse. Gifts go in with COPY.

With BENCH_SCALE=large: 2,000 stories and 1,000,000 gifts.

Run by bench/run.py as `python -m bench.seed` with DJANGO_SETTINGS_MODULE=bench.settings;
prints a JSON summary on its last line.
"""

import io
import json
import os
import random
import secrets
import sys
import time
from datetime import datetime, timedelta

import django

django.setup()

from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from campaigns.models import Match  # noqa: E402
from donations.models import Donor, Gift, Project, RecurringGift  # noqa: E402
from ledger.models import Entry  # noqa: E402
from podari.markdown import render_markdown  # noqa: E402
from stories.models import Story  # noqa: E402

# BENCH_SCALE=large (`make bench SCALE=large`): a site after years of growth.
SCALES = {"default": (200_000, 200), "large": (1_000_000, 2_000)}
GIFTS, PUBLISHED_STORIES = SCALES[os.environ.get("BENCH_SCALE") or "default"]
HIDDEN_STORIES = 10  # drafts and scheduled: present in the table, never on a public page
COPY_BATCH = 50_000

rng = random.Random(20250101)
NOW = timezone.now()

PROJECTS = [
    # title, goal in dollars (None: no goal), status, weight of gifts
    ("Where it is needed most", None, "active", 30),
    ("CAR-T therapy for children with leukaemia", 450_000, "active", 22),
    ("Bone marrow transplants at the Dmitry Rogachev Centre", 300_000, "active", 9),
    ("Medicines the state does not cover", 120_000, "active", 7),
    ("Doctors' education: fellowships abroad", 80_000, "active", 5),
    ("A home near the clinic for families", 150_000, "active", 4),
    ("Psychological support for children and parents", 40_000, "active", 3),
    ("Palliative care at home", 60_000, "active", 3),
    ("Diagnostics: flow cytometry for the regional lab", 95_000, "funded", 3),
    ("Blood and platelet donor programme", 25_000, "active", 2),
    ("Rehabilitation after treatment", 50_000, "active", 2),
    ("Getting to treatment: travel for families", 30_000, "active", 2),
    ("Genetic testing for relapse risk", 70_000, "active", 2),
    ("Nurses' training in paediatric oncology", 35_000, "active", 1.5),
    ("The hospital school", 20_000, "funded", 1.5),
    ("Nutrition during chemotherapy", 18_000, "active", 1),
    ("Infection control supplies", 22_000, "active", 1),
    ("Second opinions from international experts", 45_000, "active", 1),
    ("Remote follow-up for children back home", 28_000, "active", 0.5),
    ("Winter appeal 2023", 100_000, "closed", 0.5),
]

FIRST_NAMES = [
    "Masha", "Sasha", "Dima", "Alyona", "Vanya", "Polina", "Artyom", "Sonya", "Kirill", "Varya",
    "Misha", "Liza", "Timur", "Nastya", "Egor", "Katya", "Gleb", "Dasha", "Lev", "Vera",
]  # fmt: skip
TOWNS = [
    "Kazan", "Tomsk", "Yakutsk", "Samara", "Kursk", "Perm", "Omsk", "Tver", "Ufa", "Chita",
    "Vologda", "Irkutsk", "Orenburg", "Murmansk", "Saratov", "Barnaul",
]  # fmt: skip
OUTCOMES = [
    "is back at school",
    "rang the bell on the last day of chemotherapy",
    "got a new chance with CAR-T",
    "went home after the transplant",
    "is in remission",
    "learned to walk again",
    "spent her first summer outside the hospital",
    "met the donor who saved him",
    "finished treatment close to home",
    "turned ten, cancer-free",
]
DONOR_NAMES = [
    "Anna K.", "John Smith", "The Petrov family", "Elena", "Michael R.", "Olga and Igor",
    "Sarah Johnson", "Anonymous friend", "Natalia V.", "David Lee", "Irina", "The Brooklyn book club",
    "Tatiana S.", "Alex", "Maria Ivanova", "Chris P.", "Svetlana", "Paul and Marina", "Yulia", "Kate",
]  # fmt: skip

PARAGRAPHS = [
    "When {name} first came to the clinic, the doctors in {town} had already tried everything "
    "the regional hospital could offer. The family had two bags, a folder of test results and "
    "a question nobody there could answer: *what now?*",
    "Treatment took **{months} months**. Most of it was spent in a room with a window onto the "
    "car park, a tablet full of cartoons and a mother who learned the names of every drug on the "
    "drip stand. The nurses say {name} was the only patient who ever asked for the chemo schedule "
    "in writing.",
    "Your gifts paid for what the state quota did not: the medicine that arrived from abroad "
    "in time, the genetic test that showed which protocol would work, and the flat near the "
    "clinic where the family could sleep between courses.",
    '"We did not know people on the other side of the world would help a child they had never '
    'met," {name}\'s mother told us. "Every morning I read the names on the donor list to '
    '{name}. It became our prayer."',
    "The doctors are careful with words. They do not say *cured*; they say *in remission* and "
    "*follow-up in three months*. But they also say that a year ago this outcome was not "
    "possible in Russia at all, and that the difference is the equipment and training that "
    "donors paid for.",
    "There is still a long road ahead: check-ups every few months, a diet to keep, a school "
    "year to catch up on. {name} wants to be a vet. Or a pilot. Or, on some days, a doctor.",
]
BODY_LIST = (
    "What your gifts paid for in this story:\n\n"
    "- {months} months of medicines outside the state quota\n"
    "- diagnostics abroad and a second opinion\n"
    "- housing near the clinic for the family\n"
    "- travel home between courses\n"
)


def picture(color, label, size=(1600, 1067)):
    """A JPEG of camera-like size (not a flat colour, so its renditions have real weight)."""
    image = Image.new("RGB", size, color)
    draw = ImageDraw.Draw(image)
    for i in range(0, size[0], 40):
        draw.line([(i, 0), (size[0] - i, size[1])], fill=(255 - color[0], color[1], 255 - color[2]), width=3)
    draw.text((40, 40), label, fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return SimpleUploadedFile(f"{slugify(label)}.jpg", buffer.getvalue(), content_type="image/jpeg")


def project_description(title, goal):
    goal_text = f"Our goal is **${goal:,}**." if goal else "There is no goal: this fund is never full."
    return (
        f"## What {title.lower()} means\n\n"
        f"{PARAGRAPHS[2]}\n\n{PARAGRAPHS[4]}\n\n"
        f"## How the money is spent\n\n{BODY_LIST.format(months=8)}\n"
        f"{goal_text} Every gift is reported in the stories below, and our accounts are audited "
        "every year by an independent firm. [Read the latest report](https://podari.life/reports/).\n"
    )


def story_body(name, town, months):
    paragraphs = [p.format(name=name, town=town, months=months) for p in PARAGRAPHS]
    return (
        "\n\n".join(paragraphs[:3])
        + "\n\n## In the family's words\n\n"
        + "\n\n".join(paragraphs[3:])
        + "\n\n"
        + BODY_LIST.format(months=months)
    )


def seed_projects():
    first = None
    projects = []
    for position, (title, goal, status, _) in enumerate(PROJECTS):
        fields = {
            "title": title,
            "slug": slugify(title)[:60],
            "summary": f"{title}: what it pays for, and how far we have come.",
            "description": project_description(title, goal),
            "image_alt": f"A child and a nurse: {title.lower()}",
            "goal_minor": goal * 100 if goal else None,
            "status": status,
            "is_general_fund": position == 0,
            "is_featured": position == 1,
            "position": position * 10,
        }
        if first is None:
            # The one real upload: the file is stored and its renditions made by save().
            first = Project.objects.create(image=picture((30, 90, 160), "project"), **fields)
            projects.append(first)
            continue
        project = Project(
            image=first.image.name,
            image_width=first.image_width,
            image_height=first.image_height,
            image_renditions=first.image_renditions,
            **fields,
        )
        project.save()  # renditions' source matches the image: no new files, just the Markdown
        projects.append(project)
    return projects


def seed_stories(projects):
    story_through = Story.projects.through
    first = None
    stories = []
    total = PUBLISHED_STORIES + HIDDEN_STORIES
    for n in range(total):
        name = FIRST_NAMES[n % len(FIRST_NAMES)]
        town = TOWNS[(n * 7) % len(TOWNS)]
        title = f"{name}, {4 + n % 12}, from {town} {OUTCOMES[n % len(OUTCOMES)]}"
        if n < PUBLISHED_STORIES:
            status, publish_at = Story.Status.PUBLISHED, NOW - timedelta(days=n * 5 + 1, hours=n % 24)
        elif n % 2:
            status, publish_at = Story.Status.DRAFT, NOW - timedelta(days=n)
        else:
            status, publish_at = Story.Status.PUBLISHED, NOW + timedelta(days=n - PUBLISHED_STORIES + 1)
        body = story_body(name, town, 4 + n % 14)
        fields = {
            "title": title,
            "slug": f"{slugify(title)}-{n + 1}",
            "summary": f"{name} from {town}: {OUTCOMES[n % len(OUTCOMES)]}. Here is how your gifts helped.",
            "body": body,
            "image_alt": f"{name} at the clinic in {town}",
            "status": status,
            "publish_at": publish_at,
            "author_name": "Podari.Life team",
        }
        if first is None:
            first = Story(image=picture((160, 60, 60), "story"), **fields)
            first.save()
            stories.append(first)
            continue
        stories.append(
            Story(
                image=first.image.name,
                image_width=first.image_width,
                image_height=first.image_height,
                image_renditions=first.image_renditions,
                body_html=render_markdown(body),
                **fields,
            )
        )
    Story.objects.bulk_create(stories[1:], batch_size=500)
    stories = list(Story.objects.order_by("pk"))
    links = []
    weights = [w for *_, w in PROJECTS]
    for story in stories:
        chosen = set()
        for _ in range(rng.choice((1, 1, 2, 2, 3))):
            chosen.add(rng.choices(projects, weights=weights)[0].pk)
        links.extend(story_through(story_id=story.pk, project_id=pk) for pk in chosen)
    story_through.objects.bulk_create(links, batch_size=1000)
    return len(stories), len(links)


STATUS_MIX = [
    (Gift.Status.SUCCEEDED, 0.855),
    (Gift.Status.PENDING, 0.03),
    (Gift.Status.NOT_STARTED, 0.005),
    (Gift.Status.FAILED, 0.03),
    (Gift.Status.ABANDONED, 0.04),
    (Gift.Status.REFUNDED, 0.02),
    (Gift.Status.PARTIALLY_REFUNDED, 0.02),
]
PRESETS = [2500, 5000, 10000, 25000]


def gift_amount():
    if rng.random() < 0.7:
        return rng.choices(PRESETS, weights=[30, 35, 25, 10])[0]
    return max(500, min(2_500_000, int(rng.lognormvariate(8.6, 1.0)) // 100 * 100))


def copy_value(value):
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value)
    return str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", " ")


def copy_into(model, rows, batch=COPY_BATCH):
    """COPY rows (dicts of field names to values) into the model's table, fast.

    The columns come from the model: a field a row leaves out takes its default, so a
    new field with a default needs no change here. Returns how many rows were copied."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    sql = f"COPY {model._meta.db_table} ({', '.join(f.column for f in fields)}) FROM STDIN"
    raw = connection.cursor().connection  # psycopg2
    copied = 0
    with raw.cursor() as cursor:
        buffer = io.StringIO()
        for row in rows:
            values = [row[f.attname] if f.attname in row else f.get_default() for f in fields]
            buffer.write("\t".join(copy_value(v) for v in values) + "\n")
            copied += 1
            if copied % batch == 0:
                buffer.seek(0)
                cursor.copy_expert(sql, buffer)
                buffer = io.StringIO()
        buffer.seek(0)
        cursor.copy_expert(sql, buffer)
    raw.commit()
    return copied


def gift_rows(projects, count):
    """Gifts as the site records them: a mix of statuses, some refunded in part or whole.
    `net_minor` is what each paid gift counts for: the sum of the entries copied next."""
    weights = [w for *_, w in PROJECTS]
    statuses, status_weights = zip(*STATUS_MIX, strict=True)
    span = timedelta(days=3 * 365).total_seconds()
    for i in range(count):
        project = rng.choices(projects, weights=weights)[0]
        status = rng.choices(statuses, weights=status_weights)[0]
        amount = gift_amount()
        currency = "eur" if rng.random() < 0.005 else project.currency
        refunded = 0
        if status == Gift.Status.REFUNDED:
            refunded = amount
        elif status == Gift.Status.PARTIALLY_REFUNDED:
            refunded = max(1, amount * rng.choice((10, 25, 50)) // 100)
        created = NOW - timedelta(seconds=rng.random() * span)
        started = status != Gift.Status.NOT_STARTED
        paid = status in Gift.PAID_STATUSES
        shown = paid and rng.random() < 0.3
        name = rng.choice(DONOR_NAMES) if shown or rng.random() < 0.4 else ""
        dedication = rng.choice(("honour", "memory")) if rng.random() < 0.08 else ""
        yield {
            "project_id": project.pk,
            "amount_minor": amount,
            "currency": currency,
            "net_minor": amount - refunded if paid else 0,
            "status": status,
            "livemode": False,
            "donor_name": name,
            "donor_email": f"donor{i}@example.com" if rng.random() < 0.9 else "",
            "show_name_publicly": shown,
            "dedication": dedication,
            "dedication_name": rng.choice(FIRST_NAMES) if dedication else "",
            "stripe_checkout_session_id": f"cs_live_{secrets.token_hex(30)}" if started else None,
            "stripe_payment_intent_id": f"pi_{secrets.token_hex(12)}" if paid or status == "failed" else None,
            "stripe_charge_id": f"ch_{secrets.token_hex(12)}" if refunded else "",
            "needs_review": currency != project.currency,
            "review_reason": "Stripe reported a different currency." if currency != project.currency else "",
            "created_at": created,
            "updated_at": created + timedelta(minutes=3),
            "paid_at": created + timedelta(minutes=2) if paid else None,
        }


def entry_rows():
    """Each paid gift's ledger entries, as its webhooks would have written them: the
    payment, and a refund of what it no longer counts for."""
    paid = (
        Gift.objects.filter(status__in=Gift.PAID_STATUSES)
        .values_list("pk", "public_id", "project_id", "amount_minor", "net_minor", "currency", "paid_at")
        .order_by()
        .iterator(chunk_size=COPY_BATCH)
    )
    for pk, public_id, project_id, amount, net, currency, paid_at in paid:
        common = {"project_id": project_id, "gift_id": pk, "currency": currency, "livemode": False}
        common |= {"source": Entry.Source.MIGRATION, "account": Entry.Account.PROJECT}
        yield {**common, "key": f"gift:{public_id}:payment", "kind": "payment", "amount_minor": amount,
               "occurred_at": paid_at}  # fmt: skip
        if net < amount:
            refund = {"key": f"gift:{public_id}:refund", "kind": "refund", "amount_minor": net - amount}
            yield {**common, **refund, "occurred_at": paid_at + timedelta(days=2)}


MONTHLY_GIFTS = 2_000


def seed_monthly_gifts(projects):
    """Running monthly gifts, whose renewals (invoice.paid) are part of the webhook rounds."""
    weights = [w for *_, w in PROJECTS]
    monthly = RecurringGift.objects.bulk_create(
        RecurringGift(
            project=(project := rng.choices(projects, weights=weights)[0]),
            amount_minor=rng.choice(PRESETS),
            currency=project.currency,
            status=RecurringGift.Status.ACTIVE,
            livemode=False,
            stripe_subscription_id=f"sub_bench{i:05d}{secrets.token_hex(8)}",
            stripe_customer_id=f"cus_bench{i:05d}",
            started_at=NOW - timedelta(days=rng.randint(30, 900)),
        )
        for i in range(MONTHLY_GIFTS)
    )
    return [[m.stripe_subscription_id, m.amount_minor, m.currency, str(m.public_id)] for m in monthly]


def seed_spike_match(projects, now=None):
    """A 1:1 match over every project that takes gifts, running through the benchmark, with
    a cap no spike reaches: every gift of the giving spike is matched, so the spike
    measures payments that also take the match's row lock. Returns the match's id."""
    now = now or timezone.now()
    sponsor, _ = Donor.objects.get_or_create(
        email="bench-sponsor@example.com", defaults={"name": "Bench Sponsor"}
    )
    match = Match.objects.create(
        name="Benchmark giving spike",
        sponsor=sponsor,
        sponsor_public_name="the Bench Sponsor",
        ratio=1,
        cap_minor=1_000_000_000,
        currency="usd",
        starts_at=now - timedelta(days=1),
        ends_at=now + timedelta(days=7),
        time_zone="America/New_York",
    )
    match.projects.set([p for p in projects if p.status != Project.Status.CLOSED and p.currency == "usd"])
    return match.pk


def main():
    if connection.vendor != "postgresql":
        sys.exit("The benchmark database must be PostgreSQL (DATABASE_URL).")
    started = time.monotonic()
    projects = seed_projects()
    story_count, link_count = seed_stories(projects)
    monthly = seed_monthly_gifts(projects)
    copy_into(Gift, gift_rows(projects, GIFTS))
    entries = copy_into(Entry, entry_rows())
    # COPY bypasses ledger.services, which keeps the stored sums; a bulk load recounts them once.
    Project.objects.recount_totals()
    spike_match_id = seed_spike_match(projects)
    with connection.cursor() as cursor:
        # What autovacuum would have done by the time a table has this many rows; the
        # visibility map lets the totals be index-only scans.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            "SELECT project_id, count(*) FROM donations_gift GROUP BY project_id ORDER BY 2 DESC LIMIT 1"
        )
        top_project_id, top_count = cursor.fetchone()
        cursor.execute("SELECT status, count(*) FROM donations_gift GROUP BY status ORDER BY 2 DESC")
        status_counts = dict(cursor.fetchall())
    top = Project.objects.get(pk=top_project_id)
    story = Story.objects.published().filter(projects=top).order_by("-publish_at").first()
    summary = {
        "projects": len(projects),
        "stories": story_count,
        "published_stories": Story.objects.published().count(),
        "story_project_links": link_count,
        "gifts": Gift.objects.count(),
        "ledger_entries": entries,
        "monthly_gifts": monthly,
        "gift_statuses": status_counts,
        "top_project": {"id": top.pk, "slug": top.slug, "gifts": top_count},
        "story_slug": story.slug,
        "general_fund_id": Project.general_fund().pk,
        "active_project_ids": list(Project.objects.accepting_gifts().values_list("pk", flat=True)),
        "spike_match_id": spike_match_id,
        "seconds": round(time.monotonic() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
