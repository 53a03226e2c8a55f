-- The catalogue by price within a province (?province=sindh&sort=price_asc,
-- and price_desc read backwards). Through products_price_idx alone, the first
-- page lies as far along the price order as the province's cheapest product:
-- on 100,000 products Balochistan's read 2,300 pages (52 ms) where 1,000
-- products needed 200. With the province first, a page reads the same few
-- pages at any size, as products_category_price_idx does for a category.
CREATE INDEX products_province_price_idx ON products (province, price, id) WHERE status = 'published';
