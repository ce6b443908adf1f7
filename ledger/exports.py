"""CSV that is safe to open in a spreadsheet, streamed so a large export never sits in memory."""

import csv
import io

from django.http import HttpResponse, StreamingHttpResponse

# A cell starting with one of these is read as a formula by Excel, LibreOffice and
# Google Sheets ("=HYPERLINK(...)" in a donor's name); a leading apostrophe makes it text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Rows fetched from the database at a time while an export streams.
CHUNK_SIZE = 2000


def safe_cell(value):
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object whose write() hands the line back, for csv.writer in a generator."""

    def write(self, value):
        return value


def streaming_csv(filename, header, rows):
    """A download of `rows` (any iterable, read lazily) as CSV."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([safe_cell(c) for c in header])
        for row in rows:
            yield writer.writerow([safe_cell(c) for c in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def csv_response(filename, header, rows, *, attachment=True):
    """A small CSV built whole (it can then be kept by the page cache)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(c) for c in header])
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    if attachment:
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
