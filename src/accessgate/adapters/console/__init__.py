"""The console mailer: emails written to the log (zero-configuration quick start)."""
