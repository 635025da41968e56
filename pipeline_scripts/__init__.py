"""Batch-inference MLOps: the production side (the ``mlops`` CLI and the packages it uses).

Layers, each importing only those below it (``make lint`` enforces this with import-linter):

- ``cli``: parses, calls, prints; catches the one error type (``errors.MlopsError``).
- ``ops``: AWS operations with boto3: upsert/start/status of pipelines, the model registry, data upload.
- ``build``: the offline SageMaker session, step factories and one builder per pipeline; every SDK call.
- ``tooling``: repository tooling (Lambda package, Terraform docs and plan report, sample data).
- ``config``: the typed, validated configuration (tfvars, ``pipelines.yaml``, overrides, contracts).
- ``paths``, ``errors``: the project root and the error hierarchy, used by all.

Importing any of it changes nothing: the offline session is prepared by an explicit call
(``build.session.prepare_offline``).
"""
