package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"gorm.io/gorm"
)

type productBody struct {
	ID                  string   `json:"id"`
	Title               string   `json:"title"`
	Status              string   `json:"status"`
	Category            string   `json:"category"`
	Stock               int      `json:"stock"`
	InStock             bool     `json:"in_stock"`
	ArtisanShareBPS     int      `json:"artisan_share_bps"`
	MeetsWageBenchmark  bool     `json:"meets_wage_benchmark"`
	EffectiveHourlyWage money    `json:"effective_hourly_wage"`
	Price               money    `json:"price"`
	Materials           []string `json:"materials"`
	Group               struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Province string `json:"province"`
	} `json:"group"`
	Makers []struct {
		ArtisanID    string `json:"artisan_id"`
		DisplayName  string `json:"display_name"`
		LaborMinutes *int   `json:"labor_minutes"`
	} `json:"makers"`
}

type money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

func pkr(amount int64) map[string]any { return map[string]any{"amount": amount, "currency": "PKR"} }

// catalogFixture is a verified Punjab group with a public and a private
// artisan, and an unverified group of another producer.
type catalogFixture struct {
	manager, other, buyer, auditor, admin session
	group, pending                        groupBody
	public, private                       artisanBody
}

func newCatalogFixture(e *env) catalogFixture {
	t := e.t
	t.Helper()
	var f catalogFixture
	f.manager = e.register("manager@example.pk", "producer")
	f.other = e.register("other@example.pk", "producer")
	f.buyer = e.register("buyer@example.pk", "buyer")
	f.auditor = e.staff("auditor@ngo.pk", "auditor")
	f.admin = e.staff("admin@karigar.pk", "admin")
	f.group = e.newGroup(f.manager, "Multan Blue Pottery Women", "Multan", "punjab")
	e.verify(f.admin, f.group.ID)
	f.pending = e.newGroup(f.other, "Pending Khussa Group", "Bahawalpur", "punjab")
	for _, a := range []struct {
		dst    *artisanBody
		name   string
		public bool
	}{{&f.public, "Shazia", true}, {&f.private, "Rukhsana", false}} {
		res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/artisans", map[string]any{"display_name": a.name,
			"full_name": a.name + " Secret-Surname", "district": "Multan", "phone": "03009998887", "public_profile": a.public},
			bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, a.dst)
	}
	return f
}

// The contract's worked example: Rs 3,000, materials 500, packaging 50, 4 h
// at Rs 250/h, fund 20% (PATCHed on the group).
func (f catalogFixture) product(title, category string, price int64) map[string]any {
	return map[string]any{
		"title": title, "description": "Hand-painted by the women of Multan.", "category": category,
		"materials": []string{"clay", "cobalt glaze"}, "images": []string{"https://img.example.pk/a.jpg"},
		"price": pkr(price), "stock": 5,
		"cost":   map[string]any{"materials": pkr(50000), "packaging": pkr(5000), "labor_minutes": 240, "hourly_wage": pkr(25000)},
		"makers": []map[string]any{{"artisan_id": f.public.ID, "labor_minutes": 180}, {"artisan_id": f.private.ID, "labor_minutes": 60}},
	}
}

func (e *env) newProduct(f catalogFixture, body map[string]any, publish bool) productBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/products", body, bearer(f.manager.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	var p productBody
	res.decode(e.t, &p)
	if publish {
		res = e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.manager.AccessToken))
		res.wantStatus(e.t, http.StatusOK)
		res.decode(e.t, &p)
	}
	return p
}

