"""A SageMaker Pipelines interpreter over the definition JSON (what ``upsert`` sends to AWS).

``PipelineExecutor`` runs executions step by step with the same step scripts, emits SageMaker's step and
execution status-change events, and answers the Describe/List calls the local endpoint serves.
"""

from local_aws.executor.clients import Clients
from local_aws.executor.engine import ExecutionNotFoundError, PipelineExecutor

__all__ = ["Clients", "ExecutionNotFoundError", "PipelineExecutor"]
