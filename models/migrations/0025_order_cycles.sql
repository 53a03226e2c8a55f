-- Order cycles (contract section 13): a window in which buyers order from
-- several groups' offers, collected at pickup points or delivered in zones,
-- in slots with a limit of orders each. The limits are counters taken by
-- conditional UPDATEs in the checkout's transaction (cycle_slots.taken,
-- cycle_offers.sold), and given back when an order is cancelled or expires:
-- the CHECKs say what those UPDATEs already keep true. A cycle has no status
-- column: it is open between opens_at and closes_at, by the clock alone.

CREATE TABLE order_cycles (
    id                   {{uuid}} PRIMARY KEY,
    name                 text NOT NULL,
    coordinator_group_id {{uuid}} NOT NULL REFERENCES producer_groups (id),
    currency             text NOT NULL,
    opens_at             {{timestamp}} NOT NULL,
    closes_at            {{timestamp}} NOT NULL,
    created_by           {{uuid}} NOT NULL REFERENCES users (id),
    created_at           {{timestamp}} NOT NULL,
    CHECK (closes_at > opens_at)
);
-- The public list's orders: upcoming by opening, open and closed by closing.
CREATE INDEX order_cycles_opens_idx ON order_cycles (opens_at, id);
CREATE INDEX order_cycles_closes_idx ON order_cycles (closes_at, id);

CREATE TABLE cycle_pickup_points (
    id       {{uuid}} PRIMARY KEY,
    cycle_id {{uuid}} NOT NULL REFERENCES order_cycles (id),
    position integer NOT NULL,
    name     text NOT NULL,
    address  text NOT NULL,
    district text NOT NULL,
    UNIQUE (cycle_id, position)
);

CREATE TABLE cycle_delivery_zones (
    id        {{uuid}} PRIMARY KEY,
    cycle_id  {{uuid}} NOT NULL REFERENCES order_cycles (id),
    position  integer NOT NULL,
    name      text NOT NULL,
    districts {{json}} NOT NULL, -- as the coordinator wrote them
    fee       bigint NOT NULL CHECK (fee >= 0),
    UNIQUE (cycle_id, position)
);

-- A slot is a pickup point's or a delivery zone's, never both.
CREATE TABLE cycle_slots (
    id               {{uuid}} PRIMARY KEY,
    cycle_id         {{uuid}} NOT NULL REFERENCES order_cycles (id),
    pickup_point_id  {{uuid}} REFERENCES cycle_pickup_points (id),
    delivery_zone_id {{uuid}} REFERENCES cycle_delivery_zones (id),
    starts_at        {{timestamp}} NOT NULL,
    ends_at          {{timestamp}} NOT NULL,
    max_orders       integer NOT NULL CHECK (max_orders > 0),
    taken            integer NOT NULL DEFAULT 0 CHECK (taken >= 0 AND taken <= max_orders),
    CHECK ((pickup_point_id IS NULL) <> (delivery_zone_id IS NULL)),
    CHECK (ends_at > starts_at)
);
CREATE INDEX cycle_slots_cycle_idx ON cycle_slots (cycle_id, starts_at);

-- A group's product on sale in a cycle; max_quantity NULL is no cap but stock.
CREATE TABLE cycle_offers (
    cycle_id     {{uuid}} NOT NULL REFERENCES order_cycles (id),
    product_id   {{uuid}} NOT NULL REFERENCES products (id),
    group_id     {{uuid}} NOT NULL REFERENCES producer_groups (id),
    max_quantity integer CHECK (max_quantity > 0),
    sold         integer NOT NULL DEFAULT 0 CHECK (sold >= 0 AND (max_quantity IS NULL OR sold <= max_quantity)),
    created_by   {{uuid}} NOT NULL REFERENCES users (id),
    created_at   {{timestamp}} NOT NULL,
    PRIMARY KEY (cycle_id, product_id)
);
CREATE INDEX cycle_offers_group_idx ON cycle_offers (group_id, cycle_id);

ALTER TABLE orders ADD COLUMN order_cycle_id {{uuid}} REFERENCES order_cycles (id);
ALTER TABLE orders ADD COLUMN cycle_slot_id {{uuid}} REFERENCES cycle_slots (id);
CREATE INDEX orders_cycle_idx ON orders (order_cycle_id, created_at, id) WHERE order_cycle_id IS NOT NULL;
