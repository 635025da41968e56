"""StartPipelineExecution's idempotency (local_aws.executor.idempotency): one token, one execution."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from local_aws.executor.idempotency import RequestTokens

PIPELINE = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/training"
OTHER = "arn:aws:sagemaker:us-east-1:123456789012:pipeline/inference"


def test_the_first_execution_claimed_for_a_token_stands() -> None:
    tokens = RequestTokens()
    assert tokens.find(PIPELINE, "t-1") is None
    assert tokens.claim(PIPELINE, "t-1", "exec-a") == "exec-a"
    assert tokens.claim(PIPELINE, "t-1", "exec-b") == "exec-a"
    assert tokens.find(PIPELINE, "t-1") == "exec-a"


def test_a_token_is_scoped_to_its_pipeline() -> None:
    tokens = RequestTokens()
    tokens.claim(PIPELINE, "t-1", "exec-a")
    assert tokens.find(OTHER, "t-1") is None
    assert tokens.claim(OTHER, "t-1", "exec-b") == "exec-b"


def test_no_token_means_no_idempotency() -> None:
    tokens = RequestTokens()
    assert tokens.claim(PIPELINE, None, "exec-a") == "exec-a"
    assert tokens.claim(PIPELINE, "", "exec-b") == "exec-b"
    assert tokens.find(PIPELINE, None) is None
    assert tokens.find(PIPELINE, "") is None


def test_concurrent_claims_agree_on_one_execution() -> None:
    tokens = RequestTokens()
    with ThreadPoolExecutor(max_workers=8) as pool:
        winners = set(pool.map(lambda i: tokens.claim(PIPELINE, "t-1", f"exec-{i}"), range(64)))
    assert len(winners) == 1


def test_clear_forgets_every_token() -> None:
    tokens = RequestTokens()
    tokens.claim(PIPELINE, "t-1", "exec-a")
    tokens.clear()
    assert tokens.find(PIPELINE, "t-1") is None
