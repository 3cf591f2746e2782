from kechuang.rules.tests.conftest import library  # noqa: F401  (the shipped library fixture)
