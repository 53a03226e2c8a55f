-- Home-made food (contract section 13): products of the food categories
-- (food, pickles) carry what a buyer must know before eating them. All four
-- are NULL for every other product; services/catalog keeps them set for
-- food and empty otherwise. A shelf life of 7 days or less makes a product
-- one that is sold only through order cycles, never sent by courier.
ALTER TABLE products ADD COLUMN food_ingredients text;
ALTER TABLE products ADD COLUMN food_allergens {{json}};
ALTER TABLE products ADD COLUMN food_shelf_life_days integer CHECK (food_shelf_life_days > 0);
ALTER TABLE products ADD COLUMN food_licence_number text;
