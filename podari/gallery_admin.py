"""The photo gallery inline that stories and projects share in the admin."""

from django.contrib import admin
from django.forms.models import BaseInlineFormSet

from podari.content import CONSENT_MISSING


class OptionalInlineFormSet(BaseInlineFormSet):
    """An inline that a form posted without it leaves alone, instead of refusing the save.

    The admin's own page always sends the inline's management fields; a form built before
    the inline existed (a script, a test) saves its parent and changes no inline rows.
    """

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        if data is not None:
            total = f"{prefix or self.get_default_prefix()}-TOTAL_FORMS"
            if total not in data:
                data = data.copy()
                data[total] = data[total.replace("TOTAL", "INITIAL")] = "0"
        super().__init__(data, *args, prefix=prefix, **kwargs)


class GalleryFormSet(OptionalInlineFormSet):
    """Refuses a public page with a photo of a child that lacks a guardian's consent.

    The parent's form has already been applied to `self.instance`, so the status checked
    is the one being saved, and a consent box ticked in the same save counts.
    """

    def clean(self):
        super().clean()
        if not self.instance.photos_must_have_consent():
            return
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or data.get("DELETE"):
                continue
            if data.get("image_shows_child") and not data.get("image_guardian_consent"):
                form.add_error("image_guardian_consent", CONSENT_MISSING)


class GalleryInline(admin.StackedInline):
    formset = GalleryFormSet
    extra = 0
    fields = ["image", "image_alt", "caption", "image_shows_child", "image_guardian_consent", "position"]
    verbose_name = "gallery photo"
    verbose_name_plural = "photo gallery"
