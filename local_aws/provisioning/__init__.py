"""An environment's resources on the local endpoint: ``provision`` (the Lambdas, topic, bucket and queue
the rules need, from contracts.json and the tfvars, then the rules), ``rules`` (the EventBridge rules
rendered from ``events/*.json.tftpl`` exactly as ``events.tf`` renders them) and ``terraform`` (the real
``terraform plan``/``apply`` against the endpoint, offline from the provider mirror)."""
