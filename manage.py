#!/usr/bin/env python
"""Kept for Django habits; `kechuang` (or `python -m kechuang`) is the same command."""

from kechuang.__main__ import main

if __name__ == "__main__":
    main()
