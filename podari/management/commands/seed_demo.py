"""`manage.py seed_demo`: projects, stories, example gifts and what they paid for.

Safe to run again and again (`make run` does, every time): each object is found by
its slug, a gift by its made-up checkout session id, an offline gift by its public id,
a use of funds by its project and purpose; anything already there is left exactly as
it is, staff edits included. Pictures are drawn with Pillow only for objects being
created; the model's save() then makes their renditions.
"""

from collections import Counter
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from campaigns import demo as match_demo
from charity.demo import seed_pages, seed_people
from donations.models import AmountMeaning, Gift, Project, ProjectMilestone
from fundraisers.models import Fundraiser, Supporter
from ledger import services
from ledger.models import FundUse, VerifiedFigure
from podari.management.commands._demo_content import (
    FUND_USES,
    FUNDRAISERS,
    GIFTS,
    OFFLINE_GIFTS,
    PROJECTS,
    STORIES,
    VERIFIED_FIGURES,
)
from podari.management.commands._demo_images import illustration_jpeg
from stories.models import Story


def _picture(art, slug):
    # Callable, so that get_or_create draws the picture only when it creates the object.
    return lambda: ContentFile(illustration_jpeg(art, slug), name=f"{slug}.jpg")


class Command(BaseCommand):
    help = "Load demo projects, stories and gifts. Running it again creates nothing and changes nothing."

    def handle(self, *args, **options):
        self.created, self.found = Counter(), Counter()
        with transaction.atomic():
            projects = {spec["slug"]: self.project(spec) for spec in PROJECTS}
            stories = {spec["slug"]: self.story(spec, projects) for spec in STORIES}
            for spec in PROJECTS:
                self.project_steps(spec, projects[spec["slug"]], stories)
            for row in GIFTS:
                self.gift(row, projects)
            self.created["page"] += seed_pages()
            self.created["person"] += seed_people()
            for row in OFFLINE_GIFTS:
                self.offline_gift(row, projects)
            for spec in FUND_USES:
                self.fund_use(spec, projects)
            for spec in VERIFIED_FIGURES:
                self.verified_figure(spec)
            for spec in FUNDRAISERS:
                self.fundraiser(spec, projects)
            self.giving_tuesday(projects)
        self.stdout.write(self.summary())

    def giving_tuesday(self, projects):
        """A finished match: its gifts are recorded while it is active, so it matches them."""
        match, created = match_demo.seed_match(projects)
        (self.created if created else self.found)["match"] += 1
        for row in match_demo.GIFTS:
            self.gift(row, projects)
        if match_demo.finish_match(match, projects):
            self.created["offline gift"] += 1
        else:
            self.found["offline gift"] += 1

    def project(self, spec):
        fields = {
            key: value
            for key, value in spec.items()
            if key not in ("slug", "art", "milestones", "amounts", "photos")
        }
        if spec.get("is_general_fund"):
            # Staff may already have made a general fund of their own; there can be only one.
            existing = Project.objects.filter(is_general_fund=True).first()
            if existing is not None:
                self.found["project"] += 1
                return existing
        project, created = Project.objects.get_or_create(
            slug=spec["slug"], defaults={**fields, "image": _picture(spec["art"], spec["slug"])}
        )
        (self.created if created else self.found)["project"] += 1
        return project

    def story(self, spec, projects):
        fields = {
            key: value for key, value in spec.items() if key not in ("slug", "art", "projects", "photos")
        }
        story, created = Story.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                **fields,
                "status": Story.Status.PUBLISHED,
                "image": _picture(spec["art"], spec["slug"]),
            },
        )
        if created:
            story.projects.set([projects[slug] for slug in spec["projects"]])
            self.photos(story.photos, spec)
        (self.created if created else self.found)["story"] += 1
        return story

    def project_steps(self, spec, project, stories):
        """Milestones and what each amount does, found by their amount; a gallery if it has none."""
        if not project.photos.exists():
            self.photos(project.photos, spec)
        for amount, title, story_slug in spec.get("milestones", []):
            story = stories.get(story_slug)
            if story is not None and ProjectMilestone.objects.filter(project=project, story=story).exists():
                # Its story's milestone is there (perhaps at an older demo amount): leave it.
                self.found["milestone"] += 1
                continue
            _, created = ProjectMilestone.objects.get_or_create(
                project=project,
                amount_minor=amount,
                defaults={"title": title, "story": stories.get(story_slug)},
            )
            (self.created if created else self.found)["milestone"] += 1
        for amount, sentence in spec.get("amounts", []):
            _, created = AmountMeaning.objects.get_or_create(
                project=project, amount_minor=amount, defaults={"sentence": sentence}
            )
            (self.created if created else self.found)["amount sentence"] += 1

    def gift(self, row, projects):
        session_id, project_slug, amount, refunded, name, public, paid_at = row
        project = projects[project_slug]
        number = session_id.removeprefix("cs_demo_")
        gift, created = Gift.objects.get_or_create(
            stripe_checkout_session_id=session_id,
            defaults={
                "project": project,
                "amount_minor": amount,
                "currency": project.currency,
                "donor_name": name,
                "donor_email": f"{slugify(name).replace('-', '.')}@example.com",
                "show_name_publicly": public,
                "stripe_payment_intent_id": f"pi_demo_{number}",
                "stripe_charge_id": f"ch_demo_{number}" if refunded else "",
                "created_at": paid_at - timedelta(minutes=3),
            },
        )
        if created:
            # The money goes through the ledger as a real payment's would.
            origin = services.Origin.staff(None, "Demo content")
            services.record_payment(
                gift, amount_minor=amount, currency=project.currency, fee_covered_minor=0, paid_at=paid_at,
                origin=origin,
            )  # fmt: skip
            if refunded:
                services.record_refund(
                    gift, refunded_total=refunded, currency=project.currency,
                    as_of=int((paid_at + timedelta(days=2)).timestamp()), origin=origin,
                )  # fmt: skip
        (self.created if created else self.found)["gift"] += 1

    def photos(self, related, spec):
        for position, (art, alt, caption) in enumerate(spec.get("photos", [])):
            related.create(
                image=_picture(art, f"{spec['slug']}-photo-{position}")(),
                image_alt=alt,
                caption=caption,
                position=position,
            )
            self.created["photo"] += 1

    def offline_gift(self, row, projects):
        public_id, project_slug, source, amount, received_at, note = row
        project = projects[project_slug]
        created = not Gift.objects.filter(public_id=public_id).exists()
        if created:
            gift = Gift(
                public_id=public_id,
                project=project,
                source=source,
                amount_minor=amount,
                currency=project.currency,
                note=note,
                paid_at=received_at,
            )
            services.record_offline_gift(gift, by=None, note="Demo content")
        (self.created if created else self.found)["offline gift"] += 1

    def fund_use(self, spec, projects):
        project = projects[spec["project"]]
        fields = {key: value for key, value in spec.items() if key not in ("project", "purpose", "stories")}
        created = not FundUse.objects.filter(project=project, purpose=spec["purpose"]).exists()
        if created:
            use = FundUse(project=project, purpose=spec["purpose"], currency=project.currency, **fields)
            services.record_fund_use(use, by=None, allow_overspend=True)
            use.stories.set(Story.objects.filter(slug__in=spec["stories"]))
        (self.created if created else self.found)["use of funds"] += 1

    def fundraiser(self, spec, projects):
        """A live supporter's page with a few gifts recorded through the ledger, found by its slug."""
        supporter, _ = Supporter.objects.get_or_create(
            email=spec["supporter_email"], defaults={"name": spec["supporter_name"]}
        )
        today = timezone.localdate()
        page, created = Fundraiser.objects.get_or_create(
            slug=spec["slug"],
            defaults={
                "supporter": supporter,
                "project": projects[spec["project"]],
                "title": spec["title"],
                "occasion": spec["occasion"],
                "goal_minor": spec["goal_minor"],
                "ends_on": today + timedelta(days=spec["days_left"]),
                "story": spec["story"],
                "image": _picture(spec["art"], spec["slug"]),
                "image_alt": spec["image_alt"],
                "photo_permission": True,
                "thank_you_note": spec["thank_you_note"],
                "status": Fundraiser.Status.LIVE,
            },
        )
        (self.created if created else self.found)["fundraiser"] += 1
        project = page.project
        for session_id, amount, name, owner_sees, days_ago in spec["gifts"]:
            paid_at = timezone.now() - timedelta(days=days_ago)
            gift, created = Gift.objects.get_or_create(
                stripe_checkout_session_id=session_id,
                defaults={
                    "project": project,
                    "fundraiser": page,
                    "owner_sees": owner_sees,
                    "amount_minor": amount,
                    "currency": project.currency,
                    "donor_name": name,
                    "donor_email": f"{slugify(name).replace('-', '.')}@example.com",
                    "stripe_payment_intent_id": f"pi_demo_{session_id.removeprefix('cs_demo_')}",
                    "created_at": paid_at - timedelta(minutes=3),
                },
            )
            if created:
                services.record_payment(
                    gift,
                    amount_minor=amount,
                    currency=project.currency,
                    fee_covered_minor=0,
                    paid_at=paid_at,
                    origin=services.Origin.staff(None, "Demo content"),
                )
            (self.created if created else self.found)["gift"] += 1

    def verified_figure(self, spec):
        _, created = VerifiedFigure.objects.get_or_create(label=spec["label"], defaults=spec)
        (self.created if created else self.found)["figure"] += 1

    def summary(self):
        def describe(counts):
            parts = [f"{counts[kind]} {kind if counts[kind] == 1 else plural}" for kind, plural in KINDS]
            return ", ".join(parts) if counts.total() else "nothing"

        return f"Demo content: created {describe(self.created)}; already there: {describe(self.found)}."


KINDS = (
    ("project", "projects"),
    ("story", "stories"),
    ("milestone", "milestones"),
    ("amount sentence", "amount sentences"),
    ("photo", "photos"),
    ("gift", "gifts"),
    ("offline gift", "offline gifts"),
    ("use of funds", "uses of funds"),
    ("figure", "figures"),
    ("fundraiser", "fundraisers"),
    ("match", "matches"),
)
