from kechuang.core.templatetags.money import wan


def test_wan_shows_yuan_in_ten_thousands_exactly():
    assert wan(12_345_600) == "1,234.56"
    assert wan(200_000) == "20"
    assert wan(123_000_000) == "12,300"
    assert wan(5) == "0"
    assert wan(None) == ""
