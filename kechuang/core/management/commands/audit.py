"""`kechuang audit verify`: re-compute the audit hash chain and report the first broken entry."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Audit log: verify the hash chain (changed, deleted or inserted entries)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="re-compute the chain; exit 1 on the first break")
        verify.add_argument("--all", action="store_true", help="list up to 100 problems")

    def handle(self, *args, **opts):
        from kechuang.core.auditchain import verify

        result = verify(limit=100 if opts["all"] else 1)
        if result.ok:
            self.stdout.write(
                f"audit chain intact: {result.checked} entries, head at position "
                f"{result.head_seq} ({result.head_hash})"
            )
            return
        for problem in result.problems:
            self.stderr.write(f"{problem.kind}: {problem.message}")
        first = result.first
        where = f"entry #{first.entry_id}" if first.entry_id is not None else "the chain head"
        raise CommandError(
            f"audit chain broken at {where} ({first.kind}); {result.checked} entries checked"
        )
