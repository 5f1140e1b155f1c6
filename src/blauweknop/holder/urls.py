"""The holder's staff pages (two-factor login): /gegevenshouder/beheer/."""

from blauweknop.holder import staff_pages

app_name = "holderstaff"
urlpatterns = [*staff_pages.urlpatterns]
