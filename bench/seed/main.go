// Command seed prepares a running Karigar for bench/run's loads, through
// its HTTP API only, and writes what the loads need into a folder:
//
//	go run ./bench/seed -base http://127.0.0.1:18480 -admin-email A -admin-password P -out DIR
//
// Before it: the catalogue from `karigar seed --products N`, and an admin
// account (`karigar admin create --role admin`). It adds buyers with access
// tokens (for checkout) and a verified group with two artisans and one
// product, and sells that product in cash until the artisans' payable
// balances can cover many 1-paisa payouts (for payouts). It writes:
//
//	plan.json    the base URL, the buyers' tokens, the published product ids,
//	             the group, its manager's token and the two artisans, which
//	             bench/targets turns into endless checkout and payout targets
//	list.txt     vegeta targets: GET /api/v1/products?category=textiles&limit=20
//	search.txt   vegeta targets: GET /api/v1/products?q=ralli&limit=20
//	typo.txt     vegeta targets: GET /api/v1/products?q=rali&limit=20
//
// Access tokens last 15 minutes: run the loads right after seeding.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

type plan struct {
	Base         string   `json:"base"`
	Buyers       []string `json:"buyers"` // access tokens
	Products     []string `json:"products"`
	Group        string   `json:"group"`
	ManagerToken string   `json:"manager_token"`
	Artisans     []string `json:"artisans"`
	Currency     string   `json:"currency"`
}

type client struct{ base string }

// call sends body as JSON with token (if any) and decodes a want-status
// answer into out; any other status is fatal.
func (c client) call(method, path, token string, body, out any, want int) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		log.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost {
		req.Header.Set("Idempotency-Key", fmt.Sprintf("seed-%d", time.Now().UnixNano()))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		log.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			log.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

type session struct {
	AccessToken string `json:"access_token"`
}

type idOnly struct {
	ID string `json:"id"`
}

func (c client) register(email, role string) string {
	var s session
	c.call("POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": "bench password 2026",
		"name": "Bench " + role, "role": role}, &s, http.StatusCreated)
	return s.AccessToken
}

