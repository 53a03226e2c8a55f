package seed

import (
	"strings"
	"testing"
)

// TestDemoDataIsConsistent checks the rules the demo data set must keep:
// counts, slugs, maker indexes and that every price covers its costs.
func TestDemoDataIsConsistent(t *testing.T) {
	provinces := map[string]bool{
		"punjab": true, "sindh": true, "khyber_pakhtunkhwa": true,
		"balochistan": true, "gilgit_baltistan": true,
	}
	categories := map[string]bool{
		"embroidery": true, "quilts": true, "block_prints": true, "textiles": true,
		"pottery": true, "woodwork": true, "footwear": true, "basketry": true,
		"jewellery": true, "pickles": true, "food": true,
	}
	methods := map[string]bool{"labor_hours": true, "units_made": true, "equal": true}
	genders := map[string]bool{"woman": true, "man": true, "transgender": true, "undisclosed": true}

	if n := len(demoGroups); n < 10 || n > 14 {
		t.Errorf("got %d groups, want 10–14", n)
	}

	keys := map[string]bool{}
	var artisans, products int
	var titles []string
	for _, g := range demoGroups {
		if g.Key == "" {
			t.Errorf("group %q has an empty key", g.Name)
		}
		if keys[g.Key] {
			t.Errorf("duplicate group key %q", g.Key)
		}
		keys[g.Key] = true
		if g.Name == "" || g.Description == "" || g.District == "" {
			t.Errorf("group %q: name, description and district must be set", g.Key)
		}
		if !provinces[g.Province] {
			t.Errorf("group %q: unknown province %q", g.Key, g.Province)
		}
		if !methods[g.Method] {
			t.Errorf("group %q: unknown method %q", g.Key, g.Method)
		}
		if g.CollectiveFundBPS < 500 || g.CollectiveFundBPS > 2500 {
			t.Errorf("group %q: collective fund %d bps, want 500–2500", g.Key, g.CollectiveFundBPS)
		}
		if g.ShippingFee < 15000 || g.ShippingFee > 40000 {
			t.Errorf("group %q: shipping fee %d paisa, want 15000–40000", g.Key, g.ShippingFee)
		}
		if len(g.Artisans) == 0 {
			t.Errorf("group %q has no artisans", g.Key)
		}
		for i, a := range g.Artisans {
			if a.DisplayName == "" || a.FullName == "" || a.District == "" {
				t.Errorf("group %q artisan %d: names and district must be set", g.Key, i)
			}
			if !genders[a.Gender] {
				t.Errorf("group %q artisan %q: unknown gender %q", g.Key, a.FullName, a.Gender)
			}
			if len(a.Skills) == 0 {
				t.Errorf("group %q artisan %q has no skills", g.Key, a.FullName)
			}
		}
		artisans += len(g.Artisans)
		products += len(g.Products)

		for _, p := range g.Products {
			titles = append(titles, p.Title)
			if p.Title == "" || p.Description == "" || len(p.Materials) == 0 {
				t.Errorf("group %q product %q: title, description and materials must be set", g.Key, p.Title)
			}
			if !categories[p.Category] {
				t.Errorf("product %q: unknown category %q", p.Title, p.Category)
			}
			if p.LaborMinutes < 1 {
				t.Errorf("product %q: LaborMinutes %d, want ≥ 1", p.Title, p.LaborMinutes)
			}
			if p.Price <= 0 || p.HourlyWage <= 0 || p.MaterialsCost < 0 || p.PackagingCost < 0 {
				t.Errorf("product %q: price and wage must be positive and costs not negative", p.Title)
			}
			if p.Stock < 0 {
				t.Errorf("product %q: negative stock %d", p.Title, p.Stock)
			}
			labour := int64(p.LaborMinutes) * p.HourlyWage / 60
			fees := p.Price * 1300 / 10000
			if margin := p.Price - labour - p.MaterialsCost - p.PackagingCost - fees; margin < 0 {
				t.Errorf("product %q: price %d does not cover costs (margin %d)", p.Title, p.Price, margin)
			}
			if len(p.Makers) == 0 {
				t.Errorf("product %q has no makers", p.Title)
			}
			seen := map[int]bool{}
			for _, m := range p.Makers {
				if m < 0 || m >= len(g.Artisans) {
					t.Errorf("product %q: maker index %d out of range (group has %d artisans)", p.Title, m, len(g.Artisans))
				}
				if seen[m] {
					t.Errorf("product %q: maker index %d repeated", p.Title, m)
				}
				seen[m] = true
			}
		}
	}

	if artisans < 50 || artisans > 70 {
		t.Errorf("got %d artisans, want 50–70", artisans)
	}
	if products < 140 || products > 160 {
		t.Errorf("got %d products, want 140–160", products)
	}

	for _, word := range []string{"ralli", "ajrak", "phulkari", "khussa", "achar", "اجرک", "رلی"} {
		found := false
		for _, title := range titles {
			if strings.Contains(strings.ToLower(title), strings.ToLower(word)) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("no product title contains %q", word)
		}
	}
}
