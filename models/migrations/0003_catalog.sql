-- Producer groups, their managers and artisans, the catalogue, and the wage
-- benchmarks the catalogue's fair-wage figures are computed against.

CREATE TABLE producer_groups (
    id                  {{uuid}} PRIMARY KEY,
    name                text NOT NULL,
    description         text NOT NULL,
    district            text NOT NULL,
    district_key        text NOT NULL, -- lower-cased district, for filters
    province            text NOT NULL,
    registration_number text,
    currency            text NOT NULL,
    shipping_fee        bigint NOT NULL CHECK (shipping_fee >= 0),
    profit_method       text NOT NULL CHECK (profit_method IN ('labor_hours', 'units_made', 'equal')),
    collective_fund_bps integer NOT NULL CHECK (collective_fund_bps BETWEEN 0 AND 10000),
    status              text NOT NULL CHECK (status IN ('pending', 'verified')),
    verified_at         {{timestamp}},
    created_by          {{uuid}} NOT NULL REFERENCES users (id),
    created_at          {{timestamp}} NOT NULL,
    updated_at          {{timestamp}} NOT NULL
);
CREATE INDEX producer_groups_list_idx ON producer_groups (status, name, id);
CREATE INDEX producer_groups_place_idx ON producer_groups (province, district_key);

CREATE TABLE group_managers (
    group_id   {{uuid}} NOT NULL REFERENCES producer_groups (id) ON DELETE CASCADE,
    user_id    {{uuid}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at {{timestamp}} NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_managers_user_idx ON group_managers (user_id);

CREATE TABLE artisans (
    id                      {{uuid}} PRIMARY KEY,
    group_id                {{uuid}} NOT NULL REFERENCES producer_groups (id),
    display_name            text NOT NULL,
    full_name               text NOT NULL,
    district                text NOT NULL,
    phone                   text,
    cnic                    text,
    gender                  text CHECK (gender IN ('woman', 'man', 'transgender', 'undisclosed')),
    hbw_registration_number text,
    skills                  {{json}} NOT NULL,
    public_profile          boolean NOT NULL,
    active                  boolean NOT NULL,
    created_at              {{timestamp}} NOT NULL,
    updated_at              {{timestamp}} NOT NULL
);
CREATE INDEX artisans_group_idx ON artisans (group_id, id);
-- One registration per person within a group.
CREATE UNIQUE INDEX artisans_group_cnic_idx ON artisans (group_id, cnic) WHERE cnic IS NOT NULL;

CREATE TABLE categories (
    slug     text PRIMARY KEY,
    name     text NOT NULL,
    name_ur  text NOT NULL,
    position integer NOT NULL
);
INSERT INTO categories (slug, name, name_ur, position) VALUES
    ('embroidery',   'Embroidery',                  'کڑھائی',       1),
    ('quilts',       'Quilts and ralli',            'رلی',          2),
    ('block_prints', 'Block prints and ajrak',      'اجرک',         3),
    ('textiles',     'Shawls and woven textiles',   'شال',          4),
    ('pottery',      'Pottery and ceramics',        'برتن',         5),
    ('woodwork',     'Woodwork and lacquer',        'لکڑی کا کام',   6),
    ('footwear',     'Footwear and khussa',         'کھسہ',         7),
    ('basketry',     'Baskets and palm-leaf work',  'ٹوکری',        8),
    ('jewellery',    'Jewellery',                   'زیورات',       9),
    ('pickles',      'Pickles and chutneys',        'اچار',         10),
    ('food',         'Home-made food',              'گھر کا کھانا', 11);

-- Statutory minimum wages; hourly = monthly ÷ 208 (26 days × 8 hours),
-- rounded down. 'federal' stands for every region without its own.
CREATE TABLE wage_benchmarks (
    region          text PRIMARY KEY,
    name            text NOT NULL,
    currency        text NOT NULL,
    monthly         bigint NOT NULL CHECK (monthly > 0),
    hours_per_month integer NOT NULL CHECK (hours_per_month > 0),
    hourly          bigint NOT NULL CHECK (hourly > 0),
    source          text NOT NULL,
    updated_at      {{timestamp}} NOT NULL
);
INSERT INTO wage_benchmarks (region, name, currency, monthly, hours_per_month, hourly, source, updated_at) VALUES
    ('punjab',  'Punjab minimum wage',            'PKR', 4000000, 208, 19230,
     'Government of the Punjab, minimum wage notification, September 2025', '2025-09-01 00:00:00'),
    ('sindh',   'Sindh minimum wage (unskilled)', 'PKR', 4000000, 208, 19230,
     'Government of Sindh, minimum wage notification for unskilled workers, from 1 July 2025', '2025-07-01 00:00:00'),
    ('federal', 'Federal minimum wage',           'PKR', 3700000, 208, 17788,
     'Federal budget FY2024-25, kept for FY2025-26', '2025-07-01 00:00:00');

CREATE TABLE products (
    id                    {{uuid}} PRIMARY KEY,
    group_id              {{uuid}} NOT NULL REFERENCES producer_groups (id),
    title                 text NOT NULL,
    description           text NOT NULL,
    category              text NOT NULL REFERENCES categories (slug),
    materials             {{json}} NOT NULL,
    images                {{json}} NOT NULL,
    currency              text NOT NULL,
    price                 bigint NOT NULL CHECK (price > 0),
    stock                 integer NOT NULL CHECK (stock >= 0),
    cost_materials        bigint NOT NULL CHECK (cost_materials >= 0),
    cost_packaging        bigint NOT NULL CHECK (cost_packaging >= 0),
    labor_minutes         integer NOT NULL CHECK (labor_minutes > 0),
    hourly_wage           bigint NOT NULL CHECK (hourly_wage >= 0),
    -- The fair-trade figures, kept with the product so the catalogue can
    -- filter and sort on them through an index; recomputed on every change
    -- to the product or its group's terms.
    artisan_share_bps     integer NOT NULL CHECK (artisan_share_bps BETWEEN 0 AND 10000),
    effective_hourly_wage bigint NOT NULL CHECK (effective_hourly_wage >= 0),
    meets_wage_benchmark  boolean NOT NULL,
    status                text NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    -- Copied from the group (and kept in step with it) for catalogue filters.
    province              text NOT NULL,
    district_key          text NOT NULL,
    -- Description, category names and materials: the non-title text that search reads.
    search_text           text NOT NULL,
    published_at          {{timestamp}},
    created_at            {{timestamp}} NOT NULL,
    updated_at            {{timestamp}} NOT NULL
);
CREATE INDEX products_group_idx ON products (group_id, id);
-- Catalogue orders, over published products only.
CREATE INDEX products_newest_idx ON products (published_at DESC, id DESC) WHERE status = 'published';
CREATE INDEX products_price_idx ON products (price, id) WHERE status = 'published';
CREATE INDEX products_share_idx ON products (artisan_share_bps DESC, id DESC) WHERE status = 'published';
CREATE INDEX products_category_newest_idx ON products (category, published_at DESC, id DESC) WHERE status = 'published';
CREATE INDEX products_category_price_idx ON products (category, price, id) WHERE status = 'published';
CREATE INDEX products_place_idx ON products (province, district_key, published_at DESC, id DESC) WHERE status = 'published';

CREATE TABLE product_makers (
    product_id    {{uuid}} NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    artisan_id    {{uuid}} NOT NULL REFERENCES artisans (id),
    labor_minutes integer NOT NULL CHECK (labor_minutes > 0),
    PRIMARY KEY (product_id, artisan_id)
);
CREATE INDEX product_makers_artisan_idx ON product_makers (artisan_id);
