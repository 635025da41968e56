"""AWS operations with boto3: pipelines (upsert, start, status, delete), the model registry, data upload.

May import ``build`` (it deploys what ``build`` produces), ``config``, ``paths`` and ``errors``.
"""
