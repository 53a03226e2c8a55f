package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

type groupBody struct {
	ID                 string  `json:"id"`
	Name               string  `json:"name"`
	District           string  `json:"district"`
	Province           string  `json:"province"`
	Status             string  `json:"status"`
	ProductCount       int64   `json:"product_count"`
	RegistrationNumber *string `json:"registration_number"`
	VerifiedAt         *string `json:"verified_at"`
	ShippingFee        struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	} `json:"shipping_fee"`
	ProfitSharing struct {
		Method            string `json:"method"`
		CollectiveFundBPS int    `json:"collective_fund_bps"`
	} `json:"profit_sharing"`
}

type artisanBody struct {
	ID            string   `json:"id"`
	GroupID       string   `json:"group_id"`
	DisplayName   string   `json:"display_name"`
	FullName      string   `json:"full_name"`
	Phone         *string  `json:"phone"`
	CNIC          *string  `json:"cnic"`
	Gender        *string  `json:"gender"`
	Skills        []string `json:"skills"`
	PublicProfile bool     `json:"public_profile"`
	Active        bool     `json:"active"`
}

type listBody[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

func groupRequest(name, district, province string) map[string]any {
	return map[string]any{
		"name": name, "description": "A collective of home-based women workers.", "district": district,
		"province": province, "registration_number": "REG-" + name,
		"shipping_fee":   map[string]any{"amount": 25000, "currency": "PKR"},
		"profit_sharing": map[string]any{"method": "labor_hours", "collective_fund_bps": 2000},
	}
}

// newGroup creates a group as manager and returns it.
func (e *env) newGroup(manager session, name, district, province string) groupBody {
	e.t.Helper()
	res := e.do("POST", "/api/v1/groups", groupRequest(name, district, province), bearer(manager.AccessToken))
	res.wantStatus(e.t, http.StatusCreated)
	var g groupBody
	res.decode(e.t, &g)
	return g
}

func (e *env) verify(admin session, groupID string) {
	e.t.Helper()
	e.do("POST", "/api/v1/admin/groups/"+groupID+"/verify", nil, bearer(admin.AccessToken)).wantStatus(e.t, http.StatusOK)
}

func TestCreateGroup(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		producer := e.register("maker@example.pk", "producer")
		buyer := e.register("buyer@example.pk", "buyer")

		t.Run("create201", func(t *testing.T) {
			g := e.newGroup(producer, "Thar Ralli Collective", "Tharparkar", "sindh")
			if g.Status != "pending" || g.Province != "sindh" || g.ShippingFee.Amount != 25000 ||
				g.ProfitSharing.CollectiveFundBPS != 2000 || g.RegistrationNumber == nil || g.VerifiedAt != nil {
				t.Fatalf("group %+v", g)
			}
			if n := e.count("group_managers", "group_id = ?", g.ID); n != 1 {
				t.Fatalf("%d managers, want the creator", n)
			}
		})
		t.Run("create401", func(t *testing.T) {
			e.do("POST", "/api/v1/groups", groupRequest("X", "Multan", "punjab")).wantError(t, 401, "unauthorized")
		})
		t.Run("create403", func(t *testing.T) {
			e.do("POST", "/api/v1/groups", groupRequest("X", "Multan", "punjab"), bearer(buyer.AccessToken)).
				wantError(t, 403, "forbidden")
		})
		t.Run("create422", func(t *testing.T) {
			before := e.count("producer_groups", "")
			for name, tc := range map[string]struct {
				change func(map[string]any)
				field  string
			}{
				"unknown province":  {func(b map[string]any) { b["province"] = "atlantis" }, "province"},
				"blank name":        {func(b map[string]any) { b["name"] = "  " }, "name"},
				"missing district":  {func(b map[string]any) { delete(b, "district") }, "district"},
				"negative shipping": {func(b map[string]any) { b["shipping_fee"] = map[string]any{"amount": -1, "currency": "PKR"} }, "shipping_fee.amount"},
				"foreign currency":  {func(b map[string]any) { b["shipping_fee"] = map[string]any{"amount": 100, "currency": "USD"} }, "shipping_fee.currency"},
				"fund over 100%": {func(b map[string]any) {
					b["profit_sharing"] = map[string]any{"method": "equal", "collective_fund_bps": 10001}
				}, "profit_sharing.collective_fund_bps"},
				"unknown method": {func(b map[string]any) {
					b["profit_sharing"] = map[string]any{"method": "lottery", "collective_fund_bps": 0}
				}, "profit_sharing.method"},
			} {
				body := groupRequest("Bad", "Multan", "punjab")
				tc.change(body)
				er := e.do("POST", "/api/v1/groups", body, bearer(producer.AccessToken)).wantError(t, 422, "validation_failed")
				if er.Error.Fields[tc.field] == "" {
					t.Errorf("%s: fields %v, want %s", name, er.Error.Fields, tc.field)
				}
			}
			if after := e.count("producer_groups", ""); after != before {
				t.Fatalf("refused requests wrote %d groups", after-before)
			}
		})
		t.Run("create400", func(t *testing.T) {
			body := groupRequest("X", "Multan", "punjab")
			body["status"] = "verified"
			e.do("POST", "/api/v1/groups", body, bearer(producer.AccessToken)).wantError(t, 400, "bad_request")
			e.do("POST", "/api/v1/groups", rawBody(`{"name": 5}`), bearer(producer.AccessToken)).wantError(t, 400, "bad_request")
		})
	})
}

