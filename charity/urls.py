from django.urls import path

from charity import views

app_name = "charity"

urlpatterns = [
    path("<slug:slug>/", views.page_detail, name="page"),
]
