"""Report jobs point at their subject with foreign keys (step 1 of 3: add the links).

Three migrations, so that on PostgreSQL the rows filled in step 2 are committed before step 3
alters the table (PostgreSQL refuses an ALTER TABLE with pending foreign-key checks).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0003_field_labels"),
        ("clusters", "0004_field_labels"),
        ("reports", "0003_field_labels"),
    ]

    operations = [
        migrations.AddField(
            model_name="reportjob",
            name="round",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="report_jobs",
                to="assessments.round",
                verbose_name="round",
            ),
        ),
        migrations.AddField(
            model_name="reportjob",
            name="cluster",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="report_jobs",
                to="clusters.cluster",
                verbose_name="cluster",
            ),
        ),
        migrations.AddField(
            model_name="reportjob",
            name="region",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="report_jobs",
                to="clusters.region",
                verbose_name="region",
            ),
        ),
    ]
