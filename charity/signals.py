from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from charity.models import FACTS_CACHE_KEY, Charity, Page, PageDocument
from podari.page_cache import bump_content_version


@receiver([post_save, post_delete], sender=Charity, dispatch_uid="charity-facts-changed")
@receiver([post_save, post_delete], sender=Page, dispatch_uid="charity-page-changed")
@receiver([post_save, post_delete], sender=PageDocument, dispatch_uid="charity-document-changed")
def facts_changed(**kwargs):
    # After commit, or a reader in between would cache the old facts again.
    transaction.on_commit(lambda: (cache.delete(FACTS_CACHE_KEY), bump_content_version()))
