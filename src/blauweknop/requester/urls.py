"""The requester portal's pages, for the requester's staff (two-factor login): /vragers/."""

from django.urls import path

from blauweknop.requester import pages, staff

app_name = "requester"
urlpatterns = [
    path("", pages.request_list, name="requests"),
    path("nieuw/", pages.new_request, name="new"),
    path("verzoeken/<int:pk>/", pages.request_page, name="request"),
    path("verzoeken/<int:pk>/ophalen/", pages.fetch_now, name="fetch"),
    *staff.LOGIN.urlpatterns(),
]
