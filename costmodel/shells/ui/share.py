"""The explorer's state in the page address, so a link restores it in another session.

The address holds which scenario is shown (``scenario``: its key), and, for an edited or
uploaded one, the scenario itself (``state``: its YAML, compressed, URL-safe base64; ``file``:
the uploaded file's name; ``edited=1`` when it carries edits), and the what-if discount
(``discount``, ``discount_model``). Opening such an address in a new session shows the same
figures. A state read from an address is untrusted text: it goes through the same loader as
an upload (size, workload limit, no price file) and a bad one is a one-line error.

The component owns the ``share.*`` session-state keys.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from dataclasses import replace
from urllib.parse import urlencode

import streamlit as st

from costmodel.core.scenario import Scenario, scenario_to_yaml
from costmodel.errors import CostModelError, ScenarioError, located
from costmodel.shells.ui import messages, price_override, scenario_editor, scenario_picker, services

__all__ = ["MAX_LINK_CHARS", "decode", "encode", "link", "publish", "restore"]

# Longer than any bundled scenario with edits needs by far; a scenario over it (hundreds of
# workloads) is shared as its YAML export instead.
MAX_LINK_CHARS = 60_000
_RESTORED_KEY = "share.restored"
LINK_NAME = "shared link"


def encode(scenario: Scenario) -> str:
    """The scenario as URL-safe text: its YAML, compressed."""
    packed = zlib.compress(scenario_to_yaml(scenario).encode("utf-8"), 9)
    return base64.urlsafe_b64encode(packed).decode("ascii").rstrip("=")


def decode(text: str, name: str = LINK_NAME) -> bytes:
    """The YAML bytes :func:`encode` packed; at most an upload's size, whatever the text says.

    Raises :class:`~costmodel.errors.ScenarioError` for text that is not such a state.
    """
    if len(text) > MAX_LINK_CHARS:
        raise ScenarioError(
            located(
                f"the state is {len(text):,} characters; expected at most {MAX_LINK_CHARS:,}",
                file=name,
            )
        )
    try:
        packed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        inflater = zlib.decompressobj()
        # Never inflate past the upload limit: a small link must not become a huge file.
        data = inflater.decompress(packed, services.MAX_UPLOAD_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error) as exc:
        raise ScenarioError(
            located(
                "cannot read the scenario it holds; expected a link the dashboard made", file=name
            )
        ) from exc
    if len(data) > services.MAX_UPLOAD_BYTES or inflater.unconsumed_tail:
        raise ScenarioError(
            located(
                f"the scenario it holds is over {services.MAX_UPLOAD_BYTES:,} bytes; expected at "
                f"most {services.MAX_UPLOAD_LABEL}",
                file=name,
            )
        )
    return data


def _params(choice: scenario_picker.Choice, shown: Scenario) -> dict[str, str]:
    params = {"scenario": choice.key}
    edited = shown is not choice.scenario
    if choice.key.startswith("upload:"):
        params["file"] = choice.scenario.source
    if edited or choice.key.startswith("upload:"):
        state = encode(shown)
        if len(state) <= MAX_LINK_CHARS:
            params["state"] = state
    if edited:
        params["edited"] = "1"
    percent, model = price_override.current()
    if percent:
        params["discount"] = f"{percent:g}"
        if model != services.ALL_MODELS:
            params["discount_model"] = model
    return params


def publish(choice: scenario_picker.Choice, shown: Scenario) -> dict[str, str]:
    """Write the explorer's state into the address; returns the parameters written."""
    params = _params(choice, shown)
    if st.query_params.to_dict() != params:
        st.query_params.from_dict(params)
    return params


def link(params: dict[str, str]) -> str | None:
    """The full address restoring ``params``, or None when the scenario is too large for one."""
    if "state" not in params and ("file" in params or params.get("edited")):
        return None
    base = (st.context.url or "").split("?")[0]
    return f"{base}?{urlencode(params)}"


def restore() -> None:
    """Once per session, before anything is drawn: take the state the address holds, if any."""
    if st.session_state.get(_RESTORED_KEY):
        return
    st.session_state[_RESTORED_KEY] = True
    params = st.query_params.to_dict()
    if "discount" in params:
        _restore_discount(params)
    key = params.get("scenario")
    if not key:
        return
    try:
        _restore_scenario(key, params)
    except CostModelError as error:
        messages.error(error, prefix="The link's scenario was not loaded: ")


def _restore_discount(params: dict[str, str]) -> None:
    try:
        percent = int(float(params["discount"]))
    except ValueError:
        return
    if 0 < percent <= 90:
        st.session_state[price_override.PERCENT_KEY] = percent
        st.session_state[price_override.MODEL_KEY] = params.get(
            "discount_model", services.ALL_MODELS
        )


def _restore_scenario(key: str, params: dict[str, str]) -> None:
    state = params.get("state")
    offered = {choice.key: choice for choice in scenario_picker.options().values()}
    if key.startswith("bundled:"):
        original = offered.get(key)
        if original is None:
            raise ScenarioError(f"scenario: no bundled scenario {key.removeprefix('bundled:')!r}")
        if state:
            data = decode(state)
            shown = services.scenario_from_upload(original.scenario.source, data)
            scenario_editor.remember(key, original.scenario, shown)
        scenario_picker.choose(original.label)
        return
    if not state:
        return  # an upload too large for a link: nothing to restore
    name = params.get("file") or LINK_NAME
    data = decode(state, name)
    scenario = services.scenario_from_upload(name, data)
    if params.get("edited"):
        scenario = replace(scenario, source=f"{name} ({services.EDITED_NOTE})")
    choice = scenario_picker.Choice(
        f"upload:{services.upload_key(data)}",
        f"{scenario.name} (from a {LINK_NAME}: {name})",
        scenario,
    )
    scenario_picker.add_upload(choice)
    scenario_picker.choose(choice.label)
