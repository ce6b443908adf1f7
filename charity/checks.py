from django.core.checks import Tags, Warning, register
from django.db import DatabaseError


@register(Tags.compatibility, deploy=True)
def charity_facts_are_real(app_configs, **kwargs):
    # Receipts and the About page print these facts: a donor's tax receipt must not carry a
    # placeholder EIN or address. A warning, not an error: a staging site may keep them.
    from charity.models import Charity

    try:
        charity = Charity.objects.filter(pk=1).first() or Charity()
        missing = charity.placeholders()
    except DatabaseError:
        return []  # not migrated yet: `migrate` runs the checks before it creates the table
    if not missing:
        return []
    still = "is still a placeholder" if len(missing) == 1 else "are still placeholders"
    return [
        Warning(
            f"The charity's {', '.join(missing)} {still}.",
            hint="Enter the real values in the admin under Who we are → Charity facts; receipts print them.",
            id="charity.W001",
        )
    ]
