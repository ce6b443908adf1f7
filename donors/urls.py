from django.urls import path

from donors import views

app_name = "donors"

MONTHLY = "manage/giving/monthly/<uuid:public_id>/"

urlpatterns = [
    path("manage/", views.request_link, name="request_link"),
    path("manage/link-sent/", views.link_sent, name="link_sent"),
    path("manage/link/", views.sign_in, name="sign_in_page"),
    path("manage/link/<str:token>/", views.sign_in_link, name="sign_in"),
    path("manage/giving/", views.giving, name="giving"),
    path("manage/giving/receipts/<uuid:public_id>/", views.receipt, name="receipt"),
    path("manage/giving/statements/<int:year>/", views.statement, name="statement"),
    path("manage/giving/statements/<int:year>.csv", views.statement_csv, name="statement_csv"),
    path("manage/giving/monthly/<uuid:public_id>/portal/", views.billing_portal, name="billing_portal"),
    path(MONTHLY, views.monthly_gift, name="monthly_gift"),
    path(MONTHLY + "amount/", views.change_monthly_amount, name="change_monthly_amount"),
    path(MONTHLY + "pause/", views.pause_monthly_gift, name="pause_monthly_gift"),
    path(MONTHLY + "resume/", views.resume_monthly_gift, name="resume_monthly_gift"),
    path(MONTHLY + "cancel/", views.cancel_monthly_gift, name="cancel_monthly_gift"),
    path("manage/sign-out/", views.sign_out, name="sign_out"),
    path("manage/giving/my-data/", views.request_data, name="request_data"),
    path("manage/giving/erase/", views.request_erasure, name="request_erasure"),
    path("manage/data/", views.data_page, name="data_page"),
    path("manage/data/download/", views.data_download, name="data_download"),
    path("manage/data/<str:token>/", views.data_link, name="data"),
    path("manage/erase/", views.erase_page, name="erase_page"),
    path("manage/erase/<str:token>/", views.erase_link, name="erase"),
    path("email/preferences/", views.preferences, name="preferences_page"),
    path("email/preferences/<str:token>/", views.preferences_link, name="preferences"),
    path("email/unsubscribe/", views.unsubscribe, name="unsubscribe_page"),
    path("email/unsubscribe/<str:token>/", views.unsubscribe_link, name="unsubscribe"),
    path("email/confirm-stories/", views.confirm_stories, name="confirm_stories_page"),
    path("email/confirm-stories/<str:token>/", views.confirm_stories_link, name="confirm_stories"),
]
