package catalog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
)

// FoodCategories are the categories whose products are food and carry its
// facts: ingredients, allergens, shelf life and the food authority's
// licence.
var FoodCategories = []string{"food", "pickles"}

// FreshFoodDays is the longest shelf life of food sold only through order
// cycles: it is made to the week's orders and handed over at a market
// stall or in a delivery zone, never sent by courier.
const FreshFoodDays = 7

// MaxShelfLifeDays bounds a food's declared shelf life (ten years).
const MaxShelfLifeDays = 3650

// FoodInput is the food facts a manager declares; in an update it replaces
// them all.
type FoodInput struct {
	Ingredients   *string
	Allergens     []string
	ShelfLifeDays *int
	LicenceNumber *string // the provincial food authority's; optional
}

// IsFood reports whether category is one of FoodCategories.
func IsFood(category string) bool { return slices.Contains(FoodCategories, category) }

// CycleOnly reports whether p may be ordered only inside an order cycle:
// food that keeps FreshFoodDays or less.
func CycleOnly(p models.Product) bool {
	return p.FoodShelfLifeDays != nil && *p.FoodShelfLifeDays <= FreshFoodDays
}

// applyFood validates the food facts against p's category (as the update
// leaves it) and sets them: required for the food categories, refused for
// the others, cleared when a product moves out of the food categories.
func applyFood(p *models.Product, in *FoodInput, fe *services.FieldErrors) {
	food := IsFood(p.Category)
	switch {
	case in != nil && !food:
		fe.Add("food", fmt.Sprintf("is only for the food categories (%s)", strings.Join(FoodCategories, ", ")))
	case in != nil:
		ingredients := ""
		if in.Ingredients != nil {
			ingredients = strings.TrimSpace(*in.Ingredients)
		}
		fe.Check(!services.TextWithin(ingredients, 1, 2000), "food.ingredients",
			"is required: what the food is made of, as its label says (at most 2000 characters)")
		allergens := trimAll(in.Allergens)
		fe.Check(len(allergens) > 20, "food.allergens", "must list at most 20 allergens")
		for _, a := range allergens {
			fe.Check(!services.TextWithin(a, 1, 60), "food.allergens", "each allergen must be 1 to 60 characters")
		}
		fe.Check(in.ShelfLifeDays == nil, "food.shelf_life_days", "is required: how many days the food keeps")
		fe.Check(in.ShelfLifeDays != nil && (*in.ShelfLifeDays < 1 || *in.ShelfLifeDays > MaxShelfLifeDays), "food.shelf_life_days",
			fmt.Sprintf("must be from 1 to %d days", MaxShelfLifeDays))
		var licence *string
		if in.LicenceNumber != nil {
			l := strings.TrimSpace(*in.LicenceNumber)
			fe.Check(!services.TextWithin(l, 0, 64), "food.licence_number", "must be at most 64 characters")
			if l != "" {
				licence = &l
			}
		}
		p.FoodIngredients, p.FoodAllergens, p.FoodShelfLifeDays, p.FoodLicenceNumber = &ingredients, allergens, in.ShelfLifeDays, licence
	case food && p.FoodShelfLifeDays == nil:
		fe.Add("food", fmt.Sprintf("is required for the food categories (%s): ingredients, allergens and shelf_life_days",
			strings.Join(FoodCategories, ", ")))
	case !food:
		p.FoodIngredients, p.FoodAllergens, p.FoodShelfLifeDays, p.FoodLicenceNumber = nil, nil, nil, nil
	}
}
