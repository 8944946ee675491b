"""The FHIR R4 adapter: the IHE ITI Scheduling profile at ``/fhir/``.

An adapter like ``api/``: it authenticates with the channel key, builds the request
context with ``api/deps.py``, calls the very same endpoint functions and services as the
JSON API (the release gate, real-name rules, blacklist and velocity gate, rate limits,
draws, the ledger) and only translates their answers into FHIR resources built and
validated with ``fhir.resources`` (its R4B models; see ``docs/fhir.md``).
"""