func TestProductLifecycle(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		e.do("PATCH", "/api/v1/groups/"+f.group.ID, map[string]any{"profit_sharing": map[string]any{"method": "labor_hours",
			"collective_fund_bps": 2000}}, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		create := "/api/v1/groups/" + f.group.ID + "/products"

		p := e.newProduct(f, f.product("Multani blue pottery vase", "pottery", 300000), false)
		t.Run("create201", func(t *testing.T) {
			// The split of contract section 5: (100000 labour + 84800 group margin) of 300000.
			if p.Status != "draft" || p.ArtisanShareBPS != 6160 || p.EffectiveHourlyWage.Amount != 46200 || !p.MeetsWageBenchmark {
				t.Fatalf("product %+v", p)
			}
			if len(p.Makers) != 2 || p.Makers[0].LaborMinutes == nil {
				t.Fatalf("the manager should see both makers with minutes: %+v", p.Makers)
			}
		})
		t.Run("draft is private", func(t *testing.T) {
			e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
			e.do("GET", "/api/v1/products/"+p.ID, nil).wantError(t, 404, "not_found")
			e.do("GET", "/api/v1/products/"+p.ID, nil, bearer(f.buyer.AccessToken)).wantError(t, 404, "not_found")
			e.do("GET", "/api/v1/products/"+p.ID, nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
			e.do("GET", "/api/v1/products/"+p.ID, nil, bearer(f.auditor.AccessToken)).wantStatus(t, 200)
			e.do("GET", "/api/v1/products/"+p.ID, nil, bearer(f.manager.AccessToken)).wantStatus(t, 200)
		})
		t.Run("create422", func(t *testing.T) {
			before := e.count("products", "")
			cases := map[string]struct {
				change func(map[string]any)
				field  string
			}{
				"negative price": {func(b map[string]any) { b["price"] = pkr(-1) }, "price.amount"},
				"other currency": {func(b map[string]any) { b["price"] = map[string]any{"amount": 300000, "currency": "USD"} }, "price.currency"},
				"negative stock": {func(b map[string]any) { b["stock"] = -1 }, "stock"},
				"minutes do not add up": {func(b map[string]any) {
					b["makers"] = []map[string]any{{"artisan_id": f.public.ID, "labor_minutes": 100}}
				}, "makers"},
				"unknown category":     {func(b map[string]any) { b["category"] = "spaceships" }, "category"},
				"price short of costs": {func(b map[string]any) { b["price"] = pkr(100000) }, "price.amount"},
				"missing title":        {func(b map[string]any) { delete(b, "title") }, "title"},
				"bad image":            {func(b map[string]any) { b["images"] = []string{"javascript:alert(1)"} }, "images"},
			}
			for name, tc := range cases {
				body := f.product("Vase", "pottery", 300000)
				tc.change(body)
				er := e.do("POST", create, body, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
				if er.Error.Fields[tc.field] == "" {
					t.Errorf("%s: fields %v, want %s", name, er.Error.Fields, tc.field)
				}
			}
			// Costs 155000 + fees of 10% and 3%: the least covering price is 178159
			// (fees 17815 + 5344 = 23159, margin 0), 78159 more than 100000.
			body := f.product("Vase", "pottery", 100000)
			er := e.do("POST", create, body, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
			if !strings.Contains(er.Error.Fields["price.amount"], "Rs 781.59 short") {
				t.Errorf("shortfall message %q", er.Error.Fields["price.amount"])
			}
			if after := e.count("products", ""); after != before {
				t.Fatalf("refused products were written: %d", after-before)
			}
		})
		t.Run("maker from another group", func(t *testing.T) {
			res := e.do("POST", "/api/v1/groups/"+f.pending.ID+"/artisans", map[string]any{"display_name": "Z", "full_name": "Z Z",
				"district": "Bahawalpur"}, bearer(f.other.AccessToken))
			res.wantStatus(t, 201)
			var outsider artisanBody
			res.decode(t, &outsider)
			body := f.product("Vase", "pottery", 300000)
			body["makers"] = []map[string]any{{"artisan_id": outsider.ID, "labor_minutes": 240}}
			er := e.do("POST", create, body, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
			if er.Error.Fields["makers[0].artisan_id"] == "" {
				t.Fatalf("fields %v", er.Error.Fields)
			}
		})
		t.Run("roles", func(t *testing.T) {
			body := f.product("Vase", "pottery", 300000)
			e.do("POST", create, body).wantError(t, 401, "unauthorized")
			e.do("POST", create, body, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
			e.do("POST", create, body, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
			e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": 1}, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
			e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		})
		t.Run("update", func(t *testing.T) {
			var got productBody
			res := e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": 9, "price": pkr(400000)}, bearer(f.manager.AccessToken))
			res.wantStatus(t, 200)
			res.decode(t, &got)
			if got.Stock != 9 || got.Price.Amount != 400000 || got.ArtisanShareBPS <= 6160 {
				t.Fatalf("after patch %+v", got)
			}
			e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"cost": map[string]any{"labor_minutes": 100}},
				bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")
			e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": -3}, bearer(f.manager.AccessToken)).
				wantError(t, 422, "validation_failed")
		})
		t.Run("publish and archive", func(t *testing.T) {
			noMakers := f.product("Plate", "pottery", 300000)
			delete(noMakers, "makers")
			bare := e.newProduct(f, noMakers, false)
			e.do("POST", "/api/v1/products/"+bare.ID+"/publish", nil, bearer(f.manager.AccessToken)).wantError(t, 422, "validation_failed")

			var pub productBody
			res := e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.manager.AccessToken))
			res.wantStatus(t, 200)
			res.decode(t, &pub)
			if pub.Status != "published" {
				t.Fatalf("status %s", pub.Status)
			}
			e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")

			var public productBody
			res = e.do("GET", "/api/v1/products/"+p.ID, nil)
			res.wantStatus(t, 200)
			res.decode(t, &public)
			if len(public.Makers) != 1 || public.Makers[0].DisplayName != "Shazia" || public.Makers[0].LaborMinutes != nil {
				t.Fatalf("the public should see only the public maker, without minutes: %+v", public.Makers)
			}
			if strings.Contains(string(res.Body), "Secret-Surname") || strings.Contains(string(res.Body), "Rukhsana") ||
				strings.Contains(string(res.Body), "03009998887") {
				t.Fatalf("the product page leaks a worker's private data: %s", res.Body)
			}

			e.do("POST", "/api/v1/products/"+p.ID+"/archive", nil, bearer(f.manager.AccessToken)).wantStatus(t, 200)
			e.do("POST", "/api/v1/products/"+p.ID+"/archive", nil, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
			e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": 1}, bearer(f.manager.AccessToken)).wantError(t, 409, "invalid_state")
			e.do("GET", "/api/v1/products/"+p.ID, nil).wantError(t, 404, "not_found")
		})
		t.Run("unverified group cannot publish", func(t *testing.T) {
			res := e.do("POST", "/api/v1/groups/"+f.pending.ID+"/artisans", map[string]any{"display_name": "Y", "full_name": "Y Y",
				"district": "Bahawalpur"}, bearer(f.other.AccessToken))
			var a artisanBody
			res.decode(t, &a)
			body := f.product("Khussa", "footwear", 300000)
			body["makers"] = []map[string]any{{"artisan_id": a.ID, "labor_minutes": 240}}
			res = e.do("POST", "/api/v1/groups/"+f.pending.ID+"/products", body, bearer(f.other.AccessToken))
			res.wantStatus(t, 201)
			var p productBody
			res.decode(t, &p)
			e.do("POST", "/api/v1/products/"+p.ID+"/publish", nil, bearer(f.other.AccessToken)).wantError(t, 409, "invalid_state")
		})
	})
}

func listProducts(t *testing.T, e *env, query string) listBody[productBody] {
	t.Helper()
	var l listBody[productBody]
	res := e.do("GET", "/api/v1/products?"+query, nil)
	res.wantStatus(t, 200)
	res.decode(t, &l)
	return l
}

func titles(l listBody[productBody]) string {
	var out []string
	for _, p := range l.Data {
		out = append(out, p.Title)
	}
	return strings.Join(out, ",")
}

func TestCatalogueFiltersAndSorts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		e.newProduct(f, f.product("Cheap vase", "pottery", 200000), true)
		e.newProduct(f, f.product("Dear vase", "pottery", 900000), true)
		out := f.product("Sold-out plate", "pottery", 400000)
		out["stock"] = 0
		e.newProduct(f, out, true)
		e.newProduct(f, f.product("Draft bowl", "pottery", 300000), false)
		low := f.product("Underpaid jug", "pottery", 135000)
		low["cost"] = map[string]any{"materials": pkr(50000), "packaging": pkr(5000), "labor_minutes": 240, "hourly_wage": pkr(15000)}
		e.newProduct(f, low, true)

		if got := titles(listProducts(t, e, "")); got != "Underpaid jug,Sold-out plate,Dear vase,Cheap vase" {
			t.Fatalf("newest: %s", got)
		}
		if got := titles(listProducts(t, e, "sort=price_asc")); got != "Underpaid jug,Cheap vase,Sold-out plate,Dear vase" {
			t.Fatalf("price_asc: %s", got)
		}
		if got := titles(listProducts(t, e, "sort=price_desc&in_stock=true")); got != "Dear vase,Cheap vase,Underpaid jug" {
			t.Fatalf("price_desc in stock: %s", got)
		}
		if got := titles(listProducts(t, e, "min_price=200000&max_price=400000&sort=price_asc")); got != "Cheap vase,Sold-out plate" {
			t.Fatalf("price range: %s", got)
		}
		if got := titles(listProducts(t, e, "fair_wage=true&sort=price_asc")); strings.Contains(got, "Underpaid") || got == "" {
			t.Fatalf("fair_wage: %s", got)
		}
		share := listProducts(t, e, "sort=artisan_share_desc")
		for i := 1; i < len(share.Data); i++ {
			if share.Data[i-1].ArtisanShareBPS < share.Data[i].ArtisanShareBPS {
				t.Fatalf("artisan_share_desc out of order: %+v", share.Data)
			}
		}
		if got := titles(listProducts(t, e, "province=sindh")); got != "" {
			t.Fatalf("sindh: %s", got)
		}
		if got := titles(listProducts(t, e, "district=MULTAN&group_id="+f.group.ID+"&category=pottery&currency=PKR")); len(got) == 0 {
			t.Fatal("district/group/category filters found nothing")
		}
		for _, bad := range []string{"category=spaceships", "province=mars", "sort=cheapest", "min_price=-1", "max_price=abc",
			"in_stock=yes", "fair_wage=1", "group_id=x", "currency=USD", "limit=0", "cursor=abc"} {
			e.do("GET", "/api/v1/products?"+bad, nil).wantError(t, 400, "bad_request")
		}

		var cats listBody[struct {
			Slug         string `json:"slug"`
			ProductCount int    `json:"product_count"`
		}]
		e.do("GET", "/api/v1/categories", nil).decode(t, &cats)
		counts := map[string]int{}
		for _, c := range cats.Data {
			counts[c.Slug] = c.ProductCount
		}
		if len(cats.Data) != 11 || counts["pottery"] != 4 || counts["quilts"] != 0 {
			t.Fatalf("categories %+v", cats.Data)
		}
	})
}

