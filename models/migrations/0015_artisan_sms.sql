-- The artisan's own voice (contract section 12): her consent to be sent SMS,
-- the language she reads, and her phone number sealed (services/pii) with a
-- keyed hash beside it for finding her by the number a reply comes from.
-- The clear phone column is emptied into these by the data step that runs
-- after the migrations (see services/pii and karigar migrate).
ALTER TABLE artisans ADD COLUMN sms_consent boolean NOT NULL DEFAULT false;
ALTER TABLE artisans ADD COLUMN language text NOT NULL DEFAULT 'ur' CHECK (language IN ('ur', 'roman_ur', 'en'));
ALTER TABLE artisans ADD COLUMN phone_sealed text;
ALTER TABLE artisans ADD COLUMN phone_lookup text;
CREATE INDEX artisans_phone_lookup_idx ON artisans (phone_lookup) WHERE phone_lookup IS NOT NULL;
