from django.contrib import admin

from charity.models import Charity, FinancialReport, Page, PageDocument, Person


@admin.register(Charity)
class CharityAdmin(admin.ModelAdmin):
    fieldsets = [
        (None, {"fields": ["legal_name", "ein", "address", "contact_email", "tax_status"]}),
        ("About page", {"fields": ["founded_year", "state_of_incorporation", "money_path"]}),
    ]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        from markdownx.widgets import AdminMarkdownxWidget

        if db_field.name == "money_path":
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return not Charity.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # One row: go straight to it.
        from django.shortcuts import redirect

        charity = Charity.load()
        return redirect("admin:charity_charity_change", charity.pk)


class PageDocumentInline(admin.TabularInline):
    model = PageDocument
    extra = 1
    fields = ["title", "file", "position"]


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ["title", "slug", "show_in_footer", "position", "updated_at"]
    list_editable = ["show_in_footer", "position"]
    prepopulated_fields = {"slug": ["title"]}
    fields = ["title", "slug", "summary", "body", "show_in_footer", "position"]
    inlines = [PageDocumentInline]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        from markdownx.widgets import AdminMarkdownxWidget

        if db_field.name == "body":
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["name", "role", "group", "position"]
    list_editable = ["position"]
    list_filter = ["group"]
    fields = ["name", "role", "group", "bio", "position"]


@admin.register(FinancialReport)
class FinancialReportAdmin(admin.ModelAdmin):
    list_display = ["__str__", "year", "kind", "published_at"]
    list_filter = ["kind"]
    fields = ["kind", "year", "file"]
