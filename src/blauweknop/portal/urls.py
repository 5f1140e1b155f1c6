from django.urls import path
from django.views.generic import TemplateView

from blauweknop.portal import access, debt_page, help, login, overview, vault_page, verify, views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("inloggen/", login.mock_login, name="login"),
    path("uitloggen/", login.logout, name="logout"),
    path("controleren/", verify.verify_page, name="verify"),
    path("controleren/met-code/", verify.code_entered, name="verify-code-form"),
    path("controleren/<str:code>/", verify.code_page, name="verify-code"),
    path("mijn-inzage/", access.access_log, name="access-log"),
    path("hulp/", help.help_page, name="help"),
    path("overzicht/", overview.overview, name="overview"),
    path("overzicht/schulden/", debt_page.debts, name="debts"),
    path("overzicht/schulden/downloaden/", debt_page.download_bundle, name="debts-download"),
    path("kluis/", vault_page.vault, name="vault"),
    path("kluis/bewaren/", vault_page.keep, name="vault-keep"),
    path("kluis/vernieuwen/", vault_page.refresh, name="vault-refresh"),
    path("kluis/verwijderen/", vault_page.delete, name="vault-delete"),
    path("kluis/downloaden/", vault_page.download, name="vault-download"),
    path("kluis/bekijken/", vault_page.show, name="vault-show"),
    path("knop/", TemplateView.as_view(template_name="portal/button.html"), name="button"),
    path("organisaties/<str:oin>/", views.organisation, name="organisation"),
    path("organisaties/<str:oin>/blauwe-knop/", views.press, name="press"),
    path("organisaties/<str:oin>/gegevens/", views.data, name="data"),
    path("organisaties/<str:oin>/downloaden/", views.download, name="download"),
    path("organisaties/<str:oin>/taal/", views.switch_language, name="data-language"),
]
