-- Product photos (issue 21). Each upload is stored as three JPEG sizes,
-- re-encoded from decoded pixels so that no metadata block of the original
-- (EXIF, GPS, XMP, IPTC) survives; a row names the three stored objects.
-- Keys are write-once: a key's bytes never change, so their URLs are cached
-- for a year.
CREATE TABLE product_images (
    id             {{uuid}} PRIMARY KEY,
    product_id     {{uuid}} NOT NULL REFERENCES products (id),
    position       integer NOT NULL CHECK (position >= 0),
    alt            text NOT NULL DEFAULT '',
    alt_ur         text NOT NULL DEFAULT '',
    width          integer NOT NULL,
    height         integer NOT NULL,
    thumb_key      text NOT NULL,
    thumb_width    integer NOT NULL,
    thumb_height   integer NOT NULL,
    thumb_bytes    integer NOT NULL,
    medium_key     text NOT NULL,
    medium_width   integer NOT NULL,
    medium_height  integer NOT NULL,
    medium_bytes   integer NOT NULL,
    large_key      text NOT NULL,
    large_width    integer NOT NULL,
    large_height   integer NOT NULL,
    large_bytes    integer NOT NULL,
    created_at     {{timestamp}} NOT NULL
);
-- A product's images in order; the catalogue reads position 0's thumbnail.
CREATE UNIQUE INDEX product_images_position_idx ON product_images (product_id, position);

-- Stored objects no row references (or will not once an upload in flight
-- commits or gives up): an upload records its keys here before it writes
-- them and takes them out in the transaction that inserts its row; a
-- deletion puts the row's keys here in the transaction that deletes it.
-- Whoever wrote them deletes them at once; a sweeper on every replica
-- deletes what is due and still here (a crash, a storage outage), so no
-- file outlives its row for long.
CREATE TABLE media_orphans (
    key        text PRIMARY KEY,
    due_at     {{timestamp}} NOT NULL,
    created_at {{timestamp}} NOT NULL
);
CREATE INDEX media_orphans_due_idx ON media_orphans (due_at);
