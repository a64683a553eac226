"""Where the fonts live: with the pipeline worker (the only function that draws text), not in
the core layer every function carries; found in Lambda, in the local stack and in a checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devserver.app_model import build_model
from devserver.aws import base_refs, function_environments, plan_resources
from ecomvideo.media import text as tx

ROOT = Path(__file__).resolve().parents[3]
WORKER_FONTS = ROOT / "functions/pipeline_worker/fonts"
FONT_SUFFIXES = {".ttf", ".ttc", ".otf", ".woff", ".woff2"}
FONT_FILES = {name for chain in tx._CHAIN.values() for name, _index in chain}


@pytest.fixture
def no_font_env(monkeypatch):
    monkeypatch.delenv(tx.FONT_DIR_ENV, raising=False)
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)


def test_the_core_layer_ships_no_font_file():
    found = [p for p in (ROOT / "layers").rglob("*") if p.suffix.lower() in FONT_SUFFIXES]
    assert found == []


def test_the_pipeline_worker_package_holds_every_font_of_the_chain_and_its_licences():
    assert {p.name for p in WORKER_FONTS.iterdir()} >= FONT_FILES | {
        "LICENSE-DejaVu.txt",
        "LICENSE-WenQuanYi.txt",
    }


def test_a_checkout_finds_the_worker_fonts_without_any_setting(no_font_env):
    assert tx.font_dir() == WORKER_FONTS


def test_lambda_task_root_fonts_come_before_the_checkout(no_font_env, monkeypatch, tmp_path):
    (tmp_path / "fonts").mkdir()
    for name in FONT_FILES:
        (tmp_path / "fonts" / name).symlink_to(WORKER_FONTS / name)
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))
    assert tx.font_dir() == tmp_path / "fonts"


def test_a_task_root_without_fonts_falls_back_to_the_checkout(no_font_env, monkeypatch, tmp_path):
    monkeypatch.setenv("LAMBDA_TASK_ROOT", str(tmp_path))  # another function's package
    assert tx.font_dir() == WORKER_FONTS


def test_the_explicit_setting_wins_and_must_hold_the_fonts(no_font_env, monkeypatch, tmp_path):
    monkeypatch.setenv(tx.FONT_DIR_ENV, str(WORKER_FONTS))
    assert tx.font_dir() == WORKER_FONTS

    (tmp_path / "DejaVuSans.ttf").symlink_to(WORKER_FONTS / "DejaVuSans.ttf")  # one of three
    monkeypatch.setenv(tx.FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(tx.FontsMissing, match=tx.FONT_DIR_ENV) as raised:
        tx.font_dir()
    assert "wqy-microhei.ttc" in str(raised.value) and str(tmp_path) in str(raised.value)


def test_the_local_stack_gives_the_worker_a_task_root_holding_its_fonts():
    model = build_model(ROOT / "template.yaml")
    plan = plan_resources(model, "us-east-1", base_refs(model, "us-east-1"))
    env = function_environments(model, plan, {})["PipelineWorkerFunction"]
    assert Path(env["LAMBDA_TASK_ROOT"]) / "fonts" == WORKER_FONTS


_DRAW = "from ecomvideo.media import text; print(text.load_face(20).fonts[1].getname()[0])"


def _deployed_layout(tmp_path: Path, *, worker: bool) -> tuple[Path, dict[str, str]]:
    """The layer's package under opt/python and a function package as the task root."""
    shutil.copytree(
        ROOT / "layers/core/python/ecomvideo",
        tmp_path / "opt/python/ecomvideo",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    task = tmp_path / "task"
    shutil.copytree(ROOT / ("functions/pipeline_worker" if worker else "functions/videos"), task)
    env = {k: v for k, v in os.environ.items() if k != tx.FONT_DIR_ENV}
    env.update(PYTHONPATH=str(tmp_path / "opt/python"), LAMBDA_TASK_ROOT=str(task))
    return task, env


def test_deployed_the_worker_draws_with_the_fonts_of_its_own_package(tmp_path):
    task, env = _deployed_layout(tmp_path, worker=True)
    done = subprocess.run(
        [sys.executable, "-c", _DRAW], cwd=task, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "WenQuanYi Micro Hei"


def test_deployed_another_function_imports_media_but_cannot_draw_text(tmp_path):
    task, env = _deployed_layout(tmp_path, worker=False)
    done = subprocess.run(
        [sys.executable, "-c", _DRAW], cwd=task, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert "FontsMissing" in done.stderr and tx.FONT_DIR_ENV in done.stderr
