package main

import (
	"bytes"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/seed"
)

var printedLogin = regexp.MustCompile(`(?m)^  (admin|auditor|buyer|manager)\s+(\S+@karigar\.example)\s+(\S+)`)

// seed --demo prints one login per role and per demo group; each works, the
// auditor reads a demo group's artisans and a manager ships a buyer's order
// for its group. A second run keeps the accounts and says so.
func TestSeedDemoPrintsLoginsThatWork(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			env := envOf(map[string]string{"KARIGAR_DATABASE_URL": modelstest.URL(t, engine), "KARIGAR_JWT_SECRET": strings.Repeat("k", 40)})
			var out, errOut bytes.Buffer
			if code := run(t.Context(), []string{"seed", "--demo"}, env, &out, &errOut); code != 0 {
				t.Fatalf("seed --demo: %d %s %s", code, out.String(), errOut.String())
			}
			printed := printedLogin.FindAllStringSubmatch(out.String(), -1)
			if len(printed) != 3+12 {
				t.Fatalf("%d logins printed:\n%s", len(printed), out.String())
			}
			cfg, err := loadConfig(env)
			if err != nil {
				t.Fatal(err)
			}
			db, err := openDB(t.Context(), &cfg, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			defer models.Close(db)
			w := wiring(cfg, slog.New(slog.DiscardHandler))
			w.BcryptCost = bcrypt.MinCost
			svc, err := api.Build(db, w)
			if err != nil {
				t.Fatal(err)
			}
			actors := map[string]services.Actor{}
			for _, p := range printed {
				sess, err := svc.Auth.Login(t.Context(), auth.Credentials{Email: p[2], Password: p[3], ClientIP: "127.0.0.1"})
				if err != nil {
					t.Fatalf("login %s %s: %v", p[1], p[2], err)
				}
				if want := map[string]models.Role{"manager": models.RoleProducer}[p[1]]; want != "" && sess.User.Role != want ||
					want == "" && string(sess.User.Role) != p[1] {
					t.Fatalf("%s signs in as %s", p[2], sess.User.Role)
				}
				actors[p[2]] = services.Actor{UserID: sess.User.ID, Role: sess.User.Role}
			}

			// The buyer orders a Thar product, cash on delivery; its manager ships it.
			manager := actors[seed.DemoManagerEmail("thar-ralli")]
			list, _, err := svc.Catalog.List(t.Context(), catalog.Query{Q: "ralli tote", Limit: 5})
			if err != nil || len(list) == 0 {
				t.Fatalf("demo product: %d, %v", len(list), err)
			}
			p := list[0]
			o, err := svc.Orders.Create(t.Context(), actors[seed.DemoBuyerEmail], orders.CreateInput{
				Items:           []orders.Item{{ProductID: p.ID.String(), Quantity: 1}},
				ShippingAddress: orders.Address{Name: "Demo buyer", Line1: "1 Mall Road", City: "Lahore", Country: "PK", Phone: "+92 300 1234567"},
				PaymentMethod:   models.PayCashOnDelivery})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := svc.Orders.Ship(t.Context(), manager, o.ID, orders.ShipInput{GroupID: p.GroupID, Carrier: "TCS"}); err != nil {
				t.Fatalf("the demo manager ships: %v", err)
			}
			// The auditor reads the group's artisans, which only assigned auditors may.
			auditor := actors[seed.DemoAuditorEmail]
			artisans, _, err := svc.Groups.ListArtisans(t.Context(), auditor, p.GroupID, 50, "")
			if err != nil || len(artisans) == 0 {
				t.Fatalf("the demo auditor reads artisans: %d, %v", len(artisans), err)
			}
			assertAuditorOfAll(t, svc.Groups, auditor)

			out.Reset()
			if code := run(t.Context(), []string{"seed", "--demo"}, env, &out, &errOut); code != 0 ||
				strings.Count(out.String(), "exists already") != 15 {
				t.Fatalf("second seed --demo: %d %s %s", code, out.String(), errOut.String())
			}
		})
	}
}

// assertAuditorOfAll checks that the auditor may read every demo group.
func assertAuditorOfAll(t *testing.T, g *groups.Service, auditor services.Actor) {
	t.Helper()
	found, _, err := g.List(t.Context(), groups.GroupFilter{Limit: 100})
	if err != nil || len(found) != 12 {
		t.Fatalf("%d demo groups, %v", len(found), err)
	}
	for _, gr := range found {
		if _, _, err := g.ListArtisans(t.Context(), auditor, gr.ID, 1, ""); err != nil {
			t.Fatalf("auditor of %s: %v", gr.Name, err)
		}
	}
}

// Demo accounts have a published password: production refuses them.
func TestSeedDemoRefusedInProduction(t *testing.T) {
	env := productionEnv()
	env["KARIGAR_DATABASE_URL"] = "sqlite://" + t.TempDir() + "/k.db"
	env["KARIGAR_ALLOW_SQLITE"] = "true"
	var errOut bytes.Buffer
	if code := run(t.Context(), []string{"seed", "--demo"}, envOf(env), io.Discard, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "development only") {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
}
