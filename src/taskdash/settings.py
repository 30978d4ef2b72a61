"""Settings from TASKDASH_* environment variables and matching command-line flags."""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from taskdash.domain.models import DEFAULT_FINISHED_STATUSES
from taskdash.store_urls import mongodb_database, sqlite_path

# Lists come from the environment as comma-separated text, not JSON.
CommaList = Annotated[list[str], NoDecode]

ENV_PREFIX = "TASKDASH_"
# nsqd's own rule for topic and channel names (nsq/internal/protocol/names.go).
_NSQ_NAME = re.compile(r"[.a-zA-Z0-9_-]+(#ephemeral)?")
NSQ_NAME_MAX = 64


class Settings(BaseSettings):
    """Everything an operator can set; built once in cli.py and passed down."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, allow_inf_nan=False
    )

    host: str = "127.0.0.1"
    port: int = Field(8080, ge=0, le=65535)
    store_url: str = "sqlite:///./data/taskdash.db"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    ingest_token: str = ""
    topic_service_register: str = "serviceRegister"
    topic_task_register: str = "taskRegister"
    topic_update_status: str = "updateStatus"
    topic_heartbeat: str = "heartBeat"
    events_topic: str = "taskEvents"

    nsqd_tcp_addresses: CommaList = []
    nsqlookupd_http_addresses: CommaList = []
    nsq_channel: str = "taskdash"
    nsq_max_in_flight: int = Field(1000, ge=1)
    nsq_max_attempts: int = Field(5, ge=1)
    nsq_lookupd_poll_interval_s: int = Field(15, ge=1)
    nsq_msg_timeout_s: float = Field(30.0, ge=1, le=900)
    nsq_tls: bool = False
    nsq_tls_ca_file: str = ""
    nsq_tls_cert_file: str = ""
    nsq_tls_key_file: str = ""
    nsq_auth_secret: str = ""

    heartbeat_timeout_s: float = Field(90.0, gt=0)
    max_clock_skew_s: float = Field(300.0, ge=0)
    health_sweep_interval_s: float = Field(10.0, gt=0)
    claim_ttl_s: float = Field(7200.0, ge=0)
    claim_sweep_interval_s: float = Field(30.0, gt=0, le=60)
    max_claims_per_user: int = Field(10, ge=0)
    finished_statuses: CommaList = list(DEFAULT_FINISHED_STATUSES)

    metadata_sync_interval_s: float = Field(60.0, gt=0)
    metadata_path: str = "taskMetadata"
    metadata_method: Literal["GET", "POST"] = "GET"
    metadata_timeout_s: float = Field(5.0, gt=0)
    metadata_page_size: int = Field(500, ge=1, le=10_000)

    session_ttl_s: float = Field(43200.0, gt=0)
    cookie_secure: bool = False
    allowed_origins: CommaList = []
    login_max_failures_per_user: int = Field(5, ge=1)
    login_max_failures_per_address: int = Field(20, ge=1)
    login_failure_window_s: float = Field(300.0, gt=0)
    # Peers whose X-Forwarded-For is believed (a load balancer); empty: the TCP peer is the client.
    trusted_proxies: CommaList = []
    max_body_bytes: int = Field(1024 * 1024, ge=1024)
    metrics_token: SecretStr = SecretStr("")  # empty: /metrics is open

    @field_validator("store_url")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value.startswith("sqlite:///"):
            sqlite_path(value)  # a URL without a path is refused here
            return value
        if value.startswith(("mongodb://", "mongodb+srv://")):
            mongodb_database(value)  # a URL without a database name is refused here
            return value
        raise ValueError("must be sqlite:///path/to.db or mongodb://host:port/dbname")

    @field_validator(
        "topic_service_register",
        "topic_task_register",
        "topic_update_status",
        "topic_heartbeat",
        "nsq_channel",
    )
    @classmethod
    def _nsq_name(cls, value: str) -> str:
        return nsq_name(value)

    @field_validator("events_topic")
    @classmethod
    def _events_topic(cls, value: str) -> str:
        return nsq_name(value) if value else value  # empty: task events are not published

    @field_validator(
        "nsqd_tcp_addresses",
        "nsqlookupd_http_addresses",
        "finished_statuses",
        "allowed_origins",
        "trusted_proxies",
        mode="before",
    )
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("nsqd_tcp_addresses")
    @classmethod
    def _host_ports(cls, value: list[str]) -> list[str]:
        for address in value:
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{address!r} is not HOST:PORT")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
        return value

    @property
    def topics(self) -> dict[str, str]:
        """Topic name -> kind of message it carries."""
        return {
            self.topic_service_register: "serviceRegister",
            self.topic_task_register: "taskRegister",
            self.topic_update_status: "updateStatus",
            self.topic_heartbeat: "heartBeat",
        }


def nsq_name(value: str) -> str:
    """`value` if nsqd accepts it as a topic or channel name, else ValueError."""
    if not _NSQ_NAME.fullmatch(value) or len(value) > NSQ_NAME_MAX:
        raise ValueError(
            f"{value!r} is not an NSQ name (1-{NSQ_NAME_MAX} characters of . a-z A-Z 0-9 _ -,"
            " optionally ending in #ephemeral)"
        )
    return value


def unknown_environment(environ: Mapping[str, str]) -> str | None:
    """One line naming the first TASKDASH_* variable that is no setting, or None."""
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields}
    for variable in sorted(environ):
        if variable.upper().startswith(ENV_PREFIX) and variable.upper() not in known:
            close = difflib.get_close_matches(variable.upper(), sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            return f"unknown setting {variable}{hint}"
    return None
