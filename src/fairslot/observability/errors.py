"""Refusals of the operations endpoint."""

from __future__ import annotations

from fairslot.errors import Unauthorized


class MetricsTokenRequired(Unauthorized):
    """``/metrics`` without the operators' bearer token (``FAIRSLOT_METRICS_TOKEN``)."""

    code = "metrics_token_required"
