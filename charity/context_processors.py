from django.utils.functional import SimpleLazyObject

from charity.models import footer_context


def charity(request):
    # Lazy: pages served from the page cache never render, so never read the facts.
    facts = SimpleLazyObject(footer_context)
    return {"charity_facts": facts}
