"""Harbor's pydantic models of ATIF (the Agent Trajectory Interchange Format, RFC 0001), the
published schema agentbench's exports are validated against in tests.

Mirrored field for field, with their constraints and validators, from the Harbor repository
(laude-institute/harbor, Apache-2.0; read from a mirror that carries its history),
src/harbor/models/trajectories/*.py as of commit 0533a59c41ce435d9e59ff8c82da67f6e5b6edc7
("rfc: ATIF v1.7 ...", 2026-04-26, the last to change that folder); field descriptions and
error wording are left out. Keep in step with that folder when it changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FORBID = ConfigDict(extra="forbid")


class Agent(BaseModel):
    model_config = FORBID
    name: str
    version: str
    model_name: str | None = None
    tool_definitions: list[dict[str, Any]] | None = None
    extra: dict[str, Any] | None = None


class ImageSource(BaseModel):
    model_config = FORBID
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    path: str


class ContentPart(BaseModel):
    model_config = FORBID
    type: Literal["text", "image"]
    text: str | None = None
    source: ImageSource | None = None

    @model_validator(mode="after")
    def validate_content_type(self) -> ContentPart:
        if self.type == "text" and (self.text is None or self.source is not None):
            raise ValueError("a text part has 'text' and no 'source'")
        if self.type == "image" and (self.source is None or self.text is not None):
            raise ValueError("an image part has 'source' and no 'text'")
        return self


class SubagentTrajectoryRef(BaseModel):
    model_config = FORBID
    trajectory_id: str | None = None
    session_id: str | None = None
    trajectory_path: str | None = None
    extra: dict[str, Any] | None = None

    @model_validator(mode="after")
    def validate_is_resolvable(self) -> SubagentTrajectoryRef:
        if self.trajectory_id is None and self.trajectory_path is None:
            raise ValueError("SubagentTrajectoryRef must set trajectory_id or trajectory_path")
        return self


class ObservationResult(BaseModel):
    model_config = FORBID
    source_call_id: str | None = None
    content: str | list[ContentPart] | None = None
    subagent_trajectory_ref: list[SubagentTrajectoryRef] | None = None
    extra: dict[str, Any] | None = None


class Observation(BaseModel):
    model_config = FORBID
    results: list[ObservationResult]


class ToolCall(BaseModel):
    model_config = FORBID
    tool_call_id: str
    function_name: str
    arguments: dict[str, Any]
    extra: dict[str, Any] | None = None


class Metrics(BaseModel):
    model_config = FORBID
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cached_tokens: int | None = None
    cost_usd: float | None = None
    prompt_token_ids: list[int] | None = None
    completion_token_ids: list[int] | None = None
    logprobs: list[float] | None = None
    extra: dict[str, Any] | None = None


class FinalMetrics(BaseModel):
    model_config = FORBID
    total_prompt_tokens: int | None = None
    total_completion_tokens: int | None = None
    total_cached_tokens: int | None = None
    total_cost_usd: float | None = None
    total_steps: int | None = Field(default=None, ge=0)
    extra: dict[str, Any] | None = None


class Step(BaseModel):
    model_config = FORBID
    step_id: int = Field(ge=1)
    timestamp: str | None = None
    source: Literal["system", "user", "agent"]
    model_name: str | None = None
    reasoning_effort: str | float | None = None
    message: str | list[ContentPart]
    reasoning_content: str | None = None
    tool_calls: list[ToolCall] | None = None
    observation: Observation | None = None
    metrics: Metrics | None = None
    is_copied_context: bool | None = None
    llm_call_count: int | None = Field(default=None, ge=0)
    extra: dict[str, Any] | None = None

    @field_validator("timestamp")
    @classmethod
    def validate_timestamp(cls, v: str | None) -> str | None:
        if v is not None:
            datetime.fromisoformat(v.replace("Z", "+00:00"))
        return v

    @model_validator(mode="after")
    def validate_agent_only_fields(self) -> Step:
        if self.source != "agent":
            for name in ("model_name", "reasoning_effort", "reasoning_content", "tool_calls", "metrics"):
                if getattr(self, name) is not None:
                    raise ValueError(f"Field '{name}' is only applicable when source is 'agent'")
        return self

    @model_validator(mode="after")
    def validate_llm_call_count_zero_fields(self) -> Step:
        if self.llm_call_count == 0 and self.source == "agent":
            for name in ("metrics", "reasoning_content"):
                if getattr(self, name) is not None:
                    raise ValueError(f"Field '{name}' must be absent when llm_call_count is 0")
        return self


class Trajectory(BaseModel):
    model_config = FORBID
    schema_version: Literal["ATIF-v1.0", "ATIF-v1.1", "ATIF-v1.2", "ATIF-v1.3", "ATIF-v1.4", "ATIF-v1.5",
                            "ATIF-v1.6", "ATIF-v1.7"] = "ATIF-v1.7"
    session_id: str | None = None
    trajectory_id: str | None = None
    agent: Agent
    steps: list[Step] = Field(min_length=1)
    notes: str | None = None
    final_metrics: FinalMetrics | None = None
    continued_trajectory_ref: str | None = None
    extra: dict[str, Any] | None = None
    subagent_trajectories: list[Trajectory] | None = None

    @model_validator(mode="after")
    def validate_step_ids(self) -> Trajectory:
        for i, step in enumerate(self.steps):
            if step.step_id != i + 1:
                raise ValueError(f"steps[{i}].step_id: expected {i + 1} (sequential from 1), got {step.step_id}")
        return self

    @model_validator(mode="after")
    def validate_embedded_subagent_trajectory_ids(self) -> Trajectory:
        ids = [sub.trajectory_id for sub in self.subagent_trajectories or []]
        if None in ids or len(set(ids)) != len(ids):
            raise ValueError("every embedded subagent needs a unique trajectory_id")
        return self

    @model_validator(mode="after")
    def validate_tool_call_references(self) -> Trajectory:
        for step in self.steps:
            known = {call.tool_call_id for call in step.tool_calls or []}
            for result in step.observation.results if step.observation else []:
                if result.source_call_id is not None and result.source_call_id not in known:
                    raise ValueError(f"step {step.step_id}: source_call_id {result.source_call_id!r} names no tool call")
        return self
