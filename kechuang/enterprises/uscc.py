"""Synthetic but valid 统一社会信用代码 for demo data, benchmarks and tests."""

from __future__ import annotations

from kechuang.core.validators import uscc_check_char

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_MODULUS = 10**8


def make_uscc(n: int, region: str = "310112") -> str:
    """The n-th valid code of a market-regulation enterprise (91…) registered in `region`.

    Distinct for every n below 10**8: the 8-digit organisation body is n times a
    number prime to 10**8, so the map is a bijection and codes look scattered.
    """
    body = f"{(n * 7919 + 20_240_101) % _MODULUS:08d}"
    total = sum(int(c) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    org_digit = {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))
    head = f"91{region}{body}{org_digit}"
    return head + uscc_check_char(head)
