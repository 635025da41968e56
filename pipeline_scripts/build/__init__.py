"""Pipeline definitions, built offline: every SageMaker SDK call of the project lives in this package.

``session`` (the offline ``PipelineSession``), ``code_bundle`` (where the step scripts live in S3),
``steps`` (shared step factories), ``model_build`` (the training/HPO part the two share), one builder per
pipeline (``training``, ``hpo``, ``inference``; ``model_monitor`` for the ``QualityCheckStep`` option),
``definitions`` (build and write the JSON) and ``validate`` (checks on the JSON). May import ``config``,
``paths`` and ``errors``; never ``ops`` or ``cli``.
"""
