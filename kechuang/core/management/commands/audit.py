"""`kechuang audit verify|seal`: check the audit entries' MACs and seal chain; seal pending entries."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Audit log: verify entries and seals (changed, forged, deleted, unsealed); seal pending."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="check MACs and the seal chain; exit 1 on a problem")
        verify.add_argument("--all", action="store_true", help="list up to 100 problems")
        sub.add_parser("seal", help="seal committed entries not sealed yet (run from cron)")

    def handle(self, *args, **opts):
        from kechuang.core import auditchain

        if opts["action"] == "seal":
            n = auditchain.seal_pending()
            self.stdout.write(f"sealed {n} audit entries")
            return
        result = auditchain.verify(limit=100 if opts["all"] else 20)
        if result.ok:
            self.stdout.write(
                f"audit log intact: {result.checked} entries, {result.sealed} seals, head at "
                f"position {result.head_seq} ({result.head_hash})"
            )
            return
        for problem in result.problems:
            self.stderr.write(f"{problem.kind}: {problem.message}")
        ids = sorted({p.entry_id for p in result.problems if p.entry_id is not None})
        named = ", ".join(f"#{i}" for i in ids[:20]) or "the seal head"
        raise CommandError(
            f"audit log check failed: {len(result.problems)} problem(s), entries {named}; "
            f"{result.checked} entries checked"
        )
