"""``python -m devserver``: the whole backend on 127.0.0.1, started by ``make dev``.

PostgreSQL (managed by ``devserver.pg`` or DATABASE_URL) -> migrations -> seed -> moto with the
template's queues/buckets/secrets/state machines -> HTTP API on :3000 + SQS/schedule workers.
Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import signal
import string
import subprocess
import sys
import threading
from pathlib import Path
from types import FrameType

from devserver.app_model import AppModel, build_model
from devserver.aws import (
    MotoStack,
    apply_process_environment,
    aws_environment,
    base_refs,
    create_resources,
    function_environments,
    plan_resources,
)
from devserver.cfn import Resolver

ROOT = Path(__file__).resolve().parent.parent
WALKTHROUGH = Path(__file__).with_name("walkthrough.txt")
log = logging.getLogger("devserver")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devserver", description=__doc__)
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("--host", default=os.environ.get("DEV_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DEV_PORT", "3000")))
    parser.add_argument(
        "--moto-port", type=int, default=int(os.environ.get("DEV_MOTO_PORT", "5000"))
    )
    parser.add_argument("--region", default=os.environ.get("AWS_REGION", "us-east-1"))
    parser.add_argument(
        "--schedules", action="store_true", help="run the template's Schedule events locally"
    )
    parser.add_argument(
        "--schedule-interval",
        type=float,
        default=None,
        help="seconds between scheduled runs (default: the rate() of each schedule)",
    )
    parser.add_argument("--no-migrate", action="store_true", help="skip alembic and the seed")
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a template parameter (repeatable)",
    )
    return parser.parse_args(argv)


def add_layers_to_path(model: AppModel) -> None:
    """Lambda puts every layer's python/ on sys.path (/opt/python); do the same."""
    for path in reversed(model.layer_python_dirs()):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def database_url() -> tuple[str, bool]:
    """(URL, whether we manage the server) from devserver.pg, else DATABASE_URL."""
    try:
        from devserver.pg import ensure_server
    except ImportError:
        url = os.environ.get("DATABASE_URL")
        if not url:
            raise SystemExit("DATABASE_URL is not set and devserver.pg is missing") from None
        return url, False
    managed = not os.environ.get("DATABASE_URL")
    return ensure_server(), managed


def stop_database() -> None:
    try:
        from devserver.pg import stop_server
    except ImportError:
        return
    stop_server(started_here=True)  # we exported DATABASE_URL ourselves meanwhile


def migrate_and_seed(env: dict[str, str]) -> None:
    """``alembic upgrade head`` then the seed, each in a child process with DATABASE_URL."""
    child_env = {**os.environ, **env}
    layer_path = os.pathsep.join([str(ROOT / "layers/core/python"), str(ROOT)])
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [layer_path, env.get("PYTHONPATH")]))
    if (ROOT / "alembic.ini").exists():
        log.info("alembic upgrade head")
        subprocess.run(
            [sys.executable, "-m", "alembic", "upgrade", "head"],
            cwd=ROOT,
            env=child_env,
            check=True,
        )
    else:
        log.warning("alembic.ini not found: migrations skipped")
    if importlib.util.find_spec("ecomvideo.seed") is None:
        log.warning("ecomvideo.seed not found: seed skipped")
        return
    log.info("seeding")
    subprocess.run([sys.executable, "-m", "ecomvideo.seed"], cwd=ROOT, env=child_env, check=True)


def walkthrough(
    base: str, moto_url: str, model: AppModel, queues: int, provider: str | None = None
) -> str:
    """The start banner: URLs and the curl walkthrough of devserver/walkthrough.txt."""
    text = string.Template(WALKTHROUGH.read_text(encoding="utf-8"))
    # safe_substitute: shell variables such as $TOKEN in the examples stay as they are.
    return text.safe_substitute(
        base=base,
        moto=moto_url,
        routes=len(model.routes),
        functions=len(model.functions),
        queues=queues,
        provider=provider or provider_banner(),
    )


def provider_banner(env: dict[str, str] | None = None) -> str:
    """The provider the handlers will really use (the layer's own choice), and how it reports."""
    from ecomvideo.providers import default_provider_name
    from ecomvideo.settings import get_settings, reset_settings

    reset_settings()
    name = default_provider_name()
    if name != "Freepik":
        return f"{name} (renders a real H.264 MP4 offline; set FREEPIK_API_KEY for Freepik)"
    public = (env or {}).get("PUBLIC_API_URL") or get_settings().public_api_url
    if public:
        return f"Freepik (webhooks to {public.rstrip('/')}/webhooks/freepik, polling as backstop)"
    return "Freepik (no PUBLIC_API_URL: no webhooks, completion by polling)"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
    )
    model = build_model(args.template)
    add_layers_to_path(model)

    from devserver.gateway import Gateway, make_server
    from devserver.keys import local_jwt_keys
    from devserver.runner import FunctionRunner
    from devserver.worker import EventSources

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    moto = MotoStack(port=args.moto_port)
    managed_db = False
    server = None
    sources = None
    try:
        url, managed_db = database_url()
        local_env = {
            "DATABASE_URL": url,
            "STAGE": "local",
            **aws_environment(args.region, moto.url),
            **local_jwt_keys(),  # auth signs, the authorizer verifies (issue 4)
        }
        apply_process_environment(local_env)
        if not args.no_migrate:
            migrate_and_seed(local_env)

        moto.start()
        overrides = dict(p.split("=", 1) for p in args.param)
        plan = plan_resources(model, args.region, base_refs(model, args.region, overrides))
        create_resources(model, plan, args.region)
        environments = function_environments(model, plan, local_env)
        # Functions' env comes from the template; the local values must win over it.
        for env in environments.values():
            env.update(local_env)

        resolver = Resolver(model.template, plan.refs, plan.attrs)
        cors = {api: resolver.resolve(config) for api, config in model.cors.items()}
        runner = FunctionRunner(model, environments, region=args.region)
        gateway = Gateway(model, runner, cors=cors)
        server = make_server(gateway, args.host, args.port)
        threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
        sources = EventSources(
            model,
            runner,
            plan,
            region=args.region,
            schedules=args.schedules,
            schedule_interval=args.schedule_interval,
        )
        sources.start()

        base = f"http://{args.host}:{args.port}"
        worker_env = next(iter(environments.values()), {})
        banner = walkthrough(
            base, moto.url, model, len(plan.queue_urls), provider_banner(worker_env)
        )
        print(banner, flush=True)
        stop_requested.wait()
        log.info("stopping")
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        if sources is not None:
            sources.stop()
        moto.stop()
        if managed_db:
            stop_database()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
