"""The photo gallery inline that stories and projects share in the admin."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.forms.models import BaseInlineFormSet
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

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


# A story's or project's picture fields in its admin, with the way to withdraw consent.
PICTURE_FIELDS = ["image", "image_alt", "image_shows_child", "image_guardian_consent", "withdraw_photo_link"]


class WithdrawPhotoForm(forms.Form):
    photo = forms.ChoiceField(label="The photo", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Why",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept in the audit log with your name and the time, e.g. “guardian withdrew consent "
        "by letter of March 3”. Name no child here.",
    )

    def __init__(self, *args, pictures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["photo"].choices = [(p.key, p.label) for p in pictures]


class PhotoConsentAdmin:
    """ "Withdraw consent for a photo…" on a story's or project's page and list.

    Staff choose one picture and give a reason; the next page shows every copy of that
    photo on the story or project (the main photo with its renditions and link-preview
    card, gallery photos, images in the text), and confirming removes them all at once
    (podari.photo_consent)."""

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_withdraw_photo"
        return [
            path("<int:pk>/withdraw-photo/", self.admin_site.admin_view(self.withdraw_photo_view), name=name),
            *super().get_urls(),
        ]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}"):
            action = self.withdraw_photo_action
            actions["withdraw_photo_action"] = (action, "withdraw_photo_action", action.short_description)
        return actions

    @admin.display(description="photo consent")
    def withdraw_photo_link(self, obj):
        if not obj or not obj.pk:
            return "—"
        url = reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_withdraw_photo", args=[obj.pk])
        text = "Withdraw consent for a photo of this {}…"
        return format_html('<a href="{}">' + text + "</a>", url, self.opts.verbose_name)

    def withdraw_photo_action(self, request, queryset):
        chosen = list(queryset.values_list("pk", flat=True)[:2])
        if len(chosen) != 1:
            self.message_user(request, "Choose one item to withdraw a photo of.", messages.WARNING)
            return None
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_withdraw_photo", chosen[0])

    withdraw_photo_action.short_description = "Withdraw consent for a photo of the selected item…"

    def withdraw_photo_view(self, request, pk):
        from podari import photo_consent

        owner = self.get_object(request, str(pk))
        if owner is None:
            raise Http404
        # Permission to change the story or project itself (not only its money, say).
        if not request.user.has_perm(f"{self.opts.app_label}.{get_permission_codename('change', self.opts)}"):
            raise PermissionDenied
        pictures = photo_consent.pictures_of(owner)
        form = WithdrawPhotoForm(request.POST or None, pictures=pictures)
        copies = []
        if request.method == "POST" and form.is_valid():
            copies = photo_consent.copies_of(owner, form.cleaned_data["photo"])
            if request.POST.get("confirm") and copies:
                photo_consent.withdraw(owner, copies, by=request.user, reason=form.cleaned_data["reason"])
                self.message_user(
                    request,
                    f"Removed {len(copies)} picture(s) of this photo from the site; their files are deleted.",
                    messages.SUCCESS,
                )
                return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_change", owner.pk)
        return TemplateResponse(
            request,
            "admin/withdraw_photo.html",
            {
                **self.admin_site.each_context(request),
                "title": f"Withdraw consent for a photo of “{owner}”",
                "opts": self.opts,
                "original": owner,
                "form": form,
                "pictures": pictures,
                "copies": copies,
            },
        )