// GET /categories reads counts that the products table keeps (migration
// 0028): after each way a product enters or leaves the catalogue, or moves
// between categories, they equal a count of the products themselves, and a
// checkout's stock change leaves them alone.
func TestCategoryCountsFollowProducts(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		check := func(step string) {
			t.Helper()
			var cats listBody[struct {
				Slug         string `json:"slug"`
				ProductCount int64  `json:"product_count"`
			}]
			e.do("GET", "/api/v1/categories", nil).decode(t, &cats)
			for _, c := range cats.Data {
				if want := e.count("products", "category = ? AND status = ?", c.Slug, "published"); c.ProductCount != want {
					t.Fatalf("%s: %s counts %d, has %d published", step, c.Slug, c.ProductCount, want)
				}
			}
		}
		check("at first")
		a := e.newProduct(f, f.product("Vase A", "pottery", 300000), true)
		b := e.newProduct(f, f.product("Vase B", "pottery", 310000), true)
		e.newProduct(f, f.product("Vase draft", "pottery", 320000), false)
		check("after two publications and a draft")
		e.do("PATCH", "/api/v1/products/"+a.ID, map[string]any{"category": "textiles"}, bearer(f.manager.AccessToken)).
			wantStatus(t, http.StatusOK)
		check("after a published product moved to textiles")
		e.do("PATCH", "/api/v1/products/"+a.ID, map[string]any{"title": "Vase A, renamed"}, bearer(f.manager.AccessToken)).
			wantStatus(t, http.StatusOK)
		check("after an edit that leaves the category")
		e.do("POST", "/api/v1/products/"+b.ID+"/archive", nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)
		check("after an archive")
		if err := e.db.Exec("UPDATE products SET stock = stock - 1 WHERE id = ?", a.ID).Error; err != nil {
			t.Fatal(err)
		}
		check("after a stock change")
		// No route deletes a published product; an administrator's cleanup might.
		for _, q := range []string{"DELETE FROM product_makers WHERE product_id = ?", "DELETE FROM products WHERE id = ?"} {
			if err := e.db.Exec(q, a.ID).Error; err != nil {
				t.Fatal(err)
			}
		}
		check("after a published product was deleted")
		if e.count("products", "status = ?", "published") != 0 || e.count("products", "1 = 1") != 2 {
			t.Fatalf("%d products left, %d published: the steps did not run as meant",
				e.count("products", "1 = 1"), e.count("products", "status = ?", "published"))
		}
	})
}

