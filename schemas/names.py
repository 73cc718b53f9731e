"""Every Kafka topic, consumer group, faust table and Redis key pattern.

Nothing else in leadroi spells these names. A prefix (``leadroi`` by default) lets
several deployments, or several tests, share one broker and one Redis server.
"""

from __future__ import annotations

from dataclasses import dataclass

SEP = "\x1f"  # unit separator: joins parts of Redis hash fields; never in a label


@dataclass(frozen=True)
class Names:
    prefix: str = "leadroi"

    # Kafka topics written by the tracker.
    @property
    def touches(self) -> str:
        return f"{self.prefix}.touches"

    @property
    def identities(self) -> str:
        return f"{self.prefix}.identities"

    @property
    def crm(self) -> str:
        return f"{self.prefix}.crm"

    @property
    def spend(self) -> str:
        return f"{self.prefix}.spend"

    @property
    def deadletter(self) -> str:
        return f"{self.prefix}.deadletter"

    # Kafka topics written by the stream workers.
    @property
    def lead_events(self) -> str:
        """Messages between identity nodes (``streams.stitch``), keyed by node."""
        return f"{self.prefix}.lead-events"

    @property
    def credits(self) -> str:
        """Every credit record applied to Redis, for rebuilding it by replay."""
        return f"{self.prefix}.credits"

    @property
    def merges(self) -> str:
        """The identity merge log: which lead merged into which, when, and why."""
        return f"{self.prefix}.merges"

    def source_topics(self) -> list[str]:
        return [self.touches, self.identities, self.crm, self.spend]

    def all_topics(self) -> list[str]:
        return [
            *self.source_topics(),
            self.deadletter,
            self.lead_events,
            self.credits,
            self.merges,
        ]

    # faust.
    @property
    def app_id(self) -> str:
        return f"{self.prefix}-worker"

    # Identity nodes: forward pointers, journeys of canonical leads, numbers.
    node_table = "nodes"

    # Redis keys.
    def agg_key(self, scope: str, dimension: str, bucket: str) -> str:
        """Aggregate hash: ``scope`` is a model name or ``spend``/``touches``;
        ``bucket`` is a day (YYYY-MM-DD) or ``all``."""
        return f"{self.prefix}:agg:{scope}:{dimension}:{bucket}"

    def agg_pattern(self, scope: str, dimension: str) -> str:
        return f"{self.prefix}:agg:{scope}:{dimension}:*"

    def agg_parts(self, key: str) -> tuple[str, str, str] | None:
        """``(scope, dimension, bucket)`` of a key made by ``agg_key``, else None."""
        head = f"{self.prefix}:agg:"
        parts = key.removeprefix(head).rsplit(":", 2)
        if not key.startswith(head) or len(parts) != 3:
            return None
        return parts[0], parts[1], parts[2]

    def record_key(self, kind: str, record_id: str) -> str:
        """What one conversion, spend line or touch last contributed to aggregates."""
        return f"{self.prefix}:rec:{kind}:{record_id}"

    @property
    def scopes_key(self) -> str:
        """Set of scopes (models) that have written aggregates."""
        return f"{self.prefix}:scopes"

    def alert_sent_key(self, alert_key: str) -> str:
        """Marks an alert (rule, dimension, value, day) as sent to the webhook."""
        return f"{self.prefix}:alert:sent:{alert_key}"

    # The Markov generation (streams.markov_sink).
    @property
    def markov_inputs_key(self) -> str:
        """Hash: lead -> its conversions as the ``markov`` model splits them."""
        return f"{self.prefix}:markov:inputs"

    @property
    def markov_model_key(self) -> str:
        """The live Markov generation: its time and removal effects, as JSON."""
        return f"{self.prefix}:markov:model"

    @property
    def markov_keys_key(self) -> str:
        """Set of the aggregate keys the live Markov generation wrote."""
        return f"{self.prefix}:markov:keys"

    def staged_key(
        self, generation: str, scope: str, dimension: str, bucket: str
    ) -> str:
        """An aggregate hash of a Markov generation before it goes live."""
        return f"{self.prefix}:staged:{generation}:{scope}:{dimension}:{bucket}"
