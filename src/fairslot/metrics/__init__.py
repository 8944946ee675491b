"""Quality metrics of the Tulip report (issue 10): booking success, time to book, active
accounts and retention, no-shows, and scarce slots taken by blacklisted identities."""
