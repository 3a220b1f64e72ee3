"""Report jobs point at their subject with foreign keys (step 3 of 3: drop `params`).

Also drops the unused "firm" kind and checks that the links match the kind.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reports", "0005_reportjob_subject_from_params")]

    operations = [
        migrations.RemoveField(model_name="reportjob", name="params"),
        migrations.AlterField(
            model_name="reportjob",
            name="kind",
            field=models.CharField(
                choices=[("cluster", "Cluster report"), ("region", "Regional report")],
                max_length=10,
                verbose_name="kind",
            ),
        ),
        migrations.AddConstraint(
            model_name="reportjob",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("kind", "cluster"), ("region__isnull", True)),
                    models.Q(("cluster__isnull", True), ("kind", "region"), ("round__isnull", True)),
                    _connector="OR",
                ),
                name="report_job_subject_matches_kind",
            ),
        ),
    ]
