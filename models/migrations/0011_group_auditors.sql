-- Auditors are assigned to groups (contract section 11): an auditor sees a
-- group's artisans' personal data and books only while a row here says so.
-- Unassigning deletes the row; the assignment is a permission, not a record
-- the books depend on.
CREATE TABLE group_auditors (
    group_id    {{uuid}} NOT NULL REFERENCES producer_groups (id) ON DELETE CASCADE,
    user_id     {{uuid}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    assigned_at {{timestamp}} NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
-- Readers ask "which groups may this auditor see" as often as "who audits
-- this group".
CREATE INDEX group_auditors_user_idx ON group_auditors (user_id);
