-- Orders. Stock is taken from products by conditional UPDATEs in the same
-- transaction that writes the order, so it is never oversold whatever the
-- number of replicas. Each line freezes its price and the inputs of its
-- fair-trade split, so a sale books what the buyer saw. An order's part for
-- each group (order_groups) is shipped and delivered by that group.

CREATE TABLE orders (
    id               {{uuid}} PRIMARY KEY,
    buyer_id         {{uuid}} NOT NULL REFERENCES users (id),
    status           text NOT NULL CHECK (status IN ('pending_payment', 'confirmed', 'paid', 'shipped', 'delivered',
                                                     'cancelled', 'expired', 'refunded')),
    payment_method   text NOT NULL CHECK (payment_method IN ('card', 'cash_on_delivery')),
    payment_status   text NOT NULL CHECK (payment_status IN ('pending', 'succeeded', 'failed', 'cancelled', 'due',
                                                             'collected', 'refunded')),
    provider_ref     text,
    currency         text NOT NULL,
    subtotal         bigint NOT NULL CHECK (subtotal > 0),
    shipping         bigint NOT NULL CHECK (shipping >= 0),
    total            bigint NOT NULL CHECK (total = subtotal + shipping),
    shipping_address text NOT NULL, -- JSON; the buyer's, shown only to the order's parties
    note             text NOT NULL DEFAULT '',
    expires_at       {{timestamp}},
    created_at       {{timestamp}} NOT NULL,
    updated_at       {{timestamp}} NOT NULL
);
CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at, id);
CREATE INDEX orders_expiry_idx ON orders (expires_at) WHERE status = 'pending_payment';
CREATE INDEX orders_provider_idx ON orders (provider_ref);

CREATE TABLE order_lines (
    order_id            {{uuid}} NOT NULL REFERENCES orders (id),
    position            integer NOT NULL,
    product_id          {{uuid}} NOT NULL REFERENCES products (id),
    group_id            {{uuid}} NOT NULL REFERENCES producer_groups (id),
    title               text NOT NULL,
    unit_price          bigint NOT NULL CHECK (unit_price > 0),
    quantity            integer NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    line_total          bigint NOT NULL CHECK (line_total = unit_price * quantity),
    unit_materials      bigint NOT NULL,
    unit_packaging      bigint NOT NULL,
    hourly_wage         bigint NOT NULL,
    platform_fee_bps    integer NOT NULL,
    collective_fund_bps integer NOT NULL,
    makers              text NOT NULL, -- JSON: [{artisan_id, minutes}] per unit
    PRIMARY KEY (order_id, position)
);
CREATE INDEX order_lines_group_idx ON order_lines (group_id, order_id);

CREATE TABLE order_groups (
    order_id        {{uuid}} NOT NULL REFERENCES orders (id),
    group_id        {{uuid}} NOT NULL REFERENCES producer_groups (id),
    status          text NOT NULL CHECK (status IN ('pending', 'shipped', 'delivered', 'cancelled')),
    amount          bigint NOT NULL, -- its lines and its shipping fee
    shipping_fee    bigint NOT NULL,
    carrier         text,
    tracking_number text,
    shipped_at      {{timestamp}},
    delivered_at    {{timestamp}},
    cash_collected  bigint,
    PRIMARY KEY (order_id, group_id)
);
CREATE INDEX order_groups_group_idx ON order_groups (group_id, order_id);

-- Each Stripe event is applied at most once: its id is claimed in the same
-- transaction that applies it.
CREATE TABLE stripe_events (
    id          text PRIMARY KEY,
    type        text NOT NULL,
    order_id    {{uuid}},
    outcome     text NOT NULL,
    received_at {{timestamp}} NOT NULL
);
