from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "blauweknop.audit"
    verbose_name = "Inzage"
