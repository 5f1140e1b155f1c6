from django.urls import path
from django.views.generic import TemplateView

from blauweknop.portal import access, help, login, verify, views

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
    path("knop/", TemplateView.as_view(template_name="portal/button.html"), name="button"),
    path("organisaties/<str:oin>/", views.organisation, name="organisation"),
    path("organisaties/<str:oin>/blauwe-knop/", views.press, name="press"),
    path("organisaties/<str:oin>/gegevens/", views.data, name="data"),
    path("organisaties/<str:oin>/downloaden/", views.download, name="download"),
    path("organisaties/<str:oin>/taal/", views.switch_language, name="data-language"),
]
