"""The Prometheus metrics of one service instance (seed 000's names), in its own registry.

Every entry point of a process (the HTTP app, later the bot) records into one
:class:`ServiceMetrics`; its registry is not prometheus-client's global one, so
several apps in one process (tests) never collide. Counters and histograms
live in the process; the storage gauges (``active_subscriptions``, the outbox
backlog and failures) are a snapshot read at scrape time and handed over with
:meth:`ServiceMetrics.set_gauges`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric

from accessgate.domain.model.outbox import Channel
from accessgate.domain.usecases.read_gauges import Gauges

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
# The bot's update types whose series exist (at zero) before the first update.
BOT_UPDATE_TYPES = ("message", "callback_query", "pre_checkout_query")


class _StorageCollector:
    """Yields the last storage snapshot as gauges (nothing when it could not be read)."""

    def __init__(self) -> None:
        self.gauges: Gauges | None = None

    def collect(self) -> Iterator[Metric]:
        gauges = self.gauges
        if gauges is None:
            return
        active = GaugeMetricFamily(
            "active_subscriptions", "Accesses issued or active whose period has not ended."
        )
        active.add_metric([], gauges.active_subscriptions)
        yield active
        channels = sorted({*map(str, Channel), *gauges.outbox_backlog, *gauges.outbox_failed})
        for name, doc, counts in (
            ("outbox_backlog", "Outbox messages waiting for delivery.", gauges.outbox_backlog),
            ("outbox_failed", "Outbox messages that failed for good.", gauges.outbox_failed),
        ):
            family = GaugeMetricFamily(name, doc, labels=["channel"])
            for channel in channels:
                family.add_metric([channel], counts.get(channel, 0))
            yield family


class ServiceMetrics:
    """Every metric of the service, registered in a registry of its own."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.registry = CollectorRegistry()
        registry = self.registry
        self.bot_requests = Counter(
            "bot_requests", "Updates the bot handled.", ["update_type"], registry=registry
        )
        self.bot_request_duration = Histogram(
            "bot_request_duration_seconds",
            "Time the bot took to handle an update.",
            ["update_type"],
            registry=registry,
        )
        self.bot_errors = Counter(
            "bot_errors", "Updates whose handler failed.", ["update_type"], registry=registry
        )
        for update_type in BOT_UPDATE_TYPES:  # the series start at zero
            self.bot_requests.labels(update_type)
            self.bot_request_duration.labels(update_type)
            self.bot_errors.labels(update_type)
        self.payment_transactions = Counter(
            "payment_transactions",
            "Verified payment provider events, by what applying them did.",
            ["provider", "outcome"],
            registry=registry,
        )
        self.http_requests = Counter(
            "http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_request_duration = Histogram(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            registry=registry,
        )
        self._storage = _StorageCollector()
        registry.register(self._storage)
        # Labelled children by label values: ``labels()`` costs microseconds per call.
        # A child is made on first use, as before, so no series appears any earlier.
        self._payment_children: dict[tuple[str, str], Counter] = {}
        self._request_children: dict[tuple[str, str, int], Counter] = {}
        self._duration_children: dict[tuple[str, str], Histogram] = {}

    def record_payments(self, provider: str, outcomes: Iterable[object]) -> None:
        """Count the outcome (``fulfilled``, ``duplicate``, ``stale``...) of each event."""
        for outcome in outcomes:
            key = (provider, str(outcome))
            child = self._payment_children.get(key)
            if child is None:
                child = self._payment_children[key] = self.payment_transactions.labels(*key)
            child.inc()

    def record_http(self, method: str, route: str, status: int, seconds: float | None) -> None:
        """Count one answered request (``route`` is a template, never a raw path)."""
        key = (method, route, status)
        counter = self._request_children.get(key)
        if counter is None:
            counter = self.http_requests.labels(method, route, str(status))
            self._request_children[key] = counter
        counter.inc()
        if seconds is not None:
            histogram = self._duration_children.get((method, route))
            if histogram is None:
                histogram = self.http_request_duration.labels(method, route)
                self._duration_children[(method, route)] = histogram
            histogram.observe(seconds)

    def set_gauges(self, gauges: Gauges | None) -> None:
        """The storage snapshot the next scrape shows (``None``: storage unreadable)."""
        self._storage.gauges = gauges

    def render(self) -> bytes:
        """Every metric in the Prometheus text format (version 0.0.4)."""
        return generate_latest(self.registry)
