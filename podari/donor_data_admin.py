"""Donors' names, emails, dedications and notes in the admin only for staff whose role needs them.

The donor-viewing permission (`donations.view_donor`: the Finance group, superusers) opens
them. Everyone else who may see a record holding donor data (the plain Staff group reads
gifts) sees the record without them: not in the list, the change page, the search (which
would otherwise answer "is this address a donor?"), the filters in the URL, the CSV export
or the audit log. `DonorDataAdmin` is mixed into each such ModelAdmin, which names its
donor fields; tests/security/test_donor_data_by_role.py walks every admin page as every role.
"""

from django.core.exceptions import PermissionDenied

DONOR_DATA_PERMISSION = "donations.view_donor"

# Shown instead of a hidden value where a column or field cannot simply be left out.
HIDDEN = "(hidden: needs the donor-viewing permission)"


def may_see_donors(user):
    return user.has_perm(DONOR_DATA_PERMISSION)


class DonorDataAdmin:
    donor_fields = ()  # fields and read-only displays left out of the change page
    donor_list_display = ()  # columns left out of the list
    donor_search_fields = ()  # search fields dropped (no "is this a donor?" oracle)
    donor_lookups = ()  # fields whose lookups in the URL (?donor_email=...) are refused
    donor_csv_columns = ()  # CSV columns left out of the export
    # A display shown instead of one that holds donor data: {"moves": "moves_plain"}.
    donor_field_substitutes = {}

    def _hide(self, request, names, hidden):
        if may_see_donors(request.user):
            return list(names)
        kept = []
        for name in names:
            if name in self.donor_field_substitutes:
                kept.append(self.donor_field_substitutes[name])
            elif name not in hidden:
                kept.append(name)
        return kept

    def get_fields(self, request, obj=None):
        return self._hide(request, super().get_fields(request, obj), self.donor_fields)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        return [
            (name, {**options, "fields": self._hide(request, options.get("fields", ()), self.donor_fields)})
            for name, options in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        return self._hide(request, super().get_readonly_fields(request, obj), self.donor_fields)

    def get_list_display(self, request):
        return self._hide(request, super().get_list_display(request), self.donor_list_display)

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        return [name for name in links or () if name in list_display] or list_display[:1]

    def get_search_fields(self, request):
        return self._hide(request, super().get_search_fields(request), self.donor_search_fields)

    def lookup_allowed(self, lookup, value, request=None):
        field = lookup.split("__")[0]
        if field in self.donor_lookups and (request is None or not may_see_donors(request.user)):
            return False
        return super().lookup_allowed(lookup, value, request)

    def export_csv_view(self, request):
        """The change list's CSV export (ledger.admin.CsvExportMixin) without the donor
        columns for staff who may not see donors."""
        if may_see_donors(request.user) or not self.donor_csv_columns:
            return super().export_csv_view(request)
        if not self.has_export_permission(request):
            raise PermissionDenied
        from ledger.exports import streaming_csv

        kept = [i for i, name in enumerate(self.csv_header) if name not in self.donor_csv_columns]
        queryset = self.get_changelist_instance(request).queryset
        rows = ([row[i] for i in kept] for row in self.export_rows(queryset))
        return streaming_csv(self.csv_filename, [self.csv_header[i] for i in kept], rows)
