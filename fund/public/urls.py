"""The anonymous pages: the home page and each fund's public page."""

from django.urls import path

from fund.public import views

urlpatterns = [
    path("", views.home, name="home"),
    path("f/<slug:slug>/", views.fund_page, name="fund_page"),
    path("f/<slug:slug>/seal.json", views.fund_seal, name="fund_seal"),
]
