"""Command line: `taskdash serve`, `taskdash user …`. The only place that configures logging
and calls asyncio.run / uvicorn."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from taskdash.domain.errors import TaskDashError
from taskdash.domain.models import Role
from taskdash.settings import Settings, unknown_environment
from taskdash.store import open_store, sqlite_path

logger = logging.getLogger("taskdash")

GRACEFUL_SHUTDOWN_S = 3
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    # Per-request and per-connection chatter of the libraries; their warnings still show.
    for noisy in ("httpx", "nsq"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLogger().level))
    # pymongo's DEBUG records carry whole commands and replies (password hashes, session
    # tokens): never shown, at any level.
    logging.getLogger("pymongo").setLevel(max(logging.INFO, logging.getLogger().level))


def load_settings(overrides: dict[str, Any]) -> Settings:
    """Settings from the environment and flags; one clear line and exit 2 when one is bad."""
    unknown = unknown_environment(os.environ)
    if unknown:
        print(f"taskdash: {unknown}", file=sys.stderr)
        raise SystemExit(2)
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        for error in exc.errors():
            name = ".".join(str(part) for part in error["loc"]) or "settings"
            where = f"--{name.replace('_', '-')} / TASKDASH_{name.upper()}"
            print(f"taskdash: bad setting {name} ({where}): {error['msg']}", file=sys.stderr)
            break
        raise SystemExit(2) from None


class _Server:
    """uvicorn on a socket bound beforehand; says "listening" only once it accepts."""

    def __init__(self, settings: Settings, sock: socket.socket) -> None:
        import uvicorn

        from taskdash.app import create_app

        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=False,
            # The client address is decided in one place, web/deps.py (TASKDASH_TRUSTED_PROXIES):
            # uvicorn would otherwise believe X-Forwarded-For from any loopback peer.
            proxy_headers=False,
            # Live streams are ended before this wait (see Server.shutdown); what is left is
            # ordinary requests, and a container stop's SIGKILL comes after 10 s.
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        sock_name = sock.getsockname()
        url = f"http://{settings.host}:{sock_name[1]}"

        app = self.app

        class Server(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                if self.started:
                    logger.info("listening on %s", url)

            async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
                # uvicorn waits for open responses before the lifespan's shutdown: the live
                # streams, which never end by themselves, must learn of the stop first.
                feed = getattr(app.state, "live_feed", None)
                streams = feed.close_streams() if feed is not None else 0
                logger.info("stopping: %d live streams closed, then draining", streams)
                await super().shutdown(sockets=sockets)

            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                # uvicorn's own re-raises the signal once stopped: SIGTERM would then end the
                # process with -15 and SIGINT with a KeyboardInterrupt traceback, after a stop
                # that was clean. A requested stop exits 0.
                original = {sig: signal.signal(sig, self.handle_exit) for sig in STOP_SIGNALS}
                try:
                    yield
                finally:
                    for sig, handler in original.items():
                        signal.signal(sig, handler)

        self.server = Server(config)
        self.sock = sock

    def run(self) -> int:
        """0 after a clean stop; 1 when start-up failed (one line says why)."""
        try:
            self.server.run(sockets=[self.sock])
        except SystemExit:
            failure = getattr(self.app.state, "startup_error", "") or "start-up failed"
            print(f"taskdash: {failure}", file=sys.stderr)
            return 1
        finally:
            self.sock.close()
        return 0


class _QuietStartupFailure(logging.Filter):
    """uvicorn's traceback of a start-up failure that TaskDash explains in one line."""

    def __init__(self, app_state: Any) -> None:
        super().__init__()
        self._state = app_state

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.ERROR or not getattr(self._state, "startup_error", "")


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (not yet listening); OSError if that is impossible."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def _serve(args: argparse.Namespace) -> int:
    overrides = {name: getattr(args, name) for name in Settings.model_fields}
    overrides["store_url"] = args.store or overrides["store_url"]
    settings = load_settings(overrides)
    configure_logging(settings)
    try:
        sock = bind(settings.host, settings.port)
    except OSError as exc:
        logger.debug("bind failed", exc_info=True)
        where = f"{settings.host}:{settings.port}"
        print(f"taskdash: cannot listen on {where}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if settings.store_url.startswith("sqlite:"):
        data = Path(sqlite_path(settings.store_url)).resolve()
        logger.info("data: %s (embedded SQLite store)", data)
    server = _Server(settings, sock)
    if settings.log_level != "DEBUG":
        logging.getLogger("uvicorn.error").addFilter(_QuietStartupFailure(server.app.state))
    return server.run()


def _demo(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from taskdash.demo import run_demo

    configure_logging(load_settings({}))
    temporary = not args.data
    data_dir = Path(args.data) if args.data else Path(tempfile.mkdtemp(prefix="taskdash-demo-"))
    if args.data and any(data_dir.glob("taskdash.db*")):
        print(f"taskdash: {data_dir} already holds a store; give an empty folder", file=sys.stderr)
        return 2
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        asyncio.run(
            run_demo(
                data_dir=data_dir,
                host=args.host,
                port=args.port,
                use_nsqd=not args.no_nsqd,
                task_rate=args.task_rate,
                status_interval_s=args.status_interval,
            )
        )
    finally:
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)
            print(f"demo stopped; its temporary data {data_dir} is removed", flush=True)
        else:
            print(f"demo stopped; its data stays in {data_dir}", flush=True)
    return 0


def _simulate(args: argparse.Namespace) -> int:
    from taskdash.simulator import HttpSink, SimulatorOptions, Sink, TcpSink, run_simulator

    configure_logging(load_settings({}))
    sink: Sink
    if args.nsqd_tcp_address:
        sink = TcpSink(args.nsqd_tcp_address)
    elif args.nsqd_http_address:
        sink = HttpSink(f"http://{args.nsqd_http_address}")
    elif args.taskdash_url:
        sink = HttpSink(args.taskdash_url, args.ingest_token or "")
    else:
        print(
            "taskdash: give --nsqd-tcp-address, --nsqd-http-address or --taskdash-url",
            file=sys.stderr,
        )
        return 2
    options = SimulatorOptions(
        name=args.name,
        host=args.host,
        port=args.port,
        project=args.project,
        rate_per_s=args.rate,
        initial_tasks=args.initial_tasks,
        heartbeat_interval_s=args.heartbeat_interval,
        status_interval_s=args.status_interval,
        heartbeat_for_s=args.stop_heartbeat_after,
        malformed_every=args.malformed_every,
        events_nsqd_tcp=args.nsqd_tcp_address or "",
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_simulator(options, sink))
    return 0


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise TaskDashError("passwords differ")
    return first


async def _user_command(args: argparse.Namespace, settings: Settings) -> int:
    from taskdash.actions import accounts

    store = await open_store(settings.store_url)
    try:
        if args.user_command == "add":
            user = await accounts.create_user(
                store=store,
                name=args.name,
                role=Role.parse(args.role),
                password=_password(args),
                group=args.group or "",
            )
            group = f", group {user.group}" if user.group else ""
            print(f"added {user.name} ({user.role.label}{group})")
        elif args.user_command == "list":
            for user in await store.accounts.list_users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.name}\t{user.role.label}\t{user.group or '-'}\t{state}")
        elif args.user_command == "passwd":
            await accounts.change_password(store=store, name=args.name, password=_password(args))
            print(f"password of {args.name} changed; its sessions are closed")
        elif args.user_command == "disable":
            await accounts.disable_user(store=store, name=args.name)
            print(f"{args.name} disabled; its sessions are closed")
    finally:
        await store.aclose()
    return 0


