"""tools.package_size: each built function is measured together with the core layer."""

from __future__ import annotations

from pathlib import Path

from tools import package_size


def _file(path: Path, size: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.truncate(size)


def test_reports_the_layer_and_the_largest_function_with_it(tmp_path, capsys):
    _file(tmp_path / "CoreLayer/python/pkg.bin", 3 * package_size.MB)
    _file(tmp_path / "HealthFunction/app.py", package_size.MB)
    _file(tmp_path / "PipelineWorkerFunction/fonts/font.ttc", 5 * package_size.MB)

    assert package_size.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip() == (
        "package sizes: core layer 3.0 MB, largest with it 8.0 MB (PipelineWorkerFunction)"
    )


def test_a_function_over_the_limit_with_the_layer_fails_the_build(tmp_path, capsys):
    _file(tmp_path / "CoreLayer/python/pkg.bin", package_size.LIMIT // 2)
    _file(tmp_path / "PipelineWorkerFunction/av.so", package_size.LIMIT // 2 + 1)

    assert package_size.main([str(tmp_path)]) == 1
    assert "PipelineWorkerFunction" in capsys.readouterr().out


def test_a_function_near_the_limit_is_warned_about(tmp_path, capsys):
    _file(tmp_path / "CoreLayer/python/pkg.bin", package_size.WARN)
    _file(tmp_path / "PipelineWorkerFunction/app.py", 1)

    assert package_size.main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("warning: PipelineWorkerFunction")
