from django.urls import path

from charity import views

app_name = "charity"

urlpatterns = [
    # Before the staff-written pages: these two add the records behind them.
    path("about/", views.about, name="about"),
    path("financial-reports/", views.financial_reports, name="financial_reports"),
    path("<slug:slug>/", views.page_detail, name="page"),
]
