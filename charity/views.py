from django.shortcuts import get_object_or_404, render

from charity.models import Page
from podari.page_cache import public_page


@public_page
def page_detail(request, slug):
    page = get_object_or_404(Page, slug=slug)
    documents = page.documents.all()
    return render(request, "charity/page.html", {"page": page, "documents": documents})
