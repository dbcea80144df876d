"""Project root: loads the alys-pbt plugin (profiles, database, targets, known deviations)."""

pytest_plugins = ["alys_pbt.plugin"]
