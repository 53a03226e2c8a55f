package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/auth"
)

// BenchmarkFairSalesBatch is a stall's phone sending a full batch: 100 new
// sales of one product each, every one inserted under its id, taken from
// the stall and booked in the ledger, in one request. One op is one batch.
func BenchmarkFairSalesBatch(b *testing.B) {
	eachEngine(b, func(b *testing.B, engine string) {
		h, a := benchServer(b, engine)
		call := func(method, path, token string, body any, want int) map[string]any {
			b.Helper()
			raw, err := json.Marshal(body)
			if err != nil {
				b.Fatal(err)
			}
			req := httptest.NewRequest(method, path, bytes.NewReader(raw))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != want {
				b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body)
			}
			var out map[string]any
			_ = json.Unmarshal(rec.Body.Bytes(), &out)
			return out
		}
		ctx := b.Context()
		manager, err := a.Register(ctx, auth.NewUser{Email: "manager@example.pk", Password: goodPassword, Name: "M", Role: models.RoleProducer})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.CreateUser(ctx, auth.NewUser{Email: "admin@karigar.pk", Password: goodPassword, Name: "A", Role: models.RoleAdmin}); err != nil {
			b.Fatal(err)
		}
		admin, err := a.Login(ctx, auth.Credentials{Email: "admin@karigar.pk", Password: goodPassword, ClientIP: "127.0.0.1"})
		if err != nil {
			b.Fatal(err)
		}
		mt := manager.AccessToken
		g := call("POST", "/api/v1/groups", mt, groupRequest("Multan Blue Pottery Women", "Multan", "punjab"), 201)["id"].(string)
		call("POST", "/api/v1/admin/groups/"+g+"/verify", admin.AccessToken, nil, 200)
		artisan := call("POST", "/api/v1/groups/"+g+"/artisans", mt, map[string]any{"display_name": "Shazia",
			"full_name": "Shazia B", "district": "Multan"}, 201)["id"].(string)
		p := call("POST", "/api/v1/groups/"+g+"/products", mt, map[string]any{"title": "Blue pottery vase",
			"description": "Hand-painted.", "category": "pottery", "materials": []string{"clay"}, "price": pkr(300000), "stock": 10000,
			"cost":   map[string]any{"materials": pkr(50000), "packaging": pkr(5000), "labor_minutes": 240, "hourly_wage": pkr(25000)},
			"makers": []map[string]any{{"artisan_id": artisan, "labor_minutes": 240}}}, 201)["id"].(string)
		call("POST", "/api/v1/products/"+p+"/publish", mt, nil, 200)
		now := time.Now().UTC()
		ev := call("POST", "/api/v1/events", mt, map[string]any{"name": "Mela", "venue": "Lok Virsa", "district": "Islamabad",
			"starts_at": now.Add(-time.Hour).Format(time.RFC3339), "ends_at": now.Add(24 * time.Hour).Format(time.RFC3339)}, 201)["id"].(string)
		call("POST", "/api/v1/events/"+ev+"/stalls", mt, map[string]any{"group_id": g}, 201)
		call("POST", "/api/v1/events/"+ev+"/stock", mt, map[string]any{"product_id": p, "quantity": 10000}, 200)

		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			batch := make([]map[string]any, 100)
			for j := range batch {
				batch[j] = fairSale(uuid.NewString(), now.Add(-time.Duration(i*100+j)*time.Millisecond), "cash", fairItem(p, 1))
			}
			out := call("POST", "/api/v1/events/"+ev+"/sales", mt, map[string]any{"sales": batch}, http.StatusOK)
			if out["applied"].(float64) != 100 {
				b.Fatalf("applied %v", out["applied"])
			}
		}
		b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "sales/s")
	})
}
