"""Choose a scenario: a bundled one, or a YAML file the user uploads.

The component owns the ``picker.*`` session-state keys: the chosen label (kept apart from the
selectbox's own state, which Streamlit forgets while another page is shown), the uploader, and
the uploads read so far (kept for the session, so the compare page can offer them too). An
upload is validated exactly as the CLI validates a file; its problems are shown in the page,
each located as ``FILE:LINE: field: ...``, and the previous choice stays on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import streamlit as st

from costmodel.core.scenario import Scenario
from costmodel.errors import ScenarioError
from costmodel.shells.ui import cache, scenario_editor, services

__all__ = [
    "CHOICE_KEY",
    "EDITED_SUFFIX",
    "UPLOADER_KEY",
    "Choice",
    "add_upload",
    "choose",
    "options",
    "render",
]

CHOICE_KEY = "picker.choice"
UPLOADER_KEY = "picker.file"
EDITED_SUFFIX = " (edited)"
_CHOSEN_KEY = "picker.chosen"  # the label last chosen, for the session
_UPLOADS_KEY = "picker.uploads"  # upload key -> Choice, for the session
_PROBLEMS_KEY = "picker.problems"  # upload key -> problems, so a bad file is read once


@dataclass(frozen=True)
class Choice:
    """A scenario on offer: a stable key for its widgets' state, a label, and the scenario."""

    key: str
    label: str
    scenario: Scenario


def _uploads() -> dict[str, Choice]:
    uploads: dict[str, Choice] = st.session_state.setdefault(_UPLOADS_KEY, {})
    return uploads


def options(*, edited: bool = False) -> dict[str, Choice]:
    """Every scenario on offer by label: the bundled ones, then this session's uploads.

    With ``edited``, each scenario the user has edited this session follows its source, as
    ``<label> (edited)`` (the compare and actual-usage pages offer both).
    """
    offered = {
        s.name: Choice(f"bundled:{stem}", s.name, s)
        for stem, s in cache.bundled_scenarios().items()
    }
    offered.update({choice.label: choice for choice in _uploads().values()})
    if not edited:
        return offered
    changes = scenario_editor.edited_scenarios()
    with_edits: dict[str, Choice] = {}
    for label, choice in offered.items():
        with_edits[label] = choice
        if choice.key in changes:
            edited_label = label + EDITED_SUFFIX
            scenario = changes[choice.key]
            # Named apart, so a table or chart never shows two rows of one name.
            renamed = replace(scenario, name=scenario.name + EDITED_SUFFIX)
            with_edits[edited_label] = Choice(f"{choice.key}:edited", edited_label, renamed)
    return with_edits


def choose(label: str) -> None:
    """Make ``label`` the explorer's scenario (a new upload, or one a shared link names)."""
    st.session_state[CHOICE_KEY] = label
    st.session_state[_CHOSEN_KEY] = label


def add_upload(choice: Choice) -> None:
    """Offer ``choice`` for the rest of the session, as an upload is."""
    _uploads()[choice.key.removeprefix("upload:")] = choice


def _read_upload(name: str, data: bytes) -> tuple[Choice | None, list[str]]:
    key = services.upload_key(data)
    if key in _uploads():
        return _uploads()[key], []
    problems: dict[str, list[str]] = st.session_state.setdefault(_PROBLEMS_KEY, {})
    if key in problems:
        return None, problems[key]
    try:
        scenario = services.scenario_from_upload(name, data)
    except ScenarioError as error:
        problems[key] = error.problems
        return None, error.problems
    choice = Choice(f"upload:{key}", f"{scenario.name} (uploaded: {name})", scenario)
    _uploads()[key] = choice
    # A new upload becomes the choice once; the user can pick another afterwards.
    choose(choice.label)
    return choice, []


def _show_problems(name: str, problems: list[str]) -> None:
    count = f"{len(problems)} problems" if len(problems) > 1 else "a problem"
    lines = "\n".join(f"- {services.plain_text(problem)}" for problem in problems)
    st.error(
        f"**{services.plain_text(name)} was not loaded: {count} to fix.**\n\n{lines}",
        icon=":material/error:",
    )


def render() -> Choice:
    """The scenario selectbox and the uploader; returns the chosen scenario."""
    pick, upload = st.columns([3, 2], vertical_alignment="bottom")
    problems: list[str] = []
    with upload:
        file = st.file_uploader(
            f"Or upload your own scenario (YAML, up to {services.MAX_UPLOAD_LABEL})",
            type=["yaml", "yml"],
            max_upload_size=services.MAX_UPLOAD_MB,
            key=UPLOADER_KEY,
            help="The same format as the files in scenarios/; scenarios/reference.yaml "
            "documents every key.",
        )
        if file is not None:
            _, problems = _read_upload(file.name, file.getvalue())
    offered = options()
    if CHOICE_KEY not in st.session_state and st.session_state.get(_CHOSEN_KEY) in offered:
        st.session_state[CHOICE_KEY] = st.session_state[_CHOSEN_KEY]  # back from another page
    if st.session_state.get(CHOICE_KEY) not in offered:
        st.session_state.pop(CHOICE_KEY, None)
    with pick:
        label = st.selectbox("Scenario", list(offered), key=CHOICE_KEY)
    st.session_state[_CHOSEN_KEY] = label
    if problems and file is not None:
        _show_problems(file.name, problems)
    return offered[label]
