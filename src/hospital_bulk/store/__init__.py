"""The job store: tables, migrations and the job repository."""
