"""Patients' sign-in by phone with a one-time code, and their page sessions."""
