"""Turn the money already recorded into ledger entries, and check that nothing changed.

Each paid gift gets its payment and covered fee; its refunds, disputes and moves between
projects become entries in the order they can be known; offline gifts lose the Stripe
key's mode (they count on any site) and uses of funds become entries. Every gift's net
is then the sum of its entries, and the projects' stored totals and the ledger's
monthly sums are recomputed from them: the migration fails, changing nothing, unless
each project's total, gift count and monthly sums come out as they were.

The covered fee's share of an old refund or dispute was not recorded: it is taken as
the same share of the fee as of the gift (a full refund gives back the whole fee).
"""

from collections import defaultdict
from datetime import UTC, datetime, time

from django.conf import settings
from django.db import migrations
from django.db.models import Count, F, Q, Sum, Value
from django.db.models.functions import Greatest, Least
from django.utils import timezone

PAID = ("succeeded", "partially_refunded", "refunded")
BATCH = 5_000


def _share(amount, part, whole):
    return (amount * part * 2 + whole) // (whole * 2) if whole else 0


def _month(moment):
    return timezone.localtime(moment, timezone.get_default_timezone()).date().replace(day=1)


def _stored_sums(Project, GiftMonth):
    projects = {p["id"]: (p["raised_minor"], p["gift_count"]) for p in Project.objects.values()}
    months = {
        (m["project_id"], m["currency"], m["month"], m["offline"]): (m["net_minor"], m["gift_count"])
        for m in GiftMonth.objects.filter(gift_count__gt=0).values()
    }
    return projects, months


def forwards(apps, schema_editor):
    Gift = apps.get_model("donations", "Gift")
    GiftMove = apps.get_model("donations", "GiftMove")
    Project = apps.get_model("donations", "Project")
    Entry = apps.get_model("ledger", "Entry")
    FundUse = apps.get_model("ledger", "FundUse")
    GiftMonth = apps.get_model("ledger", "GiftMonth")

    before = _stored_sums(Project, GiftMonth)
    moves = defaultdict(list)
    for move in GiftMove.objects.order_by("moved_at", "pk").values():
        moves[move["gift_id"]].append(move)

    entries, newly_counted = [], []

    def entry(gift, kind, account, amount, project_id, key, occurred_at, livemode):
        if amount:
            entries.append(
                Entry(
                    key=key,
                    kind=kind,
                    account=account,
                    project_id=project_id,
                    gift_id=gift["id"],
                    amount_minor=amount,
                    currency=gift["currency"],
                    occurred_at=occurred_at,
                    source="migration",
                    livemode=livemode,
                    note="Recorded before the ledger existed.",
                )
            )

    def flush():
        Entry.objects.bulk_create(entries, batch_size=BATCH)
        entries.clear()

    gifts = Gift.objects.filter(status__in=PAID).order_by("pk").values()
    for gift in gifts.iterator(chunk_size=BATCH):
        pk, amount, fee = gift["id"], gift["amount_minor"], gift["fee_covered_minor"]
        offline = gift["source"] != "stripe"
        livemode = None if offline else gift["livemode"]
        paid_at = gift["paid_at"] or gift["created_at"]
        gift_moves = moves.get(pk, [])
        # The payment went to the project the gift had when it was paid.
        earlier = [m for m in gift_moves if m["moved_at"] <= paid_at]
        later = [m for m in gift_moves if m["moved_at"] > paid_at]
        project_id = earlier[-1]["to_project_id"] if earlier else (
            later[0]["from_project_id"] if later else gift["project_id"]
        )
        if offline:
            entry(gift, "offline_gift", "project", amount, project_id, f"migration:{pk}:offline", paid_at, None)
        else:
            key = f"gift:{gift['public_id']}"
            entry(gift, "payment", "project", amount, project_id, f"{key}:payment", paid_at, livemode)
            entry(gift, "covered_fee", "fee", fee, project_id, f"{key}:fee", paid_at, livemode)
        for move in later:
            entry(gift, "move_out", "project", -amount, move["from_project_id"], f"move:{move['id']}:out",
                  move["moved_at"], livemode)  # fmt: skip
            entry(gift, "move_in", "project", amount, move["to_project_id"], f"move:{move['id']}:in",
                  move["moved_at"], livemode)  # fmt: skip
            project_id = move["to_project_id"]
        now = gift["updated_at"]
        refunded_at = datetime.fromtimestamp(gift["refunds_as_of"], tz=UTC) if gift["refunds_as_of"] else now
        refunded = min(gift["amount_refunded_minor"], amount)
        if refunded:
            fee_refunded = fee if refunded >= amount else _share(refunded, fee, amount)
            entry(gift, "refund", "project", -refunded, project_id, f"migration:{pk}:refund", refunded_at, livemode)
            entry(gift, "refund", "fee", -fee_refunded, project_id, f"migration:{pk}:refund:fee", refunded_at,
                  livemode)  # fmt: skip
        disputed = min(gift["amount_disputed_minor"], amount - refunded)
        if disputed:
            fee_held = _share(disputed, fee, amount)
            dispute = gift["stripe_dispute_id"] or str(pk)
            entry(gift, "dispute_hold", "project", -disputed, project_id, f"{dispute}:hold:project", now, livemode)
            entry(gift, "dispute_hold", "fee", -fee_held, project_id, f"{dispute}:hold:fee", now, livemode)
            entry(gift, "dispute_hold", "held", disputed + fee_held, project_id, f"{dispute}:hold:held", now,
                  livemode)  # fmt: skip
            if gift["dispute_status"] == "lost":
                entry(gift, "dispute_loss", "held", -(disputed + fee_held), project_id, f"{dispute}:close:held",
                      now, livemode)  # fmt: skip
        net = max(amount - refunded - disputed, 0)
        if offline and gift["livemode"] != settings.STRIPE_LIVEMODE and net and gift["status"] != "refunded":
            # Recorded under the other mode's key, it did not count; offline money counts on
            # any site now (the change this migration makes on purpose), so it adds to "before".
            newly_counted.append((gift, net))
        if len(entries) >= BATCH:
            flush()
    flush()

    # Each gift's stored net is now the sum of its entries on its project: the same
    # arithmetic as above, by the database in one statement (not one per gift).
    refunded = Least(F("amount_refunded_minor"), F("amount_minor"))
    disputed = Least(F("amount_disputed_minor"), F("amount_minor") - refunded)
    paid = Gift.objects.filter(status__in=PAID)
    paid.update(net_minor=Greatest(F("amount_minor") - refunded - disputed, Value(0)))
    paid.exclude(source="stripe").update(livemode=None)

    for use in FundUse.objects.order_by("pk").values():
        spent = timezone.make_aware(datetime.combine(use["spent_on"], time(12)))
        Entry.objects.create(
            key=f"migration:use:{use['id']}",
            kind="fund_use",
            account="project",
            project_id=use["project_id"],
            fund_use_id=use["id"],
            amount_minor=-use["amount_minor"],
            currency=use["currency"],
            occurred_at=spent,
            source="migration",
            recorded_by_id=use["recorded_by_id"],
            note="Recorded before the ledger existed.",
        )

    _recount(apps)
    expected = _with_newly_counted(before, newly_counted, Project)
    after = _stored_sums(Project, GiftMonth)
    if after != expected:
        raise RuntimeError(
            "The ledger's entries do not add up to the totals recorded before them, so nothing was "
            "changed. Run `manage.py recount_totals` on the previous release first if the stored totals "
            f"had drifted from the gifts. Projects (total, gifts) before: {expected[0]}, after: {after[0]}."
        )


