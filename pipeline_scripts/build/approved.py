"""The approved model version an inference definition records (built by ``ops.registry`` from the
registry, or a placeholder for offline definitions)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ApprovedModel:
    """What the inference pipeline needs from an approved version (recorded in its definition)."""

    package_arn: str
    version: int
    model_data_url: str
    image: str
    environment: dict[str, str]
    statistics_uri: str
    constraints_uri: str
    placeholder: bool = False

    @classmethod
    def placeholder_for(
        cls, group: str, region: str, account: str, bucket: str, prefix: str
    ) -> ApprovedModel:
        """A stand-in for writing definitions offline, before any version exists (never upserted)."""
        base = f"s3://{bucket}/{prefix}/placeholder"
        return cls(
            package_arn=f"arn:aws:sagemaker:{region}:{account}:model-package/{group}/0",
            version=0,
            model_data_url=f"{base}/model.tar.gz",
            image=f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1",
            environment={
                "SAGEMAKER_PROGRAM": "serve.py",
                "SAGEMAKER_SUBMIT_DIRECTORY": f"{base}/sourcedir.tar.gz",
            },
            statistics_uri=f"{base}/statistics.json",
            constraints_uri=f"{base}/constraints.json",
            placeholder=True,
        )