// Keyset pagination: paging through every order while new products are
// published between pages yields every product that existed at the start
// exactly once.
func TestCataloguePaginationWhileAdding(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		for i := range 7 {
			e.newProduct(f, f.product(fmt.Sprintf("Vase %d", i), "pottery", int64(300000+(i%3)*1000)), true)
		}
		for _, sort := range []string{"newest", "price_asc", "price_desc", "artisan_share_desc", "relevance&q=vase"} {
			seen := map[string]int{}
			cursor := ""
			for pages := 0; ; pages++ {
				q := "limit=2&sort=" + sort
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				l := listProducts(t, e, q)
				for _, p := range l.Data {
					seen[p.Title]++
				}
				e.newProduct(f, f.product(fmt.Sprintf("Added vase %s %d", sort, pages), "pottery", 301000), true)
				if l.NextCursor == nil {
					break
				}
				cursor = *l.NextCursor
				if pages > 30 {
					t.Fatalf("%s: pagination does not end", sort)
				}
			}
			for i := range 7 {
				if n := seen[fmt.Sprintf("Vase %d", i)]; n != 1 {
					t.Errorf("%s: Vase %d seen %d times", sort, i, n)
				}
			}
			for title, n := range seen {
				if n > 1 {
					t.Errorf("%s: %s seen %d times", sort, title, n)
				}
			}
		}
		first := listProducts(t, e, "limit=2&sort=price_asc")
		e.do("GET", "/api/v1/products?limit=2&sort=price_desc&cursor="+url.QueryEscape(*first.NextCursor), nil).
			wantError(t, 400, "bad_request")
	})
}

