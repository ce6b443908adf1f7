"""Which cached pages a change to each model makes stale: the one map, and its wiring.

The page cache (podari/page_cache.py) keeps pages under two versions. The content version
stands for what the site says (stories, projects, the charity's pages): every cached page
and fragment checks it. The gifts version stands for money given (totals, donor lists, the
number of monthly donors): only pages and fragments that show gifts check it, and they may
lag it by PAGE_CACHE_GIFTS_LAG_SECONDS. So a gift, a monthly signup or a renewal leaves the
story pages cached, while a changed story reaches every page at once.

Every model whose rows a public page shows is in PAGE_CACHE_VERSIONS (a test renders the
public pages and checks the tables they read against it). Saving or deleting one of its
rows, or changing its many-to-many links, moves its version once the transaction commits:
never inside it, or a reader in between would store the old rows under the new version.

Models are named by "app_label.ModelName", so this module imports no app; PodariConfig.ready()
connects the map once every app's models are loaded. Code that changes rows without these
signals (QuerySet.update(), raw SQL) calls page_cache.invalidate_pages_on_commit() or
invalidate_gift_pages_on_commit() itself.
"""

from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.utils.module_loading import import_string

from podari import page_cache

CONTENT = "content"
GIFTS = "gifts"

PAGE_CACHE_VERSIONS = {
    # What the site says, on any page: cards, menus, the footer, the donate form.
    "stories.Story": CONTENT,
    "stories.StoryPhoto": CONTENT,
    "donations.Project": CONTENT,
    "donations.ProjectPhoto": CONTENT,
    "donations.ProjectMilestone": CONTENT,
    "donations.AmountMeaning": CONTENT,
    "ledger.FundUse": CONTENT,
    "ledger.VerifiedFigure": CONTENT,
    # Entered by staff with its date and note, and shown as a line of the project's ledger.
    "ledger.OfflineGift": CONTENT,
    # A match's terms and status, set by staff; shown on project pages and the donate
    # form. Its balance moves (by update()) only with the save of the gift it matched,
    # so its progress is drawn where the gifts version is checked.
    "campaigns.Match": CONTENT,
    "charity.Charity": CONTENT,
    "charity.Page": CONTENT,
    "charity.PageDocument": CONTENT,
    "charity.Person": CONTENT,
    "charity.FinancialReport": CONTENT,
    # Money given: totals, donor names, how many people give monthly.
    "donations.Gift": GIFTS,
    "donations.RecurringGift": GIFTS,
}

# Rows public pages show that are only ever written in the same transaction as a change to
# a model of the map, whose bump therefore covers them.
COVERED_BY = {
    # The month's sums, kept by ledger.services with the gift's save, and the recount.
    "ledger.GiftMonth": "donations.Gift",
    # Ledger entries: ledger.services writes a gift's with a save of the gift, and a use
    # of funds' with a save of the use (whose content version every page checks).
    "ledger.Entry": "donations.Gift",
}

# A cache of a model's own, deleted in the same callback just before the version moves: a
# reader in between would otherwise build a page from the old copy under the new version.
# Named by import path, read when connected.
ALSO_DELETED = {
    "charity.Charity": "charity.models.FACTS_CACHE_KEY",
    "charity.Page": "charity.models.FACTS_CACHE_KEY",
    "charity.PageDocument": "charity.models.FACTS_CACHE_KEY",
}

BUMPS = {CONTENT: page_cache.bump_content_version, GIFTS: page_cache.bump_gifts_version}


def _on_commit(version, also_deleted):
    bump = BUMPS[version]

    def changed():
        if also_deleted:
            cache.delete(also_deleted)
        bump()

    def receiver(sender, using=None, action=None, **kwargs):
        if action is None or action.startswith("post_"):  # m2m_changed: once, after the change
            transaction.on_commit(changed, using=using)

    return receiver


def connect():
    """Connect every model of the map to its version. Called once, from PodariConfig.ready()."""
    for label, version in PAGE_CACHE_VERSIONS.items():
        model = apps.get_model(label)
        also_deleted = import_string(ALSO_DELETED[label]) if label in ALSO_DELETED else None
        receiver = _on_commit(version, also_deleted)
        uid = f"page-cache-{label}"
        post_save.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}-save")
        post_delete.connect(receiver, sender=model, weak=False, dispatch_uid=f"{uid}-delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(receiver, sender=through, weak=False, dispatch_uid=f"{uid}-{field.name}")


def version_of(label):
    """The version a change to this model moves: "content", "gifts", or None if not in the map."""
    label = COVERED_BY.get(label, label)
    return PAGE_CACHE_VERSIONS.get(label)
