// Command targets writes vegeta JSON targets for the loads that need a
// fresh Idempotency-Key per request, from the plan.json that bench/seed
// wrote: -n of them, or an endless stream with -n 0.
//
//	go run ./bench/targets -plan DIR/plan.json -load checkout -n 40000 >checkout.json
//	vegeta attack -format=json -targets checkout.json …
//
// bench/run writes them to a file before each attack: generating them while
// vegeta reads them (-lazy) took a fifth of this 2-core machine during the
// checkout load, time the server then did not have (pgbench makes its
// transactions in C at almost no cost).
//
// checkout: POST /api/v1/orders, one unit of a random published product,
// cash on delivery, by the buyers in turn. payout: POST
// /api/v1/groups/{id}/payouts of 1 paisa, to the group's two artisans in
// turn, by its manager. It stops when vegeta stops reading.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"time"
)

type plan struct {
	Base         string   `json:"base"`
	Buyers       []string `json:"buyers"`
	Products     []string `json:"products"`
	Group        string   `json:"group"`
	ManagerToken string   `json:"manager_token"`
	Artisans     []string `json:"artisans"`
	Currency     string   `json:"currency"`
}

// target is vegeta's JSON target format; Body is base64 in it, which
// encoding/json does for a []byte.
type target struct {
	Method string      `json:"method"`
	URL    string      `json:"url"`
	Body   []byte      `json:"body"`
	Header http.Header `json:"header"`
}

func main() {
	planPath := flag.String("plan", "bench-out/plan.json", "bench/seed's plan.json")
	load := flag.String("load", "checkout", "checkout or payout")
	n := flag.Int("n", 0, "how many targets (0: until the reader stops reading)")
	flag.Parse()
	log.SetFlags(0)
	raw, err := os.ReadFile(*planPath)
	if err != nil {
		log.Fatal(err)
	}
	var p plan
	if err := json.Unmarshal(raw, &p); err != nil {
		log.Fatal(err)
	}
	if *load != "checkout" && *load != "payout" {
		log.Fatal("-load must be checkout or payout")
	}
	address := map[string]any{"name": "Bench Buyer", "line1": "House 1", "city": "Lahore", "country": "PK", "phone": "+92 300 1234567"}
	w := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(w)
	run := time.Now().UnixNano()
	for i := 0; *n == 0 || i < *n; i++ {
		var t target
		var body any
		switch *load {
		case "checkout":
			body = map[string]any{"items": []map[string]any{{"product_id": p.Products[rand.IntN(len(p.Products))], "quantity": 1}},
				"shipping_address": address, "payment_method": "cash_on_delivery"}
			t = target{Method: "POST", URL: p.Base + "/api/v1/orders", Header: bearer(p.Buyers[i%len(p.Buyers)])}
		default:
			body = map[string]any{"artisan_id": p.Artisans[i%len(p.Artisans)], "amount": map[string]any{"amount": 1, "currency": p.Currency},
				"method": "cash", "reference": fmt.Sprintf("bench-%d", i)}
			t = target{Method: "POST", URL: p.Base + "/api/v1/groups/" + p.Group + "/payouts", Header: bearer(p.ManagerToken)}
		}
		t.Body, _ = json.Marshal(body)
		t.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", run, i))
		if err := enc.Encode(t); err != nil {
			return // vegeta has stopped reading
		}
		if i%64 == 63 {
			if err := w.Flush(); err != nil {
				return
			}
		}
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
}

func bearer(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
}
