"""Statistical disclosure control: the rules applied to aggregates before they leave a job.

`job_runner.disclosure.controls` holds the functions (redaction, rounding, midpoint-6, totals)
and the named rule profiles; the ehrql_schools measures apply them by default.
"""