func TestCatalogueSearch(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		for _, p := range []struct{ title, desc, category string }{
			{"Sindhi ralli quilt — رلی", "Patchwork quilt stitched by hand.", "quilts"},
			{"Ajrak block-printed shawl — اجرک", "Indigo and madder dyes.", "block_prints"},
			{"Phulkari dupatta — پھلکاری", "Silk floss darning stitch.", "embroidery"},
			{"Multani khussa — کھسہ", "Leather shoes with zari.", "footwear"},
			{"Cotton cushion cover", "Decorated in the ralli style of Thar.", "textiles"},
			{"Mango achar", "Grandmother's recipe in mustard oil.", "pickles"},
		} {
			body := f.product(p.title, p.category, 300000)
			body["description"] = p.desc
			body["materials"] = []string{"cotton"}
			if p.category == "pickles" { // food declares its facts (contract section 13)
				body["food"] = map[string]any{"ingredients": "raw mango, mustard oil, salt", "shelf_life_days": 180}
			}
			e.newProduct(f, body, true)
		}
		cases := map[string]string{
			"ralli":    "Sindhi ralli quilt — رلی,Cotton cushion cover", // title match ranks above description match
			"ajrak":    "Ajrak block-printed shawl — اجرک",
			"اجرک":     "Ajrak block-printed shawl — اجرک",
			"رلی":      "Sindhi ralli quilt — رلی",
			"phulkari": "Phulkari dupatta — پھلکاری",
			"phulkri":  "Phulkari dupatta — پھلکاری", // misspelt
			"khussa":   "Multani khussa — کھسہ",
			"achar":    "Mango achar",
			"quilts":   "Sindhi ralli quilt — رلی", // stemmed
		}
		for q, want := range cases {
			if got := titles(listProducts(t, e, "q="+url.QueryEscape(q))); got != want {
				t.Errorf("q=%s: got %q, want %q", q, got, want)
			}
		}
		if got := titles(listProducts(t, e, "q=zzzzqqq")); got != "" {
			t.Errorf("nonsense query found %q", got)
		}
		if got := titles(listProducts(t, e, "q=ralli&category=textiles")); got != "Cotton cushion cover" {
			t.Errorf("search with a filter: %q", got)
		}
	})
}

