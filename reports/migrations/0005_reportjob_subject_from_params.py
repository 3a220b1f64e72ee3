"""Report jobs point at their subject with foreign keys (step 2 of 3: fill them from `params`).

A cluster job takes its round and the round's cluster; a regional job its region. An id that
no longer names a row is left null (the job then fails with "no longer exists" if it runs).
Rows of the never-used "firm" kind, which the request service never created, are deleted.
Backwards, `params` is written again from the links.
"""

from django.db import migrations

CHUNK = 500


def _id(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def links_from_params(apps, schema_editor):
    db = schema_editor.connection.alias
    ReportJob = apps.get_model("reports", "ReportJob")
    Round = apps.get_model("assessments", "Round")
    Cluster = apps.get_model("clusters", "Cluster")
    Region = apps.get_model("clusters", "Region")
    jobs = ReportJob.objects.using(db)
    jobs.exclude(kind__in=["cluster", "region"]).delete()
    rows = list(jobs.order_by("pk").values_list("pk", "kind", "params"))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        wanted = [(pk, kind, p if isinstance(p, dict) else {}) for pk, kind, p in chunk]
        round_ids = {_id(p.get("round_id")) for _pk, _kind, p in wanted} - {None}
        cluster_ids = {_id(p.get("cluster_id")) for _pk, _kind, p in wanted} - {None}
        region_ids = {_id(p.get("region_id")) for _pk, _kind, p in wanted} - {None}
        round_cluster = dict(
            Round.objects.using(db).filter(pk__in=round_ids).values_list("pk", "cluster_id")
        )
        clusters = set(
            Cluster.objects.using(db).filter(pk__in=cluster_ids).values_list("pk", flat=True)
        )
        regions = set(
            Region.objects.using(db).filter(pk__in=region_ids).values_list("pk", flat=True)
        )
        for pk, kind, p in wanted:
            if kind == "cluster":
                round_id = _id(p.get("round_id"))
                cluster_id = _id(p.get("cluster_id"))
                if round_id in round_cluster:
                    links = {"round_id": round_id, "cluster_id": round_cluster[round_id]}
                else:
                    links = {"cluster_id": cluster_id if cluster_id in clusters else None}
            else:
                region_id = _id(p.get("region_id"))
                links = {"region_id": region_id if region_id in regions else None}
            jobs.filter(pk=pk).update(**links)


def params_from_links(apps, schema_editor):
    db = schema_editor.connection.alias
    ReportJob = apps.get_model("reports", "ReportJob")
    jobs = ReportJob.objects.using(db)
    for pk, kind, round_id, cluster_id, region_id in jobs.values_list(
        "pk", "kind", "round_id", "cluster_id", "region_id"
    ).iterator():
        if kind == "cluster":
            params = {"cluster_id": cluster_id, "round_id": round_id}
        else:
            params = {"region_id": region_id}
        jobs.filter(pk=pk).update(params={k: v for k, v in params.items() if v is not None})


class Migration(migrations.Migration):
    dependencies = [("reports", "0004_reportjob_subject_links")]

    operations = [migrations.RunPython(links_from_params, params_from_links)]
