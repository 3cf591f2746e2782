"""Bulk import of register data from .xlsx / .xls / .csv: the generic machinery.

``base.Importer`` (read, convert, check, plan, write), ``fields`` (column types),
``lookups`` (jurisdictions by name or code), ``writers`` (bulk INSERT/UPDATE, COPY
on PostgreSQL), ``services`` (the actions on an ImportJob), ``reports`` (the
template and the rejected-rows workbooks), ``tasks`` (background runs).
The kinds themselves live in their apps (kechuang.enterprises.importers) and are
listed in settings.IMPORT_KINDS.
"""
