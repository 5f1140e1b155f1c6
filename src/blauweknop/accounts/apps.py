from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "blauweknop.accounts"
    verbose_name = "Accounts"
