package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/karigar/karigar/services/ledger"
)

type auditorBody struct {
	GroupID    string `json:"group_id"`
	UserID     string `json:"user_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	AssignedAt string `json:"assigned_at"`
}

// assignAuditor makes the auditor with email an auditor of a group, as an
// admin does before the auditor may read its people and books.
func (e *env) assignAuditor(admin session, groupID, email string) auditorBody {
	e.t.Helper()
	var a auditorBody
	res := e.do("POST", "/api/v1/admin/groups/"+groupID+"/auditors", map[string]string{"email": email}, bearer(admin.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	res.decode(e.t, &a)
	return a
}

// An auditor reads a group's artisans' personal data and books only while
// assigned to it; before and after, every reader answers 404 as it does to
// an outsider. The aggregates and the ledger-wide checks stay open.
func TestAuditorSeesOnlyAssignedGroups(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newTwoGroups(e)
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"cnic": "3630212345671"}, bearer(f.manager.AccessToken)).
			wantStatus(t, 200)
		sell(e, f.group.ID, 1, ledger.MakerMinutes{ArtisanID: uuid.MustParse(f.public.ID), Minutes: 240})
		var p payoutBody
		res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/payouts", map[string]any{"artisan_id": f.public.ID, "amount": pkr(40000),
			"method": "cash"}, bearer(f.manager.AccessToken), header("Idempotency-Key", "pay"))
		res.wantStatus(t, 201)
		res.decode(t, &p)
		o := e.order(f.buyer, "o1", orderBodyOf("cash_on_delivery", item(f.vase.ID, 1), item(f.basket.ID, 1)))
		draft := e.newProduct(f.catalogFixture, f.product("Draft vase", "pottery", 300000), false)
		auditor := bearer(f.auditor.AccessToken)

		// Every route that shows the group's people or books to an auditor.
		readers := []struct{ name, path, leak string }{
			{"artisans", "/api/v1/groups/" + f.group.ID + "/artisans", "36302-1234567-1"},
			{"statement", "/api/v1/artisans/" + f.public.ID + "/statement", f.public.ID},
			{"transactions", "/api/v1/ledger/transactions?group_id=" + f.group.ID, f.public.ID},
			{"accounts", "/api/v1/groups/" + f.group.ID + "/ledger/accounts", f.public.ID},
			{"report", "/api/v1/audit/groups/" + f.group.ID + "/report", "Shazia"},
			{"report csv", "/api/v1/audit/groups/" + f.group.ID + "/report?format=csv", "Shazia"},
			{"order", "/api/v1/orders/" + o.ID, f.vase.ID},
			{"draft product", "/api/v1/products/" + draft.ID, draft.ID},
		}
		// A published product shows its private makers to insiders only.
		privateMaker := func() bool {
			t.Helper()
			res := e.do("GET", "/api/v1/products/"+f.vase.ID, nil, auditor)
			res.wantStatus(t, 200)
			return strings.Contains(string(res.Body), f.private.ID)
		}
		hidden := func(phase string) {
			t.Helper()
			for _, r := range readers {
				res := e.do("GET", r.path, nil, auditor)
				if res.Code != http.StatusNotFound || strings.Contains(string(res.Body), r.leak) {
					t.Errorf("%s, %s: %d %s", phase, r.name, res.Code, res.Body)
				}
			}
			var l listBody[struct {
				GroupID *string `json:"group_id"`
			}]
			e.do("GET", "/api/v1/ledger/transactions", nil, auditor).decode(t, &l)
			for _, tr := range l.Data {
				if tr.GroupID != nil && *tr.GroupID == f.group.ID {
					t.Errorf("%s: the whole ledger's list holds the group's transaction", phase)
				}
			}
			if res := e.do("POST", "/api/v1/payouts/"+p.ID+"/acknowledge", map[string]any{"note": "n"}, auditor); res.Code != 404 {
				t.Errorf("%s, acknowledge: %d %s", phase, res.Code, res.Body)
			}
		}
		open := func(phase string) {
			t.Helper()
			for _, path := range []string{"/api/v1/audit/impact", "/api/v1/audit/ledger/verify", "/api/v1/audit/ledger/checkpoint"} {
				if res := e.do("GET", path, nil, auditor); res.Code != 200 {
					t.Errorf("%s, %s: %d %s", phase, path, res.Code, res.Body)
				}
			}
		}

		hidden("unassigned")
		open("unassigned")
		if privateMaker() {
			t.Error("an unassigned auditor sees a product's private maker")
		}

		a := e.assignAuditor(f.admin, f.group.ID, "Auditor@NGO.pk")
		if a.GroupID != f.group.ID || a.UserID != f.auditor.User.ID || a.Email != "auditor@ngo.pk" || a.Name == "" ||
			!strings.HasSuffix(a.AssignedAt, "Z") {
			t.Fatalf("assignment %+v", a)
		}
		for _, r := range readers {
			res := e.do("GET", r.path, nil, auditor)
			if res.Code != http.StatusOK || !strings.Contains(string(res.Body), r.leak) {
				t.Errorf("assigned, %s: %d %s", r.name, res.Code, res.Body)
			}
		}
		var seen orderBody
		e.do("GET", "/api/v1/orders/"+o.ID, nil, auditor).decode(t, &seen)
		if len(seen.Groups) != 1 || seen.Groups[0].GroupID != f.group.ID || len(seen.Items) != 1 {
			t.Errorf("an auditor of one group sees another's part of the order: %+v", seen)
		}
		var l listBody[struct {
			GroupID string `json:"group_id"`
		}]
		e.do("GET", "/api/v1/ledger/transactions", nil, auditor).decode(t, &l)
		if len(l.Data) != 2 || l.Data[0].GroupID != f.group.ID || l.Data[1].GroupID != f.group.ID {
			t.Errorf("the whole ledger's list should hold the sale and the payout of the assigned group: %+v", l.Data)
		}
		e.do("GET", "/api/v1/groups/"+f.second.ID+"/artisans", nil, auditor).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/audit/groups/"+f.second.ID+"/report", nil, auditor).wantError(t, 404, "not_found")
		open("assigned")
		if !privateMaker() {
			t.Error("an assigned auditor does not see the group's private maker")
		}

		var list listBody[auditorBody]
		res = e.do("GET", "/api/v1/admin/groups/"+f.group.ID+"/auditors", nil, bearer(f.admin.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &list)
		if len(list.Data) != 1 || list.Data[0] != a || list.NextCursor != nil {
			t.Fatalf("auditors %+v", list)
		}
		assign := "/api/v1/admin/groups/" + f.group.ID + "/auditors"
		e.do("POST", assign, map[string]string{"email": "auditor@ngo.pk"}, bearer(f.admin.AccessToken)).wantError(t, 409, "conflict")
		if n := e.count("group_auditors", ""); n != 1 {
			t.Fatalf("assigning twice wrote %d rows", n)
		}

		unassign := assign + "/" + f.auditor.User.ID
		e.do("DELETE", unassign, nil, bearer(f.admin.AccessToken)).wantStatus(t, 204)
		e.do("DELETE", unassign, nil, bearer(f.admin.AccessToken)).wantError(t, 404, "not_found")
		hidden("unassigned again")
		open("unassigned again")
		if privateMaker() {
			t.Error("an unassigned auditor still sees a product's private maker")
		}
		e.do("GET", assign, nil, bearer(f.admin.AccessToken)).decode(t, &list)
		if len(list.Data) != 0 {
			t.Fatalf("auditors after unassignment %+v", list)
		}

		// Admins see every group without being assigned.
		e.do("GET", "/api/v1/groups/"+f.second.ID+"/artisans", nil, bearer(f.admin.AccessToken)).wantStatus(t, 200)
	})
}

func TestAuditorAssignmentInput(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		admin := bearer(f.admin.AccessToken)
		assign := "/api/v1/admin/groups/" + f.group.ID + "/auditors"
		t.Run("assign422", func(t *testing.T) {
			for _, email := range []string{"buyer@example.pk", "nobody@example.pk", "admin@karigar.pk", ""} {
				er := e.do("POST", assign, map[string]string{"email": email}, admin).wantError(t, 422, "validation_failed")
				if er.Error.Fields["email"] == "" {
					t.Errorf("%q: fields %v", email, er.Error.Fields)
				}
			}
			e.do("POST", assign, map[string]string{}, admin).wantError(t, 422, "validation_failed")
			if n := e.count("group_auditors", ""); n != 0 {
				t.Fatalf("a refused assignment was written: %d", n)
			}
		})
		t.Run("assign400", func(t *testing.T) {
			e.do("POST", assign, rawBody(`{"email":`), admin).wantError(t, 400, "bad_request")
			e.do("POST", assign, map[string]any{"email": 7}, admin).wantError(t, 400, "bad_request")
			e.do("POST", "/api/v1/admin/groups/nope/auditors", map[string]string{"email": "auditor@ngo.pk"}, admin).
				wantError(t, 400, "bad_request")
			e.do("DELETE", assign+"/nope", nil, admin).wantError(t, 400, "bad_request")
		})
		t.Run("roles", func(t *testing.T) {
			body := map[string]string{"email": "auditor@ngo.pk"}
			e.do("POST", assign, body).wantError(t, 401, "unauthorized")
			for _, s := range []session{f.auditor, f.manager, f.buyer} {
				e.do("POST", assign, body, bearer(s.AccessToken)).wantError(t, 403, "forbidden")
				e.do("GET", assign, nil, bearer(s.AccessToken)).wantError(t, 403, "forbidden")
				e.do("DELETE", assign+"/"+f.auditor.User.ID, nil, bearer(s.AccessToken)).wantError(t, 403, "forbidden")
			}
		})
		t.Run("retried with a key", func(t *testing.T) {
			key := header("Idempotency-Key", "assign-1")
			body := map[string]string{"email": "retry@ngo.pk"}
			e.staff("retry@ngo.pk", "auditor")
			first := e.do("POST", assign, body, admin, key)
			first.wantStatus(t, 201)
			again := e.do("POST", assign, body, admin, key)
			again.wantStatus(t, 201)
			if string(again.Body) != string(first.Body) || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("a retried assignment was not replayed: %s then %s", first.Body, again.Body)
			}
			var a auditorBody
			first.decode(t, &a)
			e.do("DELETE", assign+"/"+a.UserID, nil, admin).wantStatus(t, 204)
		})
		t.Run("unknown group", func(t *testing.T) {
			other := "/api/v1/admin/groups/" + uuid.NewString() + "/auditors"
			e.do("POST", other, map[string]string{"email": "auditor@ngo.pk"}, admin).wantError(t, 404, "not_found")
			e.do("GET", other, nil, admin).wantError(t, 404, "not_found")
			e.do("DELETE", other+"/"+f.auditor.User.ID, nil, admin).wantError(t, 404, "not_found")
			e.do("DELETE", assign+"/"+uuid.NewString(), nil, admin).wantError(t, 404, "not_found")
		})
		t.Run("pages", func(t *testing.T) {
			second := e.staff("second@ngo.pk", "auditor")
			e.assignAuditor(f.admin, f.group.ID, "auditor@ngo.pk")
			e.assignAuditor(f.admin, f.group.ID, second.User.Email)
			e.assignAuditor(f.admin, f.pending.ID, second.User.Email)
			var first, rest listBody[auditorBody]
			e.do("GET", assign+"?limit=1", nil, admin).decode(t, &first)
			if len(first.Data) != 1 || first.Data[0].Email != "auditor@ngo.pk" || first.NextCursor == nil {
				t.Fatalf("page 1 %+v", first)
			}
			e.do("GET", assign+"?limit=1&cursor="+url.QueryEscape(*first.NextCursor), nil, admin).decode(t, &rest)
			if len(rest.Data) != 1 || rest.Data[0].Email != "second@ngo.pk" || rest.NextCursor != nil {
				t.Fatalf("page 2 %+v", rest)
			}
			e.do("GET", "/api/v1/admin/groups/"+f.pending.ID+"/auditors?cursor="+url.QueryEscape(*first.NextCursor), nil, admin).
				wantError(t, 400, "bad_request")
		})
	})
}
