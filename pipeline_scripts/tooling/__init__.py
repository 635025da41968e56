"""Repository tooling run by make targets and CI: the Lambda zip, the Terraform docs tables and plan
report, the sample data. May import ``config``, ``paths`` and ``errors``."""