func TestGroupVisibilityAndVerification(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		other := e.register("other@example.pk", "producer")
		buyer := e.register("buyer@example.pk", "buyer")
		auditor := e.staff("auditor@ngo.pk", "auditor")
		admin := e.staff("admin@karigar.pk", "admin")
		g := e.newGroup(manager, "Hala Lacquer Collective", "Matiari", "sindh")
		e.assignAuditor(admin, g.ID, auditor.User.Email)
		path := "/api/v1/groups/" + g.ID

		// Pending: only managers and staff know it exists.
		e.do("GET", path, nil).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(buyer.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path, nil, bearer(other.AccessToken)).wantError(t, 404, "not_found")
		for _, who := range []session{manager, auditor, admin} {
			var got groupBody
			res := e.do("GET", path, nil, bearer(who.AccessToken))
			res.wantStatus(t, 200)
			res.decode(t, &got)
			if got.RegistrationNumber == nil {
				t.Errorf("%s does not see the registration number", who.User.Role)
			}
		}

		verify := "/api/v1/admin/groups/" + g.ID + "/verify"
		e.do("POST", verify, nil).wantError(t, 401, "unauthorized")
		e.do("POST", verify, nil, bearer(manager.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", verify, nil, bearer(auditor.AccessToken)).wantError(t, 403, "forbidden")
		e.do("POST", "/api/v1/admin/groups/not-a-uuid/verify", nil, bearer(admin.AccessToken)).wantError(t, 400, "bad_request")
		e.do("POST", "/api/v1/admin/groups/0197a0e0-0000-7000-8000-000000000000/verify", nil, bearer(admin.AccessToken)).
			wantError(t, 404, "not_found")
		var verified groupBody
		res := e.do("POST", verify, nil, bearer(admin.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &verified)
		if verified.Status != "verified" || verified.VerifiedAt == nil {
			t.Fatalf("after verify: %+v", verified)
		}
		e.do("POST", verify, nil, bearer(admin.AccessToken)).wantError(t, 409, "invalid_state")

		// Verified: public, without the registration number.
		var public groupBody
		res = e.do("GET", path, nil)
		res.wantStatus(t, 200)
		res.decode(t, &public)
		if public.RegistrationNumber != nil || strings.Contains(string(res.Body), "REG-") {
			t.Fatalf("the public sees the registration number: %s", res.Body)
		}
		e.do("GET", "/api/v1/groups/nope", nil).wantError(t, 400, "bad_request")
	})
}

func TestListGroups(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		admin := e.staff("admin@karigar.pk", "admin")
		places := [][2]string{{"Multan", "punjab"}, {"Multan", "punjab"}, {"Bahawalpur", "punjab"},
			{"Tharparkar", "sindh"}, {"Swat", "khyber_pakhtunkhwa"}}
		for i, p := range places {
			g := e.newGroup(manager, fmt.Sprintf("Group %d", i), p[0], p[1])
			e.verify(admin, g.ID)
		}
		e.newGroup(manager, "Pending group", "Multan", "punjab") // never listed

		list := func(query string) listBody[groupBody] {
			t.Helper()
			var l listBody[groupBody]
			res := e.do("GET", "/api/v1/groups?"+query, nil)
			res.wantStatus(t, 200)
			res.decode(t, &l)
			return l
		}
		if l := list(""); len(l.Data) != 5 || l.NextCursor != nil {
			t.Fatalf("all: %d groups, cursor %v", len(l.Data), l.NextCursor)
		}
		if l := list("province=punjab"); len(l.Data) != 3 {
			t.Fatalf("punjab: %d groups, want 3", len(l.Data))
		}
		if l := list("province=punjab&district=mULTAN"); len(l.Data) != 2 {
			t.Fatalf("Multan: %d groups, want 2", len(l.Data))
		}

		// Pages of two: every group once, in name order.
		var names []string
		cursor := ""
		for pages := 0; ; pages++ {
			q := "limit=2"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			l := list(q)
			for _, g := range l.Data {
				names = append(names, g.Name)
			}
			if l.NextCursor == nil {
				break
			}
			cursor = *l.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if strings.Join(names, ",") != "Group 0,Group 1,Group 2,Group 3,Group 4" {
			t.Fatalf("paged names %v", names)
		}

		first := list("limit=2&province=punjab")
		e.do("GET", "/api/v1/groups?limit=2&cursor="+url.QueryEscape(*first.NextCursor), nil).
			wantError(t, 400, "bad_request") // a cursor from another query
		// One character of the signature changed, one whose six bits all
		// count: the last character's spare bits would decode the same.
		tampered := []byte(*first.NextCursor)
		if tampered[len(tampered)-2] == 'A' {
			tampered[len(tampered)-2] = 'B'
		} else {
			tampered[len(tampered)-2] = 'A'
		}
		e.do("GET", "/api/v1/groups?province=punjab&limit=2&cursor="+url.QueryEscape(string(tampered)), nil).wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/groups?cursor=garbage", nil).wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/groups?province=atlantis", nil).wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/groups?limit=0", nil).wantError(t, 400, "bad_request")
		e.do("GET", "/api/v1/groups?limit=101", nil).wantError(t, 400, "bad_request")
	})
}

