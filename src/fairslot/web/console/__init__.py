"""The staff console at ``/console/`` (issue 10): one module per page area, templates
beside them, the same services and role table (``staff/permissions.py``) as the staff API."""
