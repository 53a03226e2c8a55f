-- Craft fairs and exhibitions (contract section 14). An event has stalls,
-- one per group; units move from a product's online stock to its group's
-- stall and back by conditional UPDATEs, never below zero on either side.
--
-- Sales are made offline and sent later in batches: fair_sales.id is the
-- client's own UUID, and its primary key is what applies a sale once, however
-- many times and on however many replicas it arrives. content_hash is the
-- SHA-256 of what the client said about the sale, so that the same id sent
-- with other contents is refused rather than taken for a retry.

CREATE TABLE fair_events (
    id         {{uuid}} PRIMARY KEY,
    name       text NOT NULL,
    venue      text NOT NULL,
    district   text NOT NULL,
    starts_at  {{timestamp}} NOT NULL,
    ends_at    {{timestamp}} NOT NULL,
    created_by {{uuid}} NOT NULL REFERENCES users (id),
    created_at {{timestamp}} NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX fair_events_starts_idx ON fair_events (starts_at, id);
CREATE INDEX fair_events_ends_idx ON fair_events (ends_at, id);

-- A group's stall, and its register once closed: the cash its cash sales
-- booked (expected), the cash counted, and the difference posted to the
-- group's cash over/short account by close_transaction_id.
CREATE TABLE fair_stalls (
    event_id             {{uuid}} NOT NULL REFERENCES fair_events (id),
    group_id             {{uuid}} NOT NULL REFERENCES producer_groups (id),
    created_by           {{uuid}} NOT NULL REFERENCES users (id),
    created_at           {{timestamp}} NOT NULL,
    closed_at            {{timestamp}},
    closed_by            {{uuid}} REFERENCES users (id),
    expected_cash        bigint,
    counted_cash         bigint CHECK (counted_cash >= 0),
    over_short           bigint,
    close_transaction_id {{uuid}} REFERENCES ledger_transactions (id),
    PRIMARY KEY (event_id, group_id),
    CHECK ((closed_at IS NULL) = (counted_cash IS NULL)),
    CHECK (over_short = counted_cash - expected_cash)
);
CREATE INDEX fair_stalls_group_idx ON fair_stalls (group_id, event_id);

-- Units of a product at a stall. sold counts every unit the stall's sales
-- recorded; unstocked those of them the stall did not hold (their sales were
-- kept, booked and flagged needs_reconciliation).
CREATE TABLE fair_stall_stock (
    event_id   {{uuid}} NOT NULL,
    group_id   {{uuid}} NOT NULL,
    product_id {{uuid}} NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity >= 0),
    moved_in   integer NOT NULL DEFAULT 0 CHECK (moved_in >= 0),
    returned   integer NOT NULL DEFAULT 0 CHECK (returned >= 0),
    sold       integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    unstocked  integer NOT NULL DEFAULT 0 CHECK (unstocked >= 0 AND unstocked <= sold),
    PRIMARY KEY (event_id, group_id, product_id),
    FOREIGN KEY (event_id, group_id) REFERENCES fair_stalls (event_id, group_id)
);

-- Every move of units between the online stock and a stall: positive to the
-- stall, negative back online.
CREATE TABLE fair_stock_moves (
    id         {{uuid}} PRIMARY KEY,
    event_id   {{uuid}} NOT NULL,
    group_id   {{uuid}} NOT NULL,
    product_id {{uuid}} NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity <> 0),
    moved_by   {{uuid}} NOT NULL REFERENCES users (id),
    moved_at   {{timestamp}} NOT NULL,
    FOREIGN KEY (event_id, group_id) REFERENCES fair_stalls (event_id, group_id)
);
CREATE INDEX fair_stock_moves_stall_idx ON fair_stock_moves (event_id, group_id, moved_at);

CREATE TABLE fair_sales (
    id                   {{uuid}} PRIMARY KEY, -- the client's UUID
    event_id             {{uuid}} NOT NULL,
    group_id             {{uuid}} NOT NULL,
    recorded_at          {{timestamp}} NOT NULL,
    payment              text NOT NULL CHECK (payment IN ('cash', 'jazzcash', 'easypaisa')),
    currency             text NOT NULL,
    total                bigint NOT NULL CHECK (total > 0),
    needs_reconciliation boolean NOT NULL DEFAULT false,
    reasons              text NOT NULL DEFAULT '', -- comma-separated: beyond_stall_stock, after_register_close
    content_hash         {{bytes}} NOT NULL,
    received_by          {{uuid}} NOT NULL REFERENCES users (id),
    received_at          {{timestamp}} NOT NULL,
    FOREIGN KEY (event_id, group_id) REFERENCES fair_stalls (event_id, group_id)
);
CREATE INDEX fair_sales_stall_idx ON fair_sales (event_id, group_id, recorded_at, id);

-- A sale's items, each booked as one ledger transaction (its reference
-- fair-sale:{sale id}:line:{position}:sale) with the split of the product
-- as it was at the sale's recorded_at.
CREATE TABLE fair_sale_items (
    sale_id        {{uuid}} NOT NULL REFERENCES fair_sales (id),
    position       integer NOT NULL,
    product_id     {{uuid}} NOT NULL REFERENCES products (id),
    quantity       integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    unit_price     bigint NOT NULL CHECK (unit_price > 0),
    unstocked      integer NOT NULL DEFAULT 0 CHECK (unstocked >= 0 AND unstocked <= quantity),
    transaction_id {{uuid}} NOT NULL REFERENCES ledger_transactions (id),
    PRIMARY KEY (sale_id, position)
);

-- The split inputs of a product as the fairs service saw them, each in force
-- from effective_from (when the product, its group's terms or the fees last
-- changed before it was seen): how a sale recorded offline is booked with
-- the product's split at its recorded_at, after the catalogue has moved on.
CREATE TABLE fair_prices (
    product_id          {{uuid}} NOT NULL REFERENCES products (id),
    effective_from      {{timestamp}} NOT NULL,
    currency            text NOT NULL,
    price               bigint NOT NULL CHECK (price > 0),
    materials           bigint NOT NULL,
    packaging           bigint NOT NULL,
    hourly_wage         bigint NOT NULL,
    platform_fee_bps    integer NOT NULL,
    processing_bps      integer NOT NULL,
    collective_fund_bps integer NOT NULL,
    makers              text NOT NULL, -- JSON: [{artisan_id, minutes}] per unit
    seen_at             {{timestamp}} NOT NULL,
    PRIMARY KEY (product_id, effective_from)
);
