"""Model profiles and pricing: validated on load, keys read from the named variable only."""

import pytest

from agentbench.cost import token_cost_usd
from agentbench.errors import UserError
from agentbench.models.endpoint import endpoint_for
from agentbench.models.profiles import ModelProfile, Prices, get_profile, load_profiles


def test_shipped_profiles_include_the_baselines():
    profiles = load_profiles()
    assert profiles["oracle"].baseline and profiles["noop"].baseline
    assert profiles["oracle"].label == "oracle (baseline)"
    assert {"llama3-70b", "gpt-4o-mini", "openai-compatible"} <= set(profiles)


def test_unknown_profile_lists_the_known_ones():
    with pytest.raises(UserError, match=r"Unknown model profile 'llama9'; known: .*oracle"):
        get_profile("llama9", load_profiles())


def test_user_file_adds_and_validates(tmp_path):
    user = tmp_path / "models.yaml"
    user.write_text("mine:\n  provider: openai\n  model: m\n  base_url: http://127.0.0.1:9/v1\n")
    assert load_profiles(user)["mine"].model == "m"
    user.write_text("mine:\n  provider: openai\n  modle: m\n")
    with pytest.raises(UserError, match=r"profile 'mine', field `modle` extra inputs are not permitted"):
        load_profiles(user)
    with pytest.raises(UserError, match="does not exist"):
        load_profiles(tmp_path / "absent.yaml")


def test_api_key_comes_from_the_named_variable(monkeypatch):
    profile = ModelProfile(name="v", provider="openai", model="m", base_url="http://x/v1", api_key_env="V_KEY")
    monkeypatch.delenv("V_KEY", raising=False)
    with pytest.raises(UserError, match=r"\$V_KEY, which is not set"):
        endpoint_for(profile)
    monkeypatch.setenv("V_KEY", "sk-secret")
    endpoint = endpoint_for(profile)
    assert endpoint.api_key == "sk-secret"
    assert "sk-secret" not in repr(endpoint)


def test_vllm_profile_without_server_says_how_to_point_at_one():
    with pytest.raises(UserError, match="--base-url"):
        endpoint_for(load_profiles()["llama3-70b"])
    endpoint = endpoint_for(load_profiles()["llama3-70b"], base_url="http://127.0.0.1:8000/v1/")
    assert endpoint.base_url == "http://127.0.0.1:8000/v1"
    assert endpoint.model == "meta-llama/Meta-Llama-3.1-70B-Instruct"


def test_token_cost():
    profile = ModelProfile(name="p", provider="openai", model="m",
                           prices=Prices(input_per_mtok=2.0, cached_input_per_mtok=0.5, output_per_mtok=8.0))
    # 900k uncached * $2 + 100k cached * $0.5 + 50k out * $8 = 1.8 + 0.05 + 0.4
    assert token_cost_usd(profile, 1_000_000, 50_000, cached_tokens=100_000) == pytest.approx(2.25)
    assert token_cost_usd(ModelProfile(name="q", provider="openai", model="m"), 10, 10) is None
    assert token_cost_usd(load_profiles()["oracle"], 10, 10) == 0.0


def test_sampling_settings_are_checked_and_server_extras_go_verbatim(tmp_path):
    """A typo in a sampling setting is refused, not sent to the server; settings only some servers
    read go under `extra`, into the request body as given."""
    user = tmp_path / "models.yaml"
    user.write_text("mine: {provider: openai, model: m, sampling: {temprature: 0.7}}\n")
    with pytest.raises(UserError, match=r"profile 'mine', field `sampling.temprature` extra inputs are not permitted"):
        load_profiles(user)
    user.write_text("mine: {provider: openai, model: m, sampling: {temperature: 3}}\n")
    with pytest.raises(UserError, match=r"field `sampling.temperature` input should be less than or equal to 2"):
        load_profiles(user)
    user.write_text("mine: {provider: openai, model: m, base_url: 'http://h/v1', sampling: {top_p: 0.9, extra: {top_k: 20}}}\n")
    mine = load_profiles(user)["mine"]
    assert mine.model_dump()["sampling"] == {"temperature": 0.0, "top_p": 0.9, "extra": {"top_k": 20}}
    endpoint = endpoint_for(mine)
    assert (endpoint.sampling, endpoint.extra_body) == ({"temperature": 0.0, "top_p": 0.9}, {"top_k": 20})