func TestUpdateGroupAndManagers(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		second := e.register("second@example.pk", "producer")
		buyer := e.register("buyer@example.pk", "buyer")
		g := e.newGroup(manager, "Swat Embroidery", "Swat", "khyber_pakhtunkhwa")
		path := "/api/v1/groups/" + g.ID
		patch := map[string]any{"district": "Mingora", "profit_sharing": map[string]any{"method": "equal", "collective_fund_bps": 500}}

		e.do("PATCH", path, patch).wantError(t, 401, "unauthorized")
		e.do("PATCH", path, patch, bearer(buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("PATCH", path, patch, bearer(second.AccessToken)).wantError(t, 404, "not_found")
		e.do("PATCH", path, map[string]any{"province": "mars"}, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
		var got groupBody
		res := e.do("PATCH", path, patch, bearer(manager.AccessToken))
		res.wantStatus(t, 200)
		res.decode(t, &got)
		if got.District != "Mingora" || got.ProfitSharing.Method != "equal" || got.ProfitSharing.CollectiveFundBPS != 500 ||
			got.Name != "Swat Embroidery" {
			t.Fatalf("after patch: %+v", got)
		}

		managers := path + "/managers"
		e.do("POST", managers, map[string]any{"email": "second@example.pk"}, bearer(second.AccessToken)).wantError(t, 404, "not_found")
		e.do("POST", managers, map[string]any{"email": "nobody@example.pk"}, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
		e.do("POST", managers, map[string]any{"email": "buyer@example.pk"}, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
		e.do("POST", managers, map[string]any{"email": " Second@Example.pk "}, bearer(manager.AccessToken)).wantStatus(t, 201)
		e.do("POST", managers, map[string]any{"email": "second@example.pk"}, bearer(manager.AccessToken)).wantError(t, 409, "conflict")
		// The new manager now has the group's rights.
		e.do("PATCH", path, map[string]any{"name": "Swat Women's Embroidery"}, bearer(second.AccessToken)).wantStatus(t, 200)
	})
}

func TestArtisans(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		other := e.register("other@example.pk", "producer")
		buyer := e.register("buyer@example.pk", "buyer")
		auditor := e.staff("auditor@ngo.pk", "auditor")
		admin := e.staff("admin@karigar.pk", "admin")
		g := e.newGroup(manager, "Thar Ralli Collective", "Tharparkar", "sindh")
		e.verify(admin, g.ID)
		e.assignAuditor(admin, g.ID, auditor.User.Email)
		artisans := "/api/v1/groups/" + g.ID + "/artisans"
		body := map[string]any{"display_name": "Sakina", "full_name": "Sakina Bibi Bheel", "district": "Tharparkar",
			"phone": "+92 300 1234567", "cnic": "4130412345671", "gender": "woman", "hbw_registration_number": "SHBW-99812",
			"skills": []string{"ralli stitching"}, "public_profile": true}

		t.Run("create201", func(t *testing.T) {
			var a artisanBody
			res := e.do("POST", artisans, body, bearer(manager.AccessToken))
			res.wantStatus(t, 201)
			res.decode(t, &a)
			if a.FullName != "Sakina Bibi Bheel" || a.CNIC == nil || *a.CNIC != "41304-1234567-1" || !a.Active || !a.PublicProfile {
				t.Fatalf("artisan %+v", a)
			}
			var p artisanBody
			res = e.do("POST", artisans, map[string]any{"display_name": "Meena", "full_name": "Meena Kumari", "district": "Umerkot"},
				bearer(manager.AccessToken))
			res.wantStatus(t, 201)
			res.decode(t, &p)
			if p.PublicProfile || p.Phone != nil || p.Skills == nil {
				t.Fatalf("a minimal artisan should be private with no phone and empty skills: %+v", p)
			}
		})
		t.Run("create409", func(t *testing.T) {
			dup := map[string]any{"display_name": "Sakina 2", "full_name": "Another", "district": "Tharparkar", "cnic": "41304-1234567-1"}
			e.do("POST", artisans, dup, bearer(manager.AccessToken)).wantError(t, 409, "conflict")
		})
		t.Run("create422", func(t *testing.T) {
			before := e.count("artisans", "")
			for field, bad := range map[string]any{"cnic": "123", "phone": "call me", "gender": "other", "display_name": ""} {
				b := map[string]any{"display_name": "X", "full_name": "Y", "district": "Z"}
				b[field] = bad
				er := e.do("POST", artisans, b, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
				if er.Error.Fields[field] == "" {
					t.Errorf("%s: fields %v", field, er.Error.Fields)
				}
			}
			e.do("POST", artisans, map[string]any{"display_name": "X"}, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
			if e.count("artisans", "") != before {
				t.Fatal("a refused artisan was written")
			}
		})
		t.Run("roles", func(t *testing.T) {
			e.do("POST", artisans, body).wantError(t, 401, "unauthorized")
			e.do("POST", artisans, body, bearer(buyer.AccessToken)).wantError(t, 403, "forbidden")
			e.do("POST", artisans, body, bearer(other.AccessToken)).wantError(t, 404, "not_found")
			e.do("POST", artisans, body, bearer(admin.AccessToken)).wantError(t, 403, "forbidden")
		})
		t.Run("list", func(t *testing.T) {
			for _, who := range []session{manager, auditor, admin} {
				var l listBody[artisanBody]
				res := e.do("GET", artisans+"?limit=1", nil, bearer(who.AccessToken))
				res.wantStatus(t, 200)
				res.decode(t, &l)
				if len(l.Data) != 1 || l.NextCursor == nil || l.Data[0].DisplayName != "Sakina" {
					t.Fatalf("%s: %+v", who.User.Role, l)
				}
				var rest listBody[artisanBody]
				res = e.do("GET", artisans+"?limit=1&cursor="+url.QueryEscape(*l.NextCursor), nil, bearer(who.AccessToken))
				res.wantStatus(t, 200)
				res.decode(t, &rest)
				if len(rest.Data) != 1 || rest.Data[0].DisplayName != "Meena" || rest.NextCursor != nil {
					t.Fatalf("%s page 2: %+v", who.User.Role, rest)
				}
			}
			e.do("GET", artisans, nil).wantError(t, 401, "unauthorized")
			e.do("GET", artisans, nil, bearer(buyer.AccessToken)).wantError(t, 403, "forbidden")
			e.do("GET", artisans, nil, bearer(other.AccessToken)).wantError(t, 404, "not_found")
			e.do("GET", "/api/v1/groups/0197a0e0-0000-7000-8000-000000000000/artisans", nil, bearer(auditor.AccessToken)).
				wantError(t, 404, "not_found")
		})
		t.Run("update", func(t *testing.T) {
			var l listBody[artisanBody]
			e.do("GET", artisans, nil, bearer(manager.AccessToken)).decode(t, &l)
			path := "/api/v1/artisans/" + l.Data[0].ID
			e.do("PATCH", path, map[string]any{"phone": nil}, bearer(other.AccessToken)).wantError(t, 404, "not_found")
			e.do("PATCH", path, map[string]any{"phone": nil}, bearer(buyer.AccessToken)).wantError(t, 403, "forbidden")
			e.do("PATCH", path, map[string]any{"cnic": "x"}, bearer(manager.AccessToken)).wantError(t, 422, "validation_failed")
			var a artisanBody
			res := e.do("PATCH", path, map[string]any{"phone": nil, "active": false, "skills": []string{"ralli", "applique"}},
				bearer(manager.AccessToken))
			res.wantStatus(t, 200)
			res.decode(t, &a)
			if a.Phone != nil || a.Active || len(a.Skills) != 2 || a.CNIC == nil || a.FullName != "Sakina Bibi Bheel" {
				t.Fatalf("after patch: %+v", a)
			}
			e.do("PATCH", "/api/v1/artisans/0197a0e0-0000-7000-8000-000000000000", map[string]any{}, bearer(manager.AccessToken)).
				wantError(t, 404, "not_found")
		})
	})
}

// Worker privacy: whatever a buyer, an anonymous caller, a producer of
// another group or an auditor not assigned to the group asks, no answer
// carries an artisan's full name, phone, CNIC, gender or registration number.
func TestArtisanPrivacyMatrix(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		other := e.register("other@example.pk", "producer")
		buyer := e.register("buyer@example.pk", "buyer")
		admin := e.staff("admin@karigar.pk", "admin")
		g := e.newGroup(manager, "Balochi Embroidery", "Kech", "balochistan")
		e.verify(admin, g.ID)
		var a artisanBody
		res := e.do("POST", "/api/v1/groups/"+g.ID+"/artisans", map[string]any{"display_name": "Gul", "full_name": "Gul Bano Baloch",
			"district": "Kech", "phone": "03001112223", "cnic": "52203-7654321-2", "gender": "transgender",
			"hbw_registration_number": "BHBW-7781", "public_profile": true}, bearer(manager.AccessToken))
		res.wantStatus(t, 201)
		res.decode(t, &a)
		secrets := []string{"Gul Bano Baloch", "03001112223", "52203", "transgender", "BHBW-7781"}

		auditor := e.staff("auditor@ngo.pk", "auditor") // of another group only
		e.assignAuditor(admin, e.newGroup(other, "Other Group", "Kech", "balochistan").ID, auditor.User.Email)
		callers := map[string][]reqOption{"anonymous": nil, "buyer": {bearer(buyer.AccessToken)}, "other producer": {bearer(other.AccessToken)},
			"unassigned auditor": {bearer(auditor.AccessToken)}}
		requests := []struct{ method, path string }{
			{"GET", "/api/v1/groups"},
			{"GET", "/api/v1/groups/" + g.ID},
			{"GET", "/api/v1/groups/" + g.ID + "/artisans"},
			{"POST", "/api/v1/groups/" + g.ID + "/artisans"},
			{"PATCH", "/api/v1/artisans/" + a.ID},
		}
		for who, opts := range callers {
			for _, r := range requests {
				var body any
				if r.method != "GET" {
					body = map[string]any{"display_name": "Gul"}
				}
				res := e.do(r.method, r.path, body, opts...)
				for _, s := range secrets {
					if strings.Contains(string(res.Body), s) {
						t.Errorf("%s %s as %s (%d) reveals %q: %s", r.method, r.path, who, res.Code, s, res.Body)
					}
				}
				if r.path != "/api/v1/groups" && r.path != "/api/v1/groups/"+g.ID && res.Code < 400 {
					t.Errorf("%s %s as %s answered %d", r.method, r.path, who, res.Code)
				}
			}
		}
	})
}
