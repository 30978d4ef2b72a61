"""How TaskDash connects to NSQ: the pynsq options of every Reader and Writer, in one place.

nsqd is reached at its configured TCP addresses, or at those nsqlookupd lists (HTTP) when only
lookupd is configured. Consumer, publisher, live feed and readiness all build on these.
"""

from __future__ import annotations

from typing import Any

from taskdash.messaging.nsq_logging import install_nsq_log_filters
from taskdash.settings import Settings

# One answer from nsqlookupd (its /nodes or /lookup) is waited for this long.
LOOKUPD_TIMEOUT_S = 2  # an int: pynsq's Reader asserts it is one
# A Writer whose nsqd connection dropped tries again this often.
WRITER_RECONNECT_INTERVAL_S = 2.0
# nsqd holds outgoing messages up to 250 ms by default to fill its buffer; a consumer that
# FINs only after a commit would wait for that at the end of every RDY window.
OUTPUT_BUFFER_TIMEOUT_MS = 25


def nsq_configured(settings: Settings) -> bool:
    """Whether any nsqd or nsqlookupd address is set (else messages come by HTTP ingest only)."""
    return bool(settings.nsqd_tcp_addresses or settings.nsqlookupd_http_addresses)


def lookupd_url(address: str) -> str:
    return address if address.startswith(("http://", "https://")) else f"http://{address}"


def connection_options(settings: Settings) -> dict[str, Any]:
    """TLS and auth settings passed through to every nsqd connection."""
    install_nsq_log_filters()  # every pynsq client is built with these options
    options: dict[str, Any] = {
        "user_agent": "taskdash",
        "output_buffer_timeout": OUTPUT_BUFFER_TIMEOUT_MS,
    }
    if settings.nsq_tls:
        options["tls_v1"] = True
        tls: dict[str, Any] = {}
        if settings.nsq_tls_ca_file:
            tls["ca_certs"] = settings.nsq_tls_ca_file
            tls["cert_reqs"] = 2  # ssl.CERT_REQUIRED
        if settings.nsq_tls_cert_file:
            tls["certfile"] = settings.nsq_tls_cert_file
            tls["keyfile"] = settings.nsq_tls_key_file or None
        options["tls_options"] = tls or None
    if settings.nsq_auth_secret:
        options["auth_secret"] = settings.nsq_auth_secret
    return options


def reader_options(settings: Settings) -> dict[str, Any]:
    """Where a pynsq Reader finds nsqd (addresses or lookupd), and how it connects."""
    lookupd = [lookupd_url(address) for address in settings.nsqlookupd_http_addresses]
    return {
        "nsqd_tcp_addresses": settings.nsqd_tcp_addresses or None,
        "lookupd_http_addresses": lookupd or None,
        "lookupd_poll_interval": int(settings.nsq_lookupd_poll_interval_s),
        "lookupd_request_timeout": LOOKUPD_TIMEOUT_S,
        **connection_options(settings),
    }


def writer_options(settings: Settings) -> dict[str, Any]:
    """How a pynsq Writer connects (its nsqd addresses are given apart)."""
    return {"reconnect_interval": WRITER_RECONNECT_INTERVAL_S, **connection_options(settings)}
