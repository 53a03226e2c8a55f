package orders

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/pii"
)

// PostgreSQL's single write of an order leaves the rows the statements of
// writeEach (gorm's Create of the models, then the claim's answer) leave,
// nullable columns set and unset alike.
func TestWriteAtOnceWritesWhatEachWrites(t *testing.T) {
	if !slices.Contains(modelstest.Engines(), "postgres") {
		t.Skip("PostgreSQL only: set " + modelstest.EnvPostgres)
	}
	db := modelstest.Open(t, "postgres")
	box, err := pii.New([]byte("karigar test pii key, 32 bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	store, err := idempotency.New(db, idempotency.Options{Secret: []byte("0123456789abcdef0123"), PII: box})
	if err != nil {
		t.Fatal(err)
	}
	user := models.NewID()
	answer := idempotency.Response{Status: 201, ContentType: "application/json; charset=utf-8", Location: "/api/v1/orders/x",
		Body: []byte(`{"id":"x"}`)}
	now := time.Now().UTC().Truncate(time.Microsecond)
	ref, carrier, tracking, cash := "pi_1", "TCS", "T-1", int64(1200)
	cycle, slot := models.NewID(), models.NewID()
	full := func(o *Order) {
		expires := now.Add(time.Hour)
		o.ProviderRef, o.ExpiresAt, o.OrderCycleID, o.CycleSlotID, o.Note = &ref, &expires, &cycle, &slot, "a note"
		for i := range o.Groups {
			g := &o.Groups[i]
			g.Carrier, g.TrackingNumber, g.ShippedAt, g.DeliveredAt, g.CashCollected = &carrier, &tracking, &now, &now, &cash
		}
	}
	for _, set := range []bool{false, true} {
		t.Run(fmt.Sprintf("nullables set %v", set), func(t *testing.T) {
			err := db.Transaction(func(tx *gorm.DB) error {
				// Temporary copies without the foreign keys shadow the tables,
				// so the rows need no buyer, products or groups (nor the indexes: both
				// samples hold one provider reference).
				for _, table := range []string{"orders", "order_lines", "order_groups", "idempotency_keys"} {
					if err := tx.Exec("CREATE TEMP TABLE " + table + " (LIKE " + table + " INCLUDING DEFAULTS) ON COMMIT DROP").Error; err != nil {
						return err
					}
				}
				var written [2]uuid.UUID
				for i, write := range []func(*gorm.DB, *Order, *idempotency.Answer) error{writeEach, writeAtOnce} {
					o := sampleOrder(user, now)
					if set {
						full(&o)
					}
					written[i] = o.ID
					key := o.ID.String()
					if err := tx.Create(&models.IdempotencyKey{UserID: user, Key: key, RequestHash: "h", CreatedAt: now,
						ExpiresAt: now.Add(time.Hour)}).Error; err != nil {
						return err
					}
					a, err := store.Claim(user, key, idempotency.Request{}).Answer(answer)
					if err != nil {
						return err
					}
					if err := write(tx, &o, &a); err != nil {
						return err
					}
				}
				for _, q := range []string{
					"SELECT * FROM orders WHERE id = ?",
					"SELECT * FROM order_lines WHERE order_id = ? ORDER BY position",
					"SELECT * FROM order_groups WHERE order_id = ? ORDER BY group_id",
					"SELECT status, content_type, location, request_hash, created_at, expires_at FROM idempotency_keys WHERE key = CAST(? AS text)",
				} {
					each, once := rowsOf(t, tx, q, written[0]), rowsOf(t, tx, q, written[1])
					if len(each) == 0 || each != once {
						t.Errorf("%s\neach: %s\nonce: %s", q, each, once)
					}
				}
				var bodies []string
				if err := tx.Raw("SELECT response_body FROM idempotency_keys ORDER BY key").Scan(&bodies).Error; err != nil {
					return err
				}
				for _, b := range bodies {
					if plain, err := box.Open(b); !pii.IsSealed(b) || err != nil || plain != string(answer.Body) {
						t.Errorf("stored answer %q: %q, %v", b, plain, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

// sampleOrder is an order of two lines from two groups, as book writes it.
func sampleOrder(buyer uuid.UUID, now time.Time) Order {
	id := models.NewID()
	g1, g2 := models.NewID(), models.NewID()
	o := Order{Order: models.Order{ID: id, BuyerID: buyer, Status: models.OrderConfirmed, PaymentMethod: models.PayCashOnDelivery,
		PaymentStatus: models.PaymentDue, Currency: "PKR", Subtotal: 5000, Shipping: 400, Total: 5400, ShippingAddress: "sealed",
		CreatedAt: now, UpdatedAt: now}}
	for i, g := range []uuid.UUID{g1, g2} {
		o.Lines = append(o.Lines, models.OrderLine{OrderID: id, Position: i + 1, ProductID: models.NewID(), GroupID: g, Title: "Vase",
			UnitPrice: 2500, Quantity: 1, LineTotal: 2500, UnitMaterials: 300, UnitPackaging: 50, HourlyWage: 400, PlatformFeeBPS: 500,
			ProcessingBPS: 300, CollectiveFundBPS: 200, Makers: `[{"artisan_id":"a","minutes":60}]`})
		o.Groups = append(o.Groups, models.OrderGroup{OrderID: id, GroupID: g, Status: models.PartPending, Amount: 2700, ShippingFee: 200})
	}
	return o
}

// rowsOf renders the rows q reads for id without the order's id, which
// differs between the two writes by design.
func rowsOf(t *testing.T, tx *gorm.DB, q string, id uuid.UUID) string {
	t.Helper()
	var rows []map[string]any
	if err := tx.Raw(q, id).Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		delete(r, "id")
		delete(r, "order_id")
		delete(r, "product_id") // fresh for each sample
		delete(r, "group_id")
	}
	return fmt.Sprint(rows)
}
