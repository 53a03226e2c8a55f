-- Personal data at rest (services/pii, docs/architecture.md "Personal data at
-- rest"). An artisan's CNIC is kept sealed like her phone number, with a keyed
-- hash beside it that keeps one CNIC to one artisan per group without anyone
-- reading it. The clear columns (artisans.phone, artisans.cnic) stay for
-- binaries older than this one during a rolling deploy: this binary writes
-- them only as NULL, and the data step that runs after the migrations
-- (services/piidata.SealClear, from `karigar migrate` and `serve`) seals what
-- an older binary wrote there, and what it wrote in clear into
-- orders.shipping_address and idempotency_keys.response_body, and empties it.
ALTER TABLE artisans ADD COLUMN cnic_sealed text;
ALTER TABLE artisans ADD COLUMN cnic_lookup text;
CREATE UNIQUE INDEX artisans_group_cnic_lookup_idx ON artisans (group_id, cnic_lookup) WHERE cnic_lookup IS NOT NULL;
-- What the data step looks for, kept cheap to find when there is none of it.
CREATE INDEX artisans_clear_idx ON artisans (id) WHERE phone IS NOT NULL OR cnic IS NOT NULL;
CREATE INDEX orders_clear_address_idx ON orders (id) WHERE substr(shipping_address, 1, 5) <> 'pii1.';