func main() {
	base := flag.String("base", "http://127.0.0.1:18480", "Karigar's address")
	ref := flag.String("reference", "http://127.0.0.1:18481", "the reference server's address (for its targets)")
	adminEmail := flag.String("admin-email", "", "an admin account (karigar admin create)")
	adminPassword := flag.String("admin-password", "", "its password")
	buyers := flag.Int("buyers", 32, "buyers with access tokens, for checkout")
	currency := flag.String("currency", "PKR", "the server's KARIGAR_CURRENCY")
	out := flag.String("out", "bench-out", "folder to write plan.json and the targets into")
	flag.Parse()
	log.SetFlags(0)
	c := client{base: *base}
	pkr := func(n int64) map[string]any { return map[string]any{"amount": n, "currency": *currency} }
	run := time.Now().UTC().Format("20060102T150405.000")
	p := plan{Base: *base, Currency: *currency}

	var admin session
	c.call("POST", "/api/v1/auth/login", "", map[string]string{"email": *adminEmail, "password": *adminPassword}, &admin, http.StatusOK)

	// The published catalogue, for checkout: every product, oldest pages too.
	cursor := ""
	for {
		var page struct {
			Data []struct {
				ID       string `json:"id"`
				Category string `json:"category"`
			} `json:"data"`
			NextCursor *string `json:"next_cursor"`
		}
		c.call("GET", "/api/v1/products?limit=100&cursor="+cursor, "", nil, &page, http.StatusOK)
		for _, it := range page.Data {
			// Food may be sold only through order cycles; a plain checkout would be refused.
			if it.Category != "food" && it.Category != "pickles" {
				p.Products = append(p.Products, it.ID)
			}
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if len(p.Products) == 0 {
		log.Fatal("no published products: run karigar seed --products N first")
	}

	// The payout group: verified, two artisans, one product they make.
	p.ManagerToken = c.register("bench-manager+"+run+"@karigar.example", "producer")
	var g idOnly
	c.call("POST", "/api/v1/groups", p.ManagerToken, map[string]any{"name": "Bench payout group " + run,
		"description": "Pays its artisans one paisa at a time.", "district": "Multan", "province": "punjab",
		"registration_number": "BENCH-" + run, "shipping_fee": pkr(25000),
		"profit_sharing": map[string]any{"method": "labor_hours", "collective_fund_bps": 2000}}, &g, http.StatusCreated)
	p.Group = g.ID
	c.call("POST", "/api/v1/admin/groups/"+g.ID+"/verify", admin.AccessToken, nil, nil, http.StatusOK)
	for _, name := range []string{"Shazia", "Rukhsana"} {
		var a idOnly
		c.call("POST", "/api/v1/groups/"+g.ID+"/artisans", p.ManagerToken, map[string]any{"display_name": name,
			"full_name": name + " Bench", "district": "Multan", "public_profile": true}, &a, http.StatusCreated)
		p.Artisans = append(p.Artisans, a.ID)
	}
	var prod idOnly
	c.call("POST", "/api/v1/groups/"+g.ID+"/products", p.ManagerToken, map[string]any{
		"title": "Bench payout vase", "description": "Sold to fund the payouts benchmark.", "category": "pottery",
		"materials": []string{"clay"}, "images": []string{}, "price": pkr(300000), "stock": 1000,
		"cost":   map[string]any{"materials": pkr(50000), "packaging": pkr(5000), "labor_minutes": 240, "hourly_wage": pkr(25000)},
		"makers": []map[string]any{{"artisan_id": p.Artisans[0], "labor_minutes": 120}, {"artisan_id": p.Artisans[1], "labor_minutes": 120}},
	}, &prod, http.StatusCreated)
	c.call("POST", "/api/v1/products/"+prod.ID+"/publish", p.ManagerToken, nil, nil, http.StatusOK)
	// 1,000 units at Rs 500 of labour per maker each: Rs 500,000 (50 million paisa) payable to each artisan.
	funder := c.register("bench-funder+"+run+"@karigar.example", "buyer")
	address := map[string]any{"name": "Bench Buyer", "line1": "House 1", "city": "Lahore", "country": "PK", "phone": "+92 300 1234567"}
	var order idOnly
	c.call("POST", "/api/v1/orders", funder, map[string]any{"items": []map[string]any{{"product_id": prod.ID, "quantity": 1000}},
		"shipping_address": address, "payment_method": "cash_on_delivery"}, &order, http.StatusCreated)
	c.call("POST", "/api/v1/orders/"+order.ID+"/shipments", p.ManagerToken, map[string]any{"group_id": g.ID}, nil, http.StatusOK)
	c.call("POST", "/api/v1/orders/"+order.ID+"/deliver", p.ManagerToken, map[string]any{"group_id": g.ID}, nil, http.StatusOK)

	// Registering hashes a password (bcrypt): a few at a time.
	p.Buyers = make([]string, *buyers)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for i := range p.Buyers {
		wg.Go(func() {
			slots <- struct{}{}
			defer func() { <-slots }()
			p.Buyers[i] = c.register(fmt.Sprintf("bench-buyer%d+%s@karigar.example", i, run), "buyer")
		})
	}
	wg.Wait()

	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(*out, name), []byte(content), 0o644); err != nil {
			log.Fatal(err)
		}
	}
	write("plan.json", string(b)+"\n")
	for name, query := range map[string]string{"list": "category=textiles&limit=20", "search": "q=ralli&limit=20", "typo": "q=rali&limit=20"} {
		write(name+".txt", "GET "+*base+"/api/v1/products?"+query+"\n")
		write(name+"-reference.txt", "GET "+*ref+"/api/v1/products?"+query+"\n")
	}
	fmt.Printf("seeded %d buyers, %d products for checkout, group %s with artisans %v; wrote %s\n",
		len(p.Buyers), len(p.Products), p.Group, p.Artisans, *out)
}
