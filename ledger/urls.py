from django.urls import path

from ledger import views
from podari.page_cache import public_page

app_name = "ledger"

urlpatterns = [
    path("projects/<slug:slug>/ledger.json", public_page(views.ledger_json), name="project_json"),
    path("projects/<slug:slug>/ledger.csv", public_page(views.ledger_csv), name="project_csv"),
]
