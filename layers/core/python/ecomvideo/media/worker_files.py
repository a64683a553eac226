"""Files only the pipeline worker ships (fonts, music loops): where a function finds them.

Pure Python, no imports beyond the standard library (the API imports the music catalogue).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path


def worker_dir(name: str, env: str, files: Iterable[str]) -> tuple[Path | None, list[Path]]:
    """The first directory holding every one of ``files``, and the directories looked at:

    1. ``$<env>`` when set (an explicit choice: it must hold them);
    2. ``$LAMBDA_TASK_ROOT/<name>``: the pipeline worker's package, in Lambda and in the local
       stack (which sets LAMBDA_TASK_ROOT to the function's code directory);
    3. ``functions/pipeline_worker/<name>`` of this checkout (tests, benches, scripts);
       nothing in a built layer (``/opt``).
    """
    explicit = os.environ.get(env)
    if explicit:
        candidates = [Path(explicit)]
    else:
        task_root = os.environ.get("LAMBDA_TASK_ROOT")
        candidates = [Path(task_root) / name] if task_root else []
        here = Path(__file__).resolve().parents  # layers/core/python/ecomvideo/media/
        if len(here) > 5 and (here[4].name, here[3].name) == ("layers", "core"):
            candidates.append(here[5] / "functions" / "pipeline_worker" / name)
    wanted = list(files)
    found = next((d for d in candidates if all((d / f).is_file() for f in wanted)), None)
    return found, candidates
