from django.urls import path

from fundraisers import views

app_name = "fundraisers"

urlpatterns = [
    path("", views.start, name="start"),
    path("link-sent/", views.link_sent, name="link_sent"),
    path("link/", views.sign_in, name="sign_in_page"),
    path("link/<str:token>/", views.sign_in_link, name="sign_in"),
    path("sign-out/", views.sign_out, name="sign_out"),
    path("mine/", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("<slug:slug>/", views.detail, name="detail"),
    path("<slug:slug>/edit/", views.edit, name="edit"),
    path("<slug:slug>/gifts/", views.owner, name="owner"),
    path("<slug:slug>/report/", views.report, name="report"),
]
