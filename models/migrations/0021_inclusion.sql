-- Inclusion statistics and proof of income (contract section 15). What an
-- artisan consents to, recorded by a manager: her birth year and the
-- Washington Group Short Set on disability count in the network's earnings
-- statistics only with statistics_consent; income statements are issued only
-- with statement_consent. Never public: only those who may read her group
-- (services/groups.Readable) see them. Withdrawing statistics consent erases
-- the birth year and the answers.
ALTER TABLE artisans ADD COLUMN statistics_consent boolean NOT NULL DEFAULT false;
ALTER TABLE artisans ADD COLUMN statement_consent boolean NOT NULL DEFAULT false;
ALTER TABLE artisans ADD COLUMN birth_year integer CHECK (birth_year BETWEEN 1900 AND 2200);
ALTER TABLE artisans ADD COLUMN disability_seeing text
    CHECK (disability_seeing IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));
ALTER TABLE artisans ADD COLUMN disability_hearing text
    CHECK (disability_hearing IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));
ALTER TABLE artisans ADD COLUMN disability_walking text
    CHECK (disability_walking IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));
ALTER TABLE artisans ADD COLUMN disability_remembering text
    CHECK (disability_remembering IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));
ALTER TABLE artisans ADD COLUMN disability_self_care text
    CHECK (disability_self_care IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));
ALTER TABLE artisans ADD COLUMN disability_communicating text
    CHECK (disability_communicating IN ('no_difficulty', 'some_difficulty', 'a_lot_of_difficulty', 'cannot_do'));

-- Every change of either consent: who recorded it and when. Rows are only
-- ever added; the current state is the artisan's row.
CREATE TABLE artisan_consents (
    id          {{uuid}} PRIMARY KEY,
    artisan_id  {{uuid}} NOT NULL REFERENCES artisans (id) ON DELETE CASCADE,
    group_id    {{uuid}} NOT NULL REFERENCES producer_groups (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('statistics', 'statement')),
    granted     boolean NOT NULL,
    recorded_by {{uuid}} NOT NULL REFERENCES users (id),
    recorded_at {{timestamp}} NOT NULL
);
CREATE INDEX artisan_consents_artisan_idx ON artisan_consents (artisan_id, id);
