"""Staff roles as groups with permissions, kept in step after every migrate."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group, Permission

ROLES: dict[str, list[str]] = {
    "Triage officer": [
        "enquiries.view_enquiry", "enquiries.view_all_enquiries",
        "enquiries.triage_enquiry", "casestudies.view_casestudy",
    ],
    "Specialist": [
        "enquiries.view_enquiry", "enquiries.view_team_enquiries",
        "enquiries.triage_enquiry", "casestudies.view_casestudy",
    ],
    "Case-study editor": [
        "casestudies.view_casestudy", "casestudies.add_casestudy",
        "casestudies.change_casestudy", "casestudies.publish_casestudy",
    ],
    "Administrator": [
        "enquiries.view_enquiry", "enquiries.view_all_enquiries",
        "enquiries.triage_enquiry", "enquiries.erase_personal_data",
        "casestudies.view_casestudy", "casestudies.change_casestudy",
        "casestudies.publish_casestudy", "triage.view_classifierversion",
        "triage.change_classifierversion", "triage.view_routingrule",
        "triage.add_routingrule", "triage.change_routingrule",
        "triage.delete_routingrule", "triage.view_team", "triage.change_team",
        "triage.view_cannedresponse", "triage.add_cannedresponse",
        "triage.change_cannedresponse",
    ],
}  # fmt: skip


def sync_roles(**_: Any) -> None:
    for name, perms in ROLES.items():
        group = Group.objects.get_or_create(name=name)[0]
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found:
                wanted.append(found)
        group.permissions.set(wanted)
