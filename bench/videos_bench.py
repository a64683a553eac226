"""Videos benchmarks: Local render speed, SQL statements per list page, handler import time.

Run: ``.venv/bin/python bench/videos_bench.py`` (starts the project PostgreSQL if needed and
works in a scratch database that it drops afterwards; AWS is moto in-process).

1. Local provider: 5 s at 1080x1920 from a title card, wall time and ratio to real time.
2. ``GET /v1/videos`` through the real handler at page sizes 10/50/100: SQL statements per
   page (counted with a ``before_cursor_execute`` listener) must not grow with the page size.
3. Cold import of ``functions/videos/app.py`` and ``functions/pipeline_worker/app.py`` in a
   fresh interpreter (median of 3).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "layers/core/python"), str(ROOT)]
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "EcomVideo",
        "POWERTOOLS_SERVICE_NAME": "bench",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)


def bench_render() -> None:
    from ecomvideo.providers import VideoRequest, get_provider

    provider = get_provider("Local")
    request = VideoRequest(
        prompt="Aurora running sneakers, breathable mesh, $79",
        duration_seconds=5,
        aspect_ratio="9:16",
        width=1080,
        height=1920,
        title="Aurora Sneakers",
        price_text="$79",
        reference="bench",
    )
    started = time.perf_counter()
    result = provider.start_video(request)
    elapsed = time.perf_counter() - started
    size = len(result.asset or b"")
    print(
        f"render  Local 5 s 1080x1920: {elapsed:.2f} s wall, {elapsed / 5:.2f}x real time, "
        f"{size / 1e6:.2f} MB"
    )


def bench_list_queries() -> None:
    import psycopg
    from moto import mock_aws
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from sqlalchemy.pool import NullPool

    from devserver.pg import ensure_server
    from ecomvideo import db
    from ecomvideo.enums import VideoInputType, VideoStatus
    from ecomvideo.models import User, Video
    from ecomvideo.seed import seed
    from ecomvideo.services import tagging
    from ecomvideo.settings import reset_settings
    from tests.conftest import migrate
    from tests.support.pipeline_stack import PipelineStack, call

    server = ensure_server()
    name = f"ecomvideo_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = server.rsplit("/", 1)[0] + "/" + name
    try:
        migrate(url)
        os.environ["DATABASE_URL"] = url
        reset_settings()
        db.reset_engine()
        engine = db.build_engine(url, poolclass=NullPool)
        with Session(engine) as session:
            seed(session)
            user = User(email=f"bench-{name}@example.com", password_hash="x", first_name="B")  # noqa: S106
            session.add(user)
            session.flush()
            for i in range(150):
                video = Video(
                    user_id=user.id,
                    title=f"Video {i}",
                    text_prompt="bench",
                    input_type=VideoInputType.TEXT,
                    status=VideoStatus.COMPLETED,
                    resolution="1080x1920",
                    aspect_ratio="9:16",
                    thumbnail_url=f"s3://bench/users/{user.id}/videos/{i}/thumbnail.jpg",
                )
                session.add(video)
                session.flush()
                tagging.set_video_tags(session, video.id, [f"tag{i % 7}", "bench"])
            session.commit()
            user_id = user.id
        engine.dispose()
        statements: list[str] = []

        def count(conn, cursor, statement, *args) -> None:
            statements.append(statement)

        with mock_aws():
            stack = PipelineStack()
            try:
                call("videos", "GET", "/v1/videos", user_id=user_id, query="limit=1")  # warm-up
                event.listen(db.get_engine(), "before_cursor_execute", count)
                for size in (10, 50, 100):
                    statements.clear()
                    started = time.perf_counter()
                    status, body, _ = call(
                        "videos", "GET", "/v1/videos", user_id=user_id, query=f"limit={size}"
                    )
                    elapsed = (time.perf_counter() - started) * 1000
                    assert status == 200 and len(body["items"]) == size, body
                    print(
                        f"list    GET /v1/videos limit={size:3d}: {len(statements)} SQL "
                        f"statements, {elapsed:.1f} ms"
                    )
            finally:
                stack.close()
    finally:
        db.reset_engine()
        with psycopg.connect(server.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_IMPORT_SNIPPET = """
import importlib.util, sys, time
sys.path[:0] = [{layer!r}]
started = time.perf_counter()
spec = importlib.util.spec_from_file_location("handler", {path!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
print(time.perf_counter() - started)
"""


def bench_imports() -> None:
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    for name in ("videos", "pipeline_worker"):
        path = str(ROOT / "functions" / name / "app.py")
        code = _IMPORT_SNIPPET.format(layer=str(ROOT / "layers/core/python"), path=path)
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout.strip()
            )
            for _ in range(3)
        ]
        median_ms = statistics.median(runs) * 1000
        print(f"import  functions/{name}/app.py: {median_ms:.0f} ms (median of 3)")


if __name__ == "__main__":
    bench_render()
    bench_list_queries()
    bench_imports()