// A search pages through title matches (newest first) and then the other
// matches (newest first), each product once, while products are added
// between pages; a misspelt search pages through the same matches the same way.
func TestCatalogueSearchPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		var want []string
		for i := range 4 {
			body := f.product(fmt.Sprintf("Cushion %d", i), "textiles", 300000)
			body["description"] = "In the ralli style of Thar."
			e.newProduct(f, body, true)
			want = append([]string{fmt.Sprintf("Cushion %d", i)}, want...)
		}
		var titleFirst []string
		for i := range 5 {
			e.newProduct(f, f.product(fmt.Sprintf("Ralli quilt %d", i), "quilts", 300000), true)
			titleFirst = append([]string{fmt.Sprintf("Ralli quilt %d", i)}, titleFirst...)
		}
		want = append(titleFirst, want...)
		for _, search := range []struct{ q, want string }{
			{"ralli", strings.Join(want, ",")},
			{"rallii", strings.Join(want, ",")}, // misspelt
		} {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				q := "limit=2&q=" + search.q
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				l := listProducts(t, e, q)
				for _, p := range l.Data {
					if !strings.HasPrefix(p.Title, "Added") {
						got = append(got, p.Title)
					}
				}
				e.newProduct(f, f.product(fmt.Sprintf("Added ralli quilt %s %d", search.q, pages), "quilts", 301000), true)
				if l.NextCursor == nil {
					break
				}
				cursor = *l.NextCursor
				if pages > 20 {
					t.Fatalf("q=%s: pagination does not end", search.q)
				}
			}
			if g := strings.Join(got, ","); g != search.want {
				t.Errorf("q=%s pages:\n got %s\nwant %s", search.q, g, search.want)
			}
		}
	})
}

// Listing products is one query whatever the page size: no N+1. The
// statements are counted where they leave for the database, so a query
// gorm never sees counts too.
func TestCatalogueListIsOneQuery(t *testing.T) {
	t.Parallel()
	modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
		logged, log := models.LogStatements(db)
		e := newEnv(t, logged)
		f := newCatalogFixture(e)
		for i := range 12 {
			e.newProduct(f, f.product(fmt.Sprintf("Vase %d", i), "pottery", 300000), true)
		}
		for _, query := range []string{"limit=2&sort=price_asc", "limit=10&sort=price_asc", "limit=10&q=vase&sort=price_asc"} {
			log.Reset()
			l := listProducts(t, e, query)
			sent := log.Entries()
			want := 1
			if strings.Contains(query, "q=") {
				want = 2 // whether the words as typed match anything, then the page
			}
			if len(l.Data) == 0 || len(sent) != want {
				t.Fatalf("%s: %d items in %d statements, want %d:\n%s", query, len(l.Data), len(sent), want, strings.Join(sent, "\n"))
			}
		}
	})
}
