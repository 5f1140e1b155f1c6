"""The requester portal's pages, for the requester's staff (two-factor login): /vragers/."""

app_name = "requester"
urlpatterns: list = []
