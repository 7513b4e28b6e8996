"""The /metrics computation as it was before it was made faster (desktop/metrics.py, team_metrics.py,
store/reports.py, store/team_reports.py at commit 34d1c7c), kept as it was so
tests/test_metrics_equivalence.py can check that the fast one answers exactly the same."""
