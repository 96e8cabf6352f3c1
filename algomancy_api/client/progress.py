"""The progress bar `wait()` shows: tqdm's, which draws a widget in Jupyter and a
text bar in a terminal."""

from __future__ import annotations

from typing import Any

from algomancy_api.client.models import ScenarioEvent, ScenarioStatus


class ProgressBar:
    """0-100 %, the status and the algorithm's latest message; nothing when disabled."""

    def __init__(self, enabled: bool, label: str, file: Any = None) -> None:
        self.bar: Any = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=100,
                desc=label,
                unit="%",
                file=file,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {postfix}",
            )

    def update(self, state: ScenarioEvent | ScenarioStatus) -> None:
        if self.bar is None:
            return
        target = round(max(0.0, min(1.0, state.progress)) * 100, 1)
        if state.status == "complete":
            target = 100.0
        self.bar.update(target - self.bar.n)
        message = getattr(state, "message", None)
        self.bar.set_postfix_str(f"{state.status}" + (f": {message}" if message else ""))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
