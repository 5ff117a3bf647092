"""The endpoint factory: from a profile to a ChatOpenAI the agent calls."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import httpx
from langchain_openai import ChatOpenAI

from agentbench.errors import UserError
from agentbench.models.profiles import ModelProfile


@dataclass(frozen=True)
class Endpoint:
    """Where one model answers, and how to call it (the key is never stored)."""

    base_url: str
    model: str
    api_key: str = field(repr=False)
    timeout_s: float = 300
    sampling: dict = field(default_factory=dict)  # OpenAI settings, by name
    max_tokens: int | None = None
    extra_body: dict = field(default_factory=dict)  # server-specific settings, sent verbatim


def endpoint_for(profile: ModelProfile, base_url: str | None = None) -> Endpoint:
    """The endpoint of a non-builtin profile, or one sentence saying what is missing."""
    url = profile.resolved_base_url(base_url)
    if not url:
        if profile.provider == "vllm":
            raise UserError(
                f"Model profile {profile.name!r} is served by vLLM and no server is given: pass "
                "--base-url (make: BASE_URL=...) pointing at a running OpenAI-compatible server."
            )
        raise UserError(f"Model profile {profile.name!r} has no base URL: set {profile.base_url_env or 'base_url'}.")
    return Endpoint(url.rstrip("/"), profile.resolved_model(), profile.api_key(), profile.request_timeout_s,
                    profile.sampling.request_fields(), profile.max_tokens, profile.sampling.extra)


def check_reachable(endpoint: Endpoint, profile_name: str) -> dict:
    """Ask the endpoint for its models once, before any attempt depends on it; what it says
    about itself (see served_facts)."""
    url = f"{endpoint.base_url}/models"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {endpoint.api_key}"}, timeout=10)
    except httpx.HTTPError as exc:
        raise UserError(f"Endpoint {url} for model {profile_name!r} does not answer ({exc.__class__.__name__}).") from None
    if response.status_code in (401, 403):
        raise UserError(f"Endpoint {url} refused the API key for model {profile_name!r} (HTTP {response.status_code}).")
    if response.status_code == 200 and _lists_models(response):
        return served_facts(endpoint, response)
    hint = "" if endpoint.base_url.endswith("/v1") else f"; an OpenAI-compatible base URL usually ends in /v1 ({endpoint.base_url}/v1)"
    chat, usage = chat_answer(endpoint)
    if chat is not None:
        raise UserError(f"Endpoint {endpoint.base_url} for model {profile_name!r} is not OpenAI-compatible: GET {url} answered "
                        f"HTTP {response.status_code} and POST {endpoint.base_url}/chat/completions {chat}{hint}.")
    return {**served_facts(endpoint, response), "chat_check_usage": usage or {}}


def _lists_models(response: httpx.Response) -> bool:
    try:
        return isinstance(response.json().get("data"), list)
    except (ValueError, AttributeError):
        return False


def chat_answer(endpoint: Endpoint) -> tuple[str | None, dict | None]:
    """(None, its usage) when the endpoint answers a one-token chat request; else (what it
    answered, in a few words, None)."""
    try:
        response = httpx.post(f"{endpoint.base_url}/chat/completions", json=plain_request(endpoint), timeout=min(endpoint.timeout_s, 30),
                              headers={"Authorization": f"Bearer {endpoint.api_key}"})
    except httpx.HTTPError as exc:
        return f"failed ({exc.__class__.__name__})", None
    if response.status_code != 200:
        return f"answered HTTP {response.status_code}", None
    try:
        usage = response.json().get("usage")
    except (ValueError, AttributeError):
        usage = None
    return None, usage if isinstance(usage, dict) else None


def plain_request(endpoint: Endpoint) -> dict:
    """The one-token chat request the harness checks an endpoint with."""
    return {"model": endpoint.model, "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1}


def streams_usage(endpoint: Endpoint) -> tuple[bool | None, dict | None]:
    """Whether a streamed reply from the endpoint carries its token usage when asked for it (some
    servers send it only unstreamed; None when the endpoint did not answer the question), and
    the usage the question cost (the last one its chunks carried), for the run's own books."""
    body = {**plain_request(endpoint), "stream": True, "stream_options": {"include_usage": True}}
    headers = {"Authorization": f"Bearer {endpoint.api_key}"}
    try:
        with httpx.stream("POST", f"{endpoint.base_url}/chat/completions", json=body, headers=headers,
                          timeout=min(endpoint.timeout_s, 30)) as response:
            if response.status_code != 200:
                return None, None
            chunks = [line.removeprefix("data:").strip() for line in response.iter_lines() if line.startswith("data:")]
    except httpx.HTTPError:
        return None, None
    usages = [usage for usage in map(_usage_in, chunks) if usage]
    return bool(usages), usages[-1] if usages else None


def _usage_in(chunk: str) -> dict | None:
    try:
        usage = json.loads(chunk).get("usage")
    except (ValueError, AttributeError):
        return None
    return usage if isinstance(usage, dict) and usage else None


def served_facts(endpoint: Endpoint, models: httpx.Response | None = None) -> dict:
    """What a server reports about the model it serves (from /models) and its version (vLLM's
    /version); None for whatever it does not say."""
    headers = {"Authorization": f"Bearer {endpoint.api_key}"}
    try:
        models = models or httpx.get(f"{endpoint.base_url}/models", headers=headers, timeout=10)
        entries = models.json().get("data") or []
    except (httpx.HTTPError, ValueError, AttributeError):
        entries = []
    entry = next((item for item in entries if isinstance(item, dict) and item.get("id") == endpoint.model), {})
    try:
        version = httpx.get(f"{endpoint.base_url.removesuffix('/v1')}/version", timeout=5).json().get("version")
    except (httpx.HTTPError, ValueError, AttributeError):
        version = None
    return {"model": endpoint.model, "listed": bool(entry), "root": entry.get("root"),
            "max_model_len": entry.get("max_model_len"), "version": version}


def chat_model(endpoint: Endpoint, timeout_s: float | None = None) -> ChatOpenAI:
    """A ChatOpenAI for the endpoint; `timeout_s` caps each call below the profile's.

    The client never retries by itself: ModelCaller retries, and records each retry. The
    output cap goes as `max_tokens`, which vLLM, llama.cpp and OpenAI all read; the profile's
    server-specific sampling settings go beside it in the body.
    """
    timeout = min(endpoint.timeout_s, timeout_s) if timeout_s else endpoint.timeout_s
    return ChatOpenAI(
        model=endpoint.model,
        base_url=endpoint.base_url,
        api_key=endpoint.api_key,
        timeout=max(timeout, 1.0),
        max_retries=0,
        stream_usage=True,
        extra_body={**endpoint.extra_body, **({"max_tokens": endpoint.max_tokens} if endpoint.max_tokens else {})} or None,
        **endpoint.sampling,
    )