def _with_newly_counted(before, newly_counted, Project):
    projects, months = dict(before[0]), dict(before[1])
    currencies = dict(Project.objects.values_list("id", "currency"))
    for gift, net in newly_counted:
        if currencies.get(gift["project_id"]) == gift["currency"]:
            total, count = projects[gift["project_id"]]
            projects[gift["project_id"]] = (total + net, count + 1)
        key = (gift["project_id"], gift["currency"], _month(gift["paid_at"] or gift["created_at"]), True)
        total, count = months.get(key, (0, 0))
        months[key] = (total + net, count + 1)
    return projects, months


def _recount(apps):
    """Project totals and monthly sums from the gifts' nets (ProjectQuerySet.recount_totals)."""
    Gift = apps.get_model("donations", "Gift")
    Project = apps.get_model("donations", "Project")
    GiftMonth = apps.get_model("ledger", "GiftMonth")
    counted = Gift.objects.filter(net_minor__gt=0).filter(
        Q(livemode__isnull=True) | Q(livemode=settings.STRIPE_LIVEMODE)
    )
    for project in Project.objects.all():
        own = counted.filter(project=project, currency=project.currency).aggregate(
            total=Sum("net_minor"), n=Count("*")
        )
        Project.objects.filter(pk=project.pk).update(raised_minor=own["total"] or 0, gift_count=own["n"])
    GiftMonth.objects.all().delete()
    months = defaultdict(lambda: [0, 0])
    for gift in counted.values("project_id", "currency", "paid_at", "created_at", "source", "net_minor").iterator(
        chunk_size=BATCH
    ):
        key = (gift["project_id"], gift["currency"], _month(gift["paid_at"] or gift["created_at"]),
               gift["source"] != "stripe")  # fmt: skip
        months[key][0] += gift["net_minor"]
        months[key][1] += 1
    GiftMonth.objects.bulk_create(
        [
            GiftMonth(project_id=p, currency=c, month=m, offline=o, net_minor=net, gift_count=n)
            for (p, c, m, o), (net, n) in months.items()
        ],
        batch_size=BATCH,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0004_ledger_entries"),
        ("donations", "0009_gift_net"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
