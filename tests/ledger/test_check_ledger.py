"""`manage.py check_ledger`: each stored figure recomputed from the entries; entries never change."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.urls import reverse

from donations.models import Gift, Project, money_writes
from ledger import services
from ledger.audit import differences
from ledger.models import AppendOnly, Entry
from tests.conftest import dispute, fail_refund, refund

pytestmark = pytest.mark.django_db


def every_kind_of_movement(project, other, make_gift, make_use, user):
    paid = make_gift(project, amount_minor=10_000, fee_covered_minor=320)
    refund(paid, 2_500, as_of=100)
    fail_refund(paid, "re_1", 2_500, as_of=200)
    won = make_gift(project, amount_minor=4_000)
    dispute(won, "dp_won", 4_000)
    dispute(won, "dp_won", 4_000, closed="won")
    lost = make_gift(project, amount_minor=3_000, fee_covered_minor=120)
    dispute(lost, "dp_lost", 3_120, closed="lost")
    moved = make_gift(project, amount_minor=7_000)
    services.move_gift(moved, other, by=user, reason="meant for doctors")
    make_gift(project, amount_minor=1_000, currency="eur")
    offline = make_gift(project, amount_minor=50_000, source=Gift.Source.CHEQUE)
    offline.amount_minor = 45_000
    services.correct_offline_gift(offline, by=user, reason="counted again")
    voided = make_gift(other, amount_minor=2_000, source=Gift.Source.CASH)
    services.void_offline_gift(voided, by=user, reason="entered twice")
    use = make_use(project, 6_000)
    use.amount_minor = 5_000
    services.correct_fund_use(use, by=user, reason="invoice corrected")
    services.void_fund_use(make_use(other, 1_000), by=user, reason="never paid")


def test_every_kind_of_movement_leaves_no_difference(project, make_project, make_gift, make_use, admin_user):
    other = make_project(title="Doctors", slug="doctors")
    every_kind_of_movement(project, other, make_gift, make_use, admin_user)

    assert differences() == []
    call_command("check_ledger")  # and says so without failing


def test_a_stored_total_that_drifted_is_named(project, make_gift, capsys):
    make_gift(project, amount_minor=10_000)
    with money_writes():  # a repair by hand in SQL, gone wrong
        Project.objects.filter(pk=project.pk).update(raised_minor=9_000)

    with pytest.raises(CommandError, match="1 difference"):
        call_command("check_ledger")
    expected = "Project “CAR-T therapy for children”: raised and gifts: stored (9000, 1), from the entries"
    assert f"{expected} (10000, 1)" in capsys.readouterr().out


def test_a_gifts_net_that_drifted_is_named(project, make_gift):
    gift = make_gift(project, amount_minor=10_000)
    with money_writes():
        Gift.objects.filter(pk=gift.pk).update(net_minor=10)

    assert f"Gift #{gift.pk}: what it counts for: stored 10, from the entries 10000" in map(
        str, differences()
    )


def test_entries_are_never_changed_or_removed(project, make_gift):
    make_gift(project, amount_minor=10_000)
    entry = Entry.objects.get()

    with pytest.raises(AppendOnly):
        Entry.objects.update(amount_minor=1)
    with pytest.raises(AppendOnly):
        Entry.objects.all().delete()
    with pytest.raises(AppendOnly):
        entry.delete()
    entry.amount_minor = 1
    with pytest.raises(AppendOnly):
        entry.save()


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database's own guard is PostgreSQL's")
def test_the_database_refuses_to_change_an_entry_whatever_code_tries(project, make_gift):
    make_gift(project, amount_minor=10_000)
    for statement in ("UPDATE ledger_entry SET amount_minor = 1", "DELETE FROM ledger_entry"):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Entry.objects.get().amount_minor == 10_000


def test_finance_reads_every_entry_and_editors_none(client, finance_user, editor_user, project, make_gift):
    make_gift(project, amount_minor=10_000, fee_covered_minor=320)
    url = reverse("admin:ledger_entry_changelist")

    client.force_login(finance_user)
    html = client.get(url).content.decode()
    assert "$100" in html and "$3.20" in html and "Fee covered by the donor" in html
    entry = Entry.objects.first()
    assert client.post(reverse("admin:ledger_entry_change", args=[entry.pk]), {}).status_code == 403
    client.force_login(editor_user)
    assert client.get(url).status_code == 403
