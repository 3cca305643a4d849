import tests.jobs.kinds  # noqa: F401  (registers the job kinds the tests start)
