"""Key schemas of Baton's DynamoDB tables: the single source for CDK, moto and repositories.

Every table uses string keys named `pk`/`sk` (or `pk` alone), so the item layout can grow
without a migration; what each key holds is documented per table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None
    # `ALL` copies the whole item; `KEYS_ONLY` only the keys (a lookup then reads the item itself):
    # an index entry stays small, so it costs one write unit whatever the item holds.
    projection: Literal["ALL", "KEYS_ONLY"] = "ALL"


@dataclass(frozen=True)
class TableSpec:
    id: str  # construct id and settings field stem (`contacts` -> BATON_CONTACTS_TABLE)
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None
    description: str = ""
    retain: bool = True  # kept when the stack is deleted; False for short-lived counts only

    def create_request(self, name: str) -> dict[str, Any]:
        """`CreateTable`'s arguments for this table under `name`, on demand, each index with its
        projection: what moto is given in tests, benches and previews (CDK builds its own)."""
        keys = [(self.partition_key, "HASH")] + ([(self.sort_key, "RANGE")] if self.sort_key else [])
        attributes = {key for key, _ in keys}
        indexes = []
        for index in self.indexes:
            index_keys = [(index.partition_key, "HASH")] + (
                [(index.sort_key, "RANGE")] if index.sort_key else []
            )
            attributes.update(key for key, _ in index_keys)
            indexes.append(
                {
                    "IndexName": index.name,
                    "KeySchema": [{"AttributeName": key, "KeyType": kind} for key, kind in index_keys],
                    "Projection": {"ProjectionType": index.projection},
                }
            )
        request: dict[str, Any] = {
            "TableName": name,
            "KeySchema": [{"AttributeName": key, "KeyType": kind} for key, kind in keys],
            "AttributeDefinitions": [
                {"AttributeName": key, "AttributeType": "S"} for key in sorted(attributes)
            ],
            "BillingMode": "PAY_PER_REQUEST",
        }
        if indexes:
            request["GlobalSecondaryIndexes"] = indexes
        return request


CONTACTS = TableSpec(
    id="contacts",
    partition_key="contact_id",
    indexes=(
        Index("by_email", "email"),
        Index("by_phone", "phone"),
        Index("by_pending_phone", "pending_phone"),  # a YES finds the sign-up it confirms
    ),
    description=(
        "One item per contact: the profile (email lower-cased, phone in E.164) and any address"
        " a sign-up named that is not confirmed yet (`pending_email`, `pending_phone`)."
    ),
)
CONSENT = TableSpec(
    id="consent",
    partition_key="contact_id",
    sort_key="sk",
    description=(
        "The consent ledger: `ENTRY#<iso-ts>#<id>` items are append-only proof (R-GDPR-2);"
        " `STATE#<channel>#<topic>` items are the current view, written in the same transaction."
    ),
)
TIMELINE = TableSpec(
    id="timeline",
    partition_key="contact_id",
    sort_key="sk",
    # Sparse: only `message.sent` entries carry these attributes (`baton.timeline.repository`),
    # so a message is found by either id without a read or a write more on the send path.
    indexes=(
        Index("by_message_id", "message_id", projection="KEYS_ONLY"),
        Index("by_provider_message_id", "provider_message_id", projection="KEYS_ONLY"),
    ),
    description=(
        "Everything that happened to a contact; sk `<iso-ts>#<id>` so a query reads newest first."
        " A `message.sent` entry also holds `message_id` (Baton's) and `provider_message_id` at the"
        " top level: GSIs by_message_id and by_provider_message_id (keys only) find it by either."
    ),
)
SUPPRESSION = TableSpec(
    id="suppression",
    partition_key="address_hash",
    description="Salted hashes of suppressed addresses (survive erasure, R-GDPR-5).",
)
IDEMPOTENCY = TableSpec(
    id="idempotency",
    partition_key="id",
    indexes=(Index("by_contact", "contact_id"),),
    ttl_attribute="expiration",
    description=(
        "Once-per-key records (R-REL-6): pk = a hash of the work's key, its state and answer; a"
        " journey's send names its contact in `contact_id` (GSI by_contact: export and erasure)."
    ),
    retain=False,
)

RUNS = TableSpec(
    id="runs",
    partition_key="contact_id",
    sort_key="sk",
    description=(
        "Every journey execution started for a contact: sk `<journey>#<execution name>`, with its"
        " status, start time and ARN, so exit_on and event waits find a contact's runs without"
        " listing Step Functions executions."
    ),
)

# Hand-offs: one item per task a journey hands to people.
TASKS = TableSpec(
    id="tasks",
    partition_key="task_id",
    indexes=(Index("by_queue", "queue", "status_due"), Index("by_contact", "contact_id")),
    description=(
        "Hand-off tasks: pk task_id (deterministic per execution, step and escalation level);"
        " GSI by_queue: queue + `status_due` = `<status>#<due_at>`, so a queue's open tasks are"
        " one query, oldest due first; GSI by_contact finds a contact's tasks (erasure)."
    ),
)

# Event waits: one item per execution parked on `wait: {event, timeout}`.
WAITS = TableSpec(
    id="waits",
    partition_key="contact_id",
    sort_key="sk",
    description=(
        "Executions waiting for an event: sk `<event type>#<execution name>#<step>` with the task"
        " token, so an event finds the contact's waiters for its type with one query."
    ),
)

# Delivery receipts (`confirm_delivery`): one item per send waiting for its receipt, and one marker per
# receipt already handled (so a receipt delivered twice changes nothing the second time).
RECEIPTS = TableSpec(
    id="receipts",
    partition_key="provider_message_id",
    indexes=(Index("by_contact", "contact_id"),),
    ttl_attribute="expires_at",
    description=(
        "Delivery-receipt waiters: pk = the provider's message id, with the task token of the"
        " journey waiting for its receipt (GSI by_contact: erasure); `seen#<receipt key>` markers"
        " for receipts already handled. Both expire (TTL) once nothing can use them."
    ),
)

CAPS = TableSpec(
    id="caps",
    partition_key="contact_id",
    sort_key="sk",
    ttl_attribute="expires_at",
    description=(
        "The frequency caps' count: sk `<purpose>`, the contact's sends of that purpose within the"
        " longest cap period and a `version`; each send is reserved by a write conditioned on the"
        " version it was decided on, so sends at the same time cannot pass a cap together."
        " Expires (TTL) a cap period after its newest send."
    ),
)

# Execution histories cannot be deleted, so an execution carries no personal data: it is named
# by an opaque keyed hash, and whom it is about (and the trigger event's data) lives here, where
# erasure deletes it.
SUBJECTS = TableSpec(
    id="subjects",
    partition_key="execution_name",
    indexes=(Index("by_contact", "contact_id"),),
    ttl_attribute="expires_at",
    description=(
        "Whom each journey execution is about: pk = the execution name, with the contact id and"
        " the trigger event's data the runner reads by that name; GSI by_contact: erasure."
        " Expires (TTL) once no execution can still run or be redriven."
    ),
)

# The throughput each origination identity has used, per window of seconds (R-EUM-1, R-SES-1).
PACING = TableSpec(
    id="pacing",
    partition_key="pk",
    ttl_attribute="expires_at",
    description=(
        "Units (SMS parts, emails) handed to each origination identity per window: pk"
        " `<provider>#<identity>#<window seconds>#<window index>`, `parts` grown by a write"
        " conditioned on the rate, so all senders together stay within it. Nothing personal;"
        " expires (TTL) an hour after its window, and goes with the stack."
    ),
    retain=False,
)

# Lists the operator loads (R-BR-1 "Não Me Perturbe"): the regulator's, not a contact's data, so
# kept apart from suppression, which opt-ins release and opt-outs overwrite.
DO_NOT_CONTACT = TableSpec(
    id="do_not_contact",
    partition_key="pk",
    sort_key="sk",
    description=(
        "Do-not-contact lists by generation: pk `LIST#<list>` holds sk `CURRENT` (the generation"
        " in force, its load time and count) and sk `GENERATION#<id>` (one per load begun, so a"
        " later load finds what to delete); pk `<list>#<generation>` holds one item per number,"
        " sk = its salted hash (no number in clear), and sk `PART#<n>` per part of the load stored"
        " (its counts and a digest of its hashes). Erasure leaves it alone."
    ),
)

# Campaign runs (`baton.campaigns.runs`): counts and outcomes by position, never a contact.
CAMPAIGNS = TableSpec(
    id="campaigns",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    description=(
        "Campaign runs: pk = run id; sk `run` (journey, segment, status, audience and counts by"
        " outcome and reason), sk `batch#<n>` (batch n's outcomes by position in the audience"
        " snapshot, and whether its counts are in the run), sk `minute#<time>` (contacts done in"
        " that minute). No contact id or address; expires (TTL) 90 days after the run."
    ),
)

# Figures (`baton.figures`): counts per journey, step, channel and day, kept from the timeline.
FIGURES = TableSpec(
    id="figures",
    partition_key="pk",
    sort_key="sk",
    description=(
        "Counts kept as timeline events are written: pk `journey#<id>`, sk `<YYYY-MM-DD>#<step>`"
        " (`-`: the journey's own counters), one number attribute per `<measure>|<channel>|<variant>`"
        " and the step's `template`; pk `queue#<queue>`, sk `<YYYY-MM-DD>` for hand-offs. Grown with"
        " UpdateItem ADD; names of journeys, steps and channels only, never a contact."
    ),
)

ALL_TABLES: tuple[TableSpec, ...] = (
    CONTACTS,
    CONSENT,
    TIMELINE,
    SUPPRESSION,
    IDEMPOTENCY,
    RUNS,
    TASKS,
    WAITS,
    RECEIPTS,
    CAPS,
    SUBJECTS,
    PACING,
    DO_NOT_CONTACT,
    CAMPAIGNS,
    FIGURES,
)
