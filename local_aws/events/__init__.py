"""EventBridge, locally: ``bus`` (rules from moto, matching, delivery to Lambda, SageMaker-pipeline, SNS,
SQS and bus targets, retries and dead letters), ``transform`` (target input: ``Input``, ``InputPath``,
``InputTransformer``, pipeline parameters), ``scheduler`` (``rate``/``cron`` rules on time), ``patterns``
(EventBridge's pattern matching) and ``cron`` (EventBridge's six-field cron)."""
