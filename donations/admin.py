from django.contrib import admin, messages
from django.db.models import Sum

from donations import webhooks
from donations.models import Gift, Project, StripeEvent
from donations.money import format_money


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "is_general_fund", "is_featured", "goal", "raised", "gift_count"]
    list_filter = ["status", "is_general_fund", "is_featured"]
    search_fields = ["title", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    readonly_fields = ["raised", "gift_count"]
    actions = ["recount_totals"]
    fields = [
        "title", "slug", "summary", "description", "image", "image_alt", "goal_minor", "currency",
        "status", "is_general_fund", "is_featured", "position", "raised", "gift_count",
    ]  # fmt: skip

    @admin.display(description="goal")
    def goal(self, project):
        return format_money(project.goal_minor, project.currency) if project.goal_minor else "—"

    @admin.display(description="raised (net of refunds)", ordering="raised_minor")
    def raised(self, project):
        return format_money(project.raised_minor, project.currency)

    @admin.display(description="gifts", ordering="gift_count")
    def gift_count(self, project):
        return project.gift_count

    @admin.action(description="Recount the totals of the selected projects from their gifts")
    def recount_totals(self, request, queryset):
        # Totals stay exact by themselves; this repairs them after a hand edit in the database.
        updated = queryset.recount_totals()
        self.message_user(request, f"Recounted the totals of {updated} project(s).", messages.SUCCESS)

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        from markdownx.widgets import AdminMarkdownxWidget

        if db_field.name == "description":
            kwargs["widget"] = AdminMarkdownxWidget
        return super().formfield_for_dbfield(db_field, request, **kwargs)


STRIPE_FIELDS = [
    "public_id", "stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_charge_id",
    "amount_minor", "currency", "amount_refunded_minor", "status", "paid_at", "created_at", "updated_at",
]  # fmt: skip


@admin.register(Gift)
class GiftAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "project", "amount", "status", "donor_name", "needs_review"]
    list_filter = ["status", "project", "needs_review", "created_at", "currency"]
    search_fields = [
        "donor_name", "donor_email", "stripe_checkout_session_id", "stripe_payment_intent_id",
        "stripe_charge_id", "public_id",
    ]  # fmt: skip
    date_hierarchy = "created_at"
    list_select_related = ["project"]
    readonly_fields = STRIPE_FIELDS
    fields = [
        "project", *STRIPE_FIELDS, "donor_name", "donor_email", "show_name_publicly",
        "dedication", "dedication_name", "needs_review", "review_reason",
    ]  # fmt: skip

    def has_add_permission(self, request):
        # Gifts come from Stripe; a hand-made one would claim money that never arrived.
        return False

    def has_delete_permission(self, request, obj=None):
        # A gift is a record of money received; refunds come from Stripe, not deletion.
        return False

    @admin.display(description="amount", ordering="amount_minor")
    def amount(self, gift):
        return format_money(gift.amount_minor, gift.currency)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            # Money that arrived: pending, failed and abandoned checkouts never paid anything.
            totals = (
                changelist.queryset.filter(status__in=Gift.PAID_STATUSES)
                .order_by()
                .values("currency")
                .annotate(gross=Sum("amount_minor"), refunded=Sum("amount_refunded_minor"))
            )
            response.context_data["filtered_totals"] = [
                {
                    "currency": row["currency"].upper(),
                    "gross": format_money(row["gross"], row["currency"]),
                    "net": format_money(row["gross"] - row["refunded"], row["currency"]),
                }
                for row in totals
            ]
        return response


@admin.register(StripeEvent)
class StripeEventAdmin(admin.ModelAdmin):
    list_display = ["stripe_id", "type", "status", "attempts", "received_at", "processed_at"]
    list_filter = ["status", "type", "livemode"]
    search_fields = ["stripe_id", "type"]
    actions = ["replay"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Replay the selected events", permissions=["view"])
    def replay(self, request, queryset):
        replayed, failed = 0, 0
        for event in queryset.exclude(status__in=[StripeEvent.Status.PROCESSED, StripeEvent.Status.IGNORED]):
            try:
                webhooks.process(event)
                replayed += 1
            except Exception:
                failed += 1
        if replayed:
            self.message_user(request, f"{replayed} event(s) applied.", messages.SUCCESS)
        if failed:
            self.message_user(
                request, f"{failed} event(s) failed again; see their last error.", messages.ERROR
            )
        if not replayed and not failed:
            self.message_user(request, "Nothing to replay: the selected events were already applied.")
