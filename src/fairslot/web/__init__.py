"""The pages people use (issue 10: the staff console; later the patients' pages).

An adapter like ``api/`` and ``cli/``: it owns the transaction, calls the same services
as the staff API and renders templates. No query, rule or state change of its own.
"""
