package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"

	"github.com/karigar/karigar/api/internal/apiclient"
)

// A client generated from docs/openapi.yaml by oapi-codegen, and nothing
// else, carries a buyer from sign-up to a cash order on a real server: the
// spec is complete enough for tools to build on.
func TestGeneratedClientBuyerJourney(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		vase := e.newProduct(f, f.product("Multani blue pottery vase", "pottery", 300000), true)

		srv := httptest.NewServer(e.srv.Handler())
		t.Cleanup(srv.Close)
		anon, err := apiclient.NewClientWithResponses(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()

		role := apiclient.RegisterRequestRoleBuyer
		reg, err := anon.RegisterWithResponse(ctx, nil, apiclient.RegisterJSONRequestBody{
			Email: "client.buyer@example.pk", Password: "a long enough passphrase", Name: "Amina", Role: &role})
		if err != nil || reg.JSON201 == nil {
			t.Fatalf("register: %v, status %d, body %s", err, reg.StatusCode(), reg.Body)
		}
		token := reg.JSON201.AccessToken
		buyer, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithRequestEditorFn(
			func(_ context.Context, r *http.Request) error {
				r.Header.Set("Authorization", "Bearer "+token)
				return nil
			}))
		if err != nil {
			t.Fatal(err)
		}

		list, err := buyer.ListProductsWithResponse(ctx, &apiclient.ListProductsParams{})
		if err != nil || list.JSON200 == nil {
			t.Fatalf("list products: %v, status %d, body %s", err, list.StatusCode(), list.Body)
		}
		if len(list.JSON200.Data) != 1 || list.JSON200.Data[0].Id.String() != vase.ID {
			t.Fatalf("catalogue %+v, want only the vase %s", list.JSON200.Data, vase.ID)
		}
		product := list.JSON200.Data[0]

		tr, err := buyer.GetProductTransparencyWithResponse(ctx, product.Id, nil)
		if err != nil || tr.JSON200 == nil {
			t.Fatalf("transparency: %v, status %d, body %s", err, tr.StatusCode(), tr.Body)
		}
		var sum int64
		for _, l := range tr.JSON200.Lines {
			sum += l.Amount.Amount
		}
		if sum != product.Price.Amount || len(tr.JSON200.Lines) != 7 {
			t.Fatalf("transparency lines %+v sum to %d, want 7 lines summing to %d", tr.JSON200.Lines, sum, product.Price.Amount)
		}

		order := apiclient.CreateOrderJSONRequestBody{
			Items:         []apiclient.OrderLineRequest{{ProductId: product.Id, Quantity: 2}},
			PaymentMethod: apiclient.OrderRequestPaymentMethodCashOnDelivery,
			ShippingAddress: apiclient.Address{Name: "Amina", Line1: "12 Mall Road", City: "Lahore",
				Country: "PK", Phone: "03001234567"},
		}
		params := &apiclient.CreateOrderParams{IdempotencyKey: uuid.NewString()}
		placed, err := buyer.CreateOrderWithResponse(ctx, params, order)
		if err != nil || placed.JSON201 == nil {
			t.Fatalf("create order: %v, status %d, body %s", err, placed.StatusCode(), placed.Body)
		}
		o := placed.JSON201
		if o.Status != apiclient.OrderStatusConfirmed || o.Subtotal.Amount != 2*product.Price.Amount ||
			o.Total.Amount != o.Subtotal.Amount+o.Shipping.Amount {
			t.Fatalf("order %+v, want confirmed for 2 × %d plus shipping", o, product.Price.Amount)
		}
		// The same key and body replay the first answer rather than order twice.
		again, err := buyer.CreateOrderWithResponse(ctx, params, order)
		if err != nil || again.JSON201 == nil || again.JSON201.Id != placed.JSON201.Id {
			t.Fatalf("retry: %v, status %d, body %s", err, again.StatusCode(), again.Body)
		}

		got, err := buyer.GetOrderWithResponse(ctx, placed.JSON201.Id, nil)
		if err != nil || got.JSON200 == nil {
			t.Fatalf("get order: %v, status %d, body %s", err, got.StatusCode(), got.Body)
		}
		if got.JSON200.Id != placed.JSON201.Id || len(got.JSON200.Items) != 1 || got.JSON200.Items[0].Quantity != 2 {
			t.Fatalf("order read back %+v, want the one placed", got.JSON200)
		}
	})
}
