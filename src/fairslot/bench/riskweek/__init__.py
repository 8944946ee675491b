"""The risk batch's benchmark data: a synthetic city week of bookings, requests and
planted scalpers (``fairslot risk bench``). An instrument, not a domain: the platform
never imports it."""