def _user(args: argparse.Namespace) -> int:
    settings = load_settings({"store_url": args.store})
    configure_logging(settings)
    try:
        return asyncio.run(_user_command(args, settings))
    except (TaskDashError, ValueError) as exc:
        detail = exc.detail if isinstance(exc, TaskDashError) else str(exc)
        print(f"taskdash: {detail}", file=sys.stderr)
        return 1


def _batch_size(text: str) -> int:
    size = int(text)
    if not 1 <= size <= 100_000:
        raise argparse.ArgumentTypeError("must be between 1 and 100000")
    return size


def _store(args: argparse.Namespace) -> int:
    from taskdash.copy_progress_bar import TextProgressBar
    from taskdash.domain.errors import BadRequest
    from taskdash.store.copy import copy_store

    configure_logging(load_settings({}))
    try:
        copies = asyncio.run(
            copy_store(
                source_url=args.source,
                target_url=args.target,
                overwrite=args.overwrite,
                batch_size=args.batch_size,
                on_progress=TextProgressBar(sys.stderr),
            )
        )
    except (BadRequest, ValueError) as exc:
        detail = exc.detail if isinstance(exc, BadRequest) else str(exc)
        print(f"taskdash: {detail}", file=sys.stderr)
        return 2
    except TaskDashError as exc:
        print(f"taskdash: copy failed: {exc.detail or exc.errmsg}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(
            "taskdash: interrupted; run the same copy with --overwrite to finish it",
            file=sys.stderr,
        )
        return 130
    for copy in copies:
        print(copy.summary())
    return 0


