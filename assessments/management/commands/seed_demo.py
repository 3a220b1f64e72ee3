"""`manage.py seed_demo`: a demo register (and, later, assessments) with one login per role."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from assessments import bulk_load
from clusters.demo import seed_register


class Command(BaseCommand):
    help = "Create demo regions, clusters, firms and one user per role (same seed, same data)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clusters", type=int, default=6, help="number of clusters")
        parser.add_argument("--firms", type=int, default=600, help="number of firms")
        parser.add_argument("--seed", type=int, default=1, help="random seed")

    def handle(self, *args: Any, **options: Any) -> None:
        clusters, firms, seed = options["clusters"], options["firms"], options["seed"]
        if clusters < 1 or firms < 0 or firms > 1_000_000:
            raise CommandError("--clusters must be at least 1 and --firms between 0 and 1000000")
        # Provincial scale (issue 14): on PostgreSQL, large seeds go through COPY and report
        # their progress here (assessments/bulk_load.py).
        bulk_load.set_progress(self.stdout.write)
        try:
            self._seed(clusters, firms, seed)
        finally:
            # The writer is this command's output: no later seeding may write to it.
            bulk_load.set_progress(None)

    def _seed(self, clusters: int, firms: int, seed: int) -> None:
        started = time.perf_counter()
        register = seed_register(clusters=clusters, firms=firms, seed=seed)
        if register.created:
            self.stdout.write(
                f"Register: {register.regions} regions, {len(register.clusters)} clusters, "
                f"{register.firms} firms, {register.memberships} memberships "
                f"({time.perf_counter() - started:.1f} s)"
            )
        else:
            self.stdout.write("Demo register already present: left as it is.")

        # --- assessments: the questionnaire helper adds its call here -------------------------
        from assessments.demo import seed_assessments

        started = time.perf_counter()
        demo = seed_assessments(clusters=register.clusters, seed=seed, created=register.created)
        if demo.rounds:
            self.stdout.write(
                f"Assessments: {demo.rounds} rounds, {demo.invitations} invitations, "
                f"{demo.submitted} submitted, {demo.drafts} drafts "
                f"({time.perf_counter() - started:.1f} s)"
            )
        # --- end of assessments ----------------------------------------------------------------

        # --- the transformation programme (issue 13) -------------------------------------------
        from programmes.demo import seed_programme

        started = time.perf_counter()
        programme = seed_programme(clusters=register.clusters, seed=seed, created=register.created)
        if programme.created:
            stages = ", ".join(f"{n} {stage}" for stage, n in sorted(programme.stages.items()))
            self.stdout.write(
                f"Programme: {programme.providers} providers, {programme.projects} projects "
                f"({stages}), {programme.acceptances} acceptance ratings, "
                f"{programme.verifications} verifications ({programme.changed_answers} answers "
                f"changed, {programme.evidence} evidence files), {programme.ratings} ratings "
                f"({time.perf_counter() - started:.1f} s)"
            )
        register.logins = [*register.logins, *programme.logins]
        # --- end of the programme ----------------------------------------------------------------

        # The regional comparison's per-round figures, as the submissions' warm-ups would have
        # stored them (reports/round_figures.py).
        if demo.rounds:
            from assessments.models import Round
            from reports.round_figures import refresh

            started = time.perf_counter()
            computed = refresh(Round.objects.values_list("pk", flat=True))
            self.stdout.write(
                f"Round figures stored: {computed} rounds ({time.perf_counter() - started:.1f} s)"
            )

        self.stdout.write("")
        self.stdout.write("Demo logins (username / password):")
        for username, password, role in register.logins:
            self.stdout.write(f"  {str(role):<22} {username:<16} {password}")
