from django import forms
from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from markdownx.admin import MarkdownxModelAdmin

from podari.gallery_admin import PICTURE_FIELDS, GalleryInline, PhotoConsentAdmin
from stories.models import Story, StoryPhoto


class StoryPhotoInline(GalleryInline):
    model = StoryPhoto


@admin.register(Story)
class StoryAdmin(PhotoConsentAdmin, MarkdownxModelAdmin):
    list_display = ["title", "status", "publish_at", "project_list", "is_live"]
    list_filter = ["status", "publish_at", "projects"]
    search_fields = ["title", "summary", "body", "author_name"]
    prepopulated_fields = {"slug": ["title"]}
    date_hierarchy = "publish_at"
    filter_horizontal = ["projects"]
    readonly_fields = ["preview_link", "impact_emails", "withdraw_photo_link"]
    inlines = [StoryPhotoInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "summary", "author_name"]}),
        ("Picture", {"fields": PICTURE_FIELDS}),
        ("Story", {"fields": ["body"]}),
        ("Pull quote", {"fields": ["quote", "quote_name", "quote_role"]}),
        ("Publishing", {"fields": ["status", "publish_at", "projects", "preview_link", "impact_emails"]}),
    ]

    class Media:
        # Room for the title and summary, and the live preview in the site's own styles.
        css = {"all": ["css/admin-editor.css"]}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "title":
            kwargs["widget"] = forms.TextInput(attrs={"class": "editor-title"})
        elif db_field.name in ("summary", "quote"):
            kwargs["widget"] = forms.Textarea(attrs={"class": "editor-summary", "rows": 3})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("projects")

    def view_on_site(self, story):
        # A draft's or scheduled story's public URL is a 404: open its preview instead.
        return story.site_url

    @admin.display(description="projects")
    def project_list(self, story):
        return ", ".join(project.title for project in story.projects.all())

    @admin.display(description="on the site now", boolean=True)
    def is_live(self, story):
        return story.is_public

    @admin.display(description="impact emails")
    def impact_emails(self, story):
        from donors.impact import summary

        return summary(story)

    @admin.display(description="preview")
    def preview_link(self, story):
        if not story.pk:
            return "Save the story first, then preview it here."
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">Preview this story as donors will see it</a>',
            reverse("stories:preview", args=[story.pk]),
        )