def add_setting_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per setting (`--claim-ttl-s` for TASKDASH_CLAIM_TTL_S); a flag beats the env."""
    for name, field in Settings.model_fields.items():
        default = field.default if not isinstance(field.default, list) else ",".join(field.default)
        parser.add_argument(
            f"--{name.replace('_', '-')}",
            dest=name,
            metavar="VALUE",
            help=f"TASKDASH_{name.upper()} (default {default!s})",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="taskdash", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the TaskDash server")
    add_setting_flags(serve)
    serve.add_argument("--store", help="store URL (same as --store-url)")
    serve.set_defaults(run=_serve)

    demo = commands.add_parser("demo", help="run a demo with sample data on a fresh store")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--data", help="an empty folder for the demo store (default: a temp dir)")
    demo.add_argument(
        "--no-nsqd", action="store_true", help="use HTTP ingest even if nsqd is built"
    )
    demo.add_argument(
        "--task-rate", type=float, default=0.1, help="new tasks per second per simulated service"
    )
    demo.add_argument(
        "--status-interval",
        type=float,
        default=15.0,
        help="seconds between two status steps of a simulated service's tasks",
    )
    demo.set_defaults(run=_demo)

    sim = commands.add_parser("simulate", help="run a reference task service")
    sim.add_argument("--name", default="satEdit", help="service name and task type")
    sim.add_argument("--host", default="127.0.0.1", help="where it answers metadata pulls")
    sim.add_argument("--port", type=int, default=18081)
    sim.add_argument("--project", default="demo")
    sim.add_argument("--nsqd-tcp-address", help="publish to nsqd over TCP (HOST:PORT)")
    sim.add_argument("--nsqd-http-address", help="publish to nsqd's HTTP API (HOST:PORT)")
    sim.add_argument("--taskdash-url", help="publish to TaskDash's HTTP ingest instead")
    sim.add_argument("--ingest-token", help="TaskDash's ingest token")
    sim.add_argument("--rate", type=float, default=0.2, help="new tasks per second")
    sim.add_argument("--initial-tasks", type=int, default=10)
    sim.add_argument("--heartbeat-interval", type=float, default=30.0, help="seconds")
    sim.add_argument("--status-interval", type=float, default=15.0, help="seconds")
    sim.add_argument("--stop-heartbeat-after", type=float, help="seconds, then go silent")
    sim.add_argument(
        "--malformed-every", type=int, default=0, help="make every Nth message malformed (0: never)"
    )
    sim.set_defaults(run=_simulate)

    user = commands.add_parser("user", help="manage accounts")
    user.add_argument("--store", help="store URL (TASKDASH_STORE_URL)")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add an account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[r.label for r in Role])
    add.add_argument("--group", help="the group the user works in")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    user_commands.add_parser("list", help="list accounts")
    passwd = user_commands.add_parser("passwd", help="set a new password")
    passwd.add_argument("name")
    passwd.add_argument("--password-stdin", action="store_true")
    disable = user_commands.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("name")
    user.set_defaults(run=_user)

    store = commands.add_parser("store", help="copy a store into another")
    store_commands = store.add_subparsers(dest="store_command", required=True)
    copy = store_commands.add_parser(
        "copy",
        help="copy everything from one store into another (SQLite or MongoDB)",
        description="Copy tasks, services, heartbeats, task metadata, users, sessions, task"
        " history and dead letters from one store into another, batch by batch. Stop the"
        " TaskDash instances of both stores first. Safe to re-run: records are written by key.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="source store")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="target store")
    copy.add_argument(
        "--overwrite",
        action="store_true",
        help="copy into a target that holds records: replace those with the same key (others stay)",
    )
    copy.add_argument(
        "--batch-size", type=_batch_size, default=2000, help="records per batch (default 2000)"
    )
    store.set_defaults(run=_store)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
