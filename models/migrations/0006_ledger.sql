-- The double-entry ledger. A transaction is a set of postings that sum to
-- zero per currency; committed rows are never updated or deleted (a
-- correction is a reversing transaction). Each account keeps its balance, so
-- reading one is O(1), and the CHECK keeps the accounts that must not go
-- negative (every group and artisan account) from doing so whatever the
-- code does.
--
-- Tamper evidence: each transaction is chained, per chain (one per group,
-- one for the platform), by SHA-256 over the previous transaction's hash
-- and a canonical encoding of the transaction and its postings
-- (services/ledger/chain.go). ledger_chains holds each chain's head.

CREATE TABLE ledger_accounts (
    id              {{uuid}} PRIMARY KEY,
    owner_kind      text NOT NULL CHECK (owner_kind IN ('platform', 'group', 'artisan')),
    owner_id        {{uuid}} NOT NULL, -- the nil UUID for the platform
    group_id        {{uuid}},          -- the group of a group's or artisan's account
    type            text NOT NULL,
    currency        text NOT NULL,
    may_go_negative boolean NOT NULL,
    balance         bigint NOT NULL DEFAULT 0,
    created_at      {{timestamp}} NOT NULL,
    CHECK (may_go_negative OR balance >= 0),
    UNIQUE (owner_kind, owner_id, type, currency)
);
CREATE INDEX ledger_accounts_group_idx ON ledger_accounts (group_id, owner_kind, type);

CREATE TABLE ledger_chains (
    chain_key           text PRIMARY KEY,
    seq                 bigint NOT NULL,
    head_hash           {{bytes}} NOT NULL,
    head_transaction_id {{uuid}}
);

CREATE TABLE ledger_transactions (
    id          {{uuid}} PRIMARY KEY,
    chain_key   text NOT NULL,
    chain_seq   bigint NOT NULL CHECK (chain_seq > 0),
    reference   text NOT NULL UNIQUE,
    kind        text NOT NULL,
    group_id    {{uuid}},
    memo        text NOT NULL,
    occurred_at {{timestamp}} NOT NULL,
    prev_id     {{uuid}},
    prev_hash   {{bytes}} NOT NULL,
    hash        {{bytes}} NOT NULL,
    UNIQUE (chain_key, chain_seq)
);
CREATE INDEX ledger_transactions_group_idx ON ledger_transactions (group_id, occurred_at, id);
CREATE INDEX ledger_transactions_time_idx ON ledger_transactions (occurred_at, id);

CREATE TABLE ledger_postings (
    transaction_id {{uuid}} NOT NULL REFERENCES ledger_transactions (id),
    position       integer NOT NULL,
    account_id     {{uuid}} NOT NULL REFERENCES ledger_accounts (id),
    amount         bigint NOT NULL CHECK (amount <> 0),
    currency       text NOT NULL,
    PRIMARY KEY (transaction_id, position)
);
CREATE INDEX ledger_postings_account_idx ON ledger_postings (account_id, transaction_id);

-- Checkpoints the platform has signed: the chain heads each one covers, so
-- that an auditor's copy can be checked against the chains later.
CREATE TABLE ledger_checkpoints (
    sequence   bigint NOT NULL,
    head_hash  {{bytes}} PRIMARY KEY,
    heads      text NOT NULL, -- JSON: [{chain_key, seq, hash}] in chain_key order
    created_at {{timestamp}} NOT NULL
);

-- A payout records money handed to an artisan outside the platform (bank,
-- JazzCash, Easypaisa, cash); its ledger transaction takes it off her
-- payable. The acknowledgement is her confirmation that it arrived.
CREATE TABLE payouts (
    id                   {{uuid}} PRIMARY KEY,
    group_id             {{uuid}} NOT NULL REFERENCES producer_groups (id),
    artisan_id           {{uuid}} NOT NULL REFERENCES artisans (id),
    amount               bigint NOT NULL CHECK (amount > 0),
    currency             text NOT NULL,
    method               text NOT NULL CHECK (method IN ('bank', 'jazzcash', 'easypaisa', 'cash')),
    reference            text NOT NULL,
    transaction_id       {{uuid}} NOT NULL REFERENCES ledger_transactions (id),
    created_by           {{uuid}} NOT NULL REFERENCES users (id),
    created_at           {{timestamp}} NOT NULL,
    acknowledged_at      {{timestamp}},
    acknowledged_by      {{uuid}} REFERENCES users (id),
    acknowledgement_note text
);
CREATE INDEX payouts_artisan_idx ON payouts (artisan_id, created_at);
CREATE INDEX payouts_group_idx ON payouts (group_id, created_at);

-- A distribution shares a group's undistributed margin among its artisans;
-- the parts are the postings of its ledger transaction.
CREATE TABLE distributions (
    id             {{uuid}} PRIMARY KEY,
    group_id       {{uuid}} NOT NULL REFERENCES producer_groups (id),
    method         text NOT NULL,
    until          {{timestamp}} NOT NULL,
    amount         bigint NOT NULL,
    currency       text NOT NULL,
    transaction_id {{uuid}} NOT NULL REFERENCES ledger_transactions (id),
    created_by     {{uuid}} NOT NULL REFERENCES users (id),
    created_at     {{timestamp}} NOT NULL
);
CREATE INDEX distributions_group_idx ON distributions (group_id, created_at);
