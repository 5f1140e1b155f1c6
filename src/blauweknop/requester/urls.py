"""The requester portal's pages, for the requester's staff (two-factor login): /vragers/."""

from django.urls import include, path

from blauweknop.requester import pages, staff, staff_passkeys

app_name = "requester"
urlpatterns = [
    path("", pages.request_list, name="requests"),
    path("nieuw/", pages.new_request, name="new"),
    path("verzoeken/<int:pk>/", pages.request_page, name="request"),
    path("verzoeken/<int:pk>/ophalen/", pages.fetch_now, name="fetch"),
    path("inloggen/", staff.login, name="login"),
    path("inloggen/tweede-stap/", staff.second_factor, name="second-factor"),
    path("inloggen/instellen/", staff.setup, name="setup"),
    path("uitloggen/", staff.logout, name="logout"),
    path("beveiliging/", staff.security, name="security"),
    path("passkeys/", include(staff_passkeys.urlpatterns)),
]
