from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TriageConfig(AppConfig):
    name = "triage"
    verbose_name = "Triage"

    def ready(self) -> None:
        from .roles import sync_roles

        # Roles are reference data: re-synced after every migrate (like permissions).
        post_migrate.connect(sync_roles, dispatch_uid="triage-sync-roles")
