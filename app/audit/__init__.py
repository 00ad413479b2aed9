"""The audit trail: who invoked what through this app, and who signed in and out, for admins."""
