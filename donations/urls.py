from django.urls import path

from donations import views
from podari.page_cache import public_page

app_name = "donations"

urlpatterns = [
    path("projects/", public_page(views.ProjectListView.as_view()), name="project_list"),
    path("projects/<slug:slug>/", public_page(views.project_detail), name="project_detail"),
    path("donate/", views.donate, name="donate"),
    path("donate/thanks/", views.thanks, name="thanks"),
    path("donate/simulated-checkout/<str:session_id>/", views.simulated_checkout, name="simulated_checkout"),
    path("webhooks/stripe/", views.stripe_webhook, name="stripe_webhook"),
]
