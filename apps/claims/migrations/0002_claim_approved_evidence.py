from django.db import migrations, models
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce


def count_approved_evidence(apps, schema_editor):
    # The same count as ClaimQuerySet.refresh_approved_evidence, on the historical models.
    Claim = apps.get_model("claims", "Claim")
    Evidence = apps.get_model("annotations", "Evidence")
    counts = (
        Evidence.objects.filter(
            claim=OuterRef("pk"),
            annotation__status="approved",
            annotation__withdrawn_at__isnull=True,
        )
        .order_by()
        .values("claim")
        .annotate(n=Count("pk"))
        .values("n")
    )
    Claim.objects.update(approved_evidence=Coalesce(Subquery(counts), 0))


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0001_initial"),
        ("annotations", "0002_annotationrevision_and_more"),
    ]

    operations = [
        migrations.AddField(
            model_name="claim",
            name="approved_evidence",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(count_approved_evidence, migrations.RunPython.noop),
    ]
