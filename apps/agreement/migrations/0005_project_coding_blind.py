from django.db import migrations
from django.utils import timezone


def mark_blind_projects(apps, schema_editor):
    """Projects with an open assignment whose coders are not all done: their supervisors'
    lists hide its coders' passages from now on (apps.agreement.blindness)."""
    Assignment = apps.get_model("agreement", "Assignment")
    Project = apps.get_model("accounts", "Project")
    blind = Assignment.objects.filter(
        state="open", coders__state__in=["assigned", "in_progress"]
    ).values("project_id")
    Project.objects.filter(pk__in=blind).update(coding_blind_at=timezone.now())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_project_coding_blind_at"),
        ("agreement", "0004_assignment_closed"),
    ]

    operations = [migrations.RunPython(mark_blind_projects, migrations.RunPython.noop)]
