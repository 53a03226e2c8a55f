package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// inclusionBody is the consented fields of the private artisan view.
type inclusionBody struct {
	ID                string          `json:"id"`
	StatisticsConsent bool            `json:"statistics_consent"`
	StatementConsent  bool            `json:"statement_consent"`
	BirthYear         *int            `json:"birth_year"`
	Disability        *map[string]any `json:"disability"`
}

type consentChangeBody struct {
	Kind       string `json:"kind"`
	Granted    bool   `json:"granted"`
	RecordedBy struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

var someDifficulty = map[string]any{"seeing": "no_difficulty", "hearing": "no_difficulty", "walking": "a_lot_of_difficulty",
	"remembering": "no_difficulty", "self_care": "some_difficulty", "communicating": "no_difficulty"}

// A manager records the consented fields; a birth year or the disability
// answers need statistics consent, and withdrawing it erases them; every
// change of a consent is kept with who recorded it and when; bad values are
// refused with nothing written.
func TestArtisanConsentedFields(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		manager := bearer(f.manager.AccessToken)
		path := "/api/v1/artisans/" + f.public.ID
		patch := func(body map[string]any) inclusionBody {
			t.Helper()
			var a inclusionBody
			res := e.do("PATCH", path, body, manager)
			res.wantStatus(t, http.StatusOK)
			res.decode(t, &a)
			return a
		}

		// Nothing recorded yet, and nothing without consent.
		a := patch(map[string]any{"display_name": "Shazia"})
		if a.StatisticsConsent || a.StatementConsent || a.BirthYear != nil || a.Disability != nil {
			t.Fatalf("a new artisan %+v", a)
		}
		for name, tc := range map[string]struct {
			body  map[string]any
			field string
		}{
			"birth year without consent":    {map[string]any{"birth_year": 1984}, "birth_year"},
			"disability without consent":    {map[string]any{"disability": someDifficulty}, "disability"},
			"consent withdrawn with a year": {map[string]any{"statistics_consent": false, "birth_year": 1984}, "birth_year"},
			"a year in the future":          {map[string]any{"statistics_consent": true, "birth_year": time.Now().Year() + 1}, "birth_year"},
			"a year long past":              {map[string]any{"statistics_consent": true, "birth_year": 1850}, "birth_year"},
			"an unknown answer": {map[string]any{"statistics_consent": true, "disability": map[string]any{"seeing": "blind",
				"hearing": "no_difficulty", "walking": "no_difficulty", "remembering": "no_difficulty", "self_care": "no_difficulty",
				"communicating": "no_difficulty"}}, "disability.seeing"},
			"an answer missing": {map[string]any{"statistics_consent": true, "disability": map[string]any{"seeing": "no_difficulty"}},
				"disability.hearing"},
		} {
			res := e.do("PATCH", path, tc.body, manager)
			if got := res.wantError(t, 422, "validation_failed"); got.Error.Fields[tc.field] == "" {
				t.Errorf("%s: fields %v, want %s", name, got.Error.Fields, tc.field)
			}
		}
		e.do("PATCH", path, map[string]any{"disability": map[string]any{"seeing": "no_difficulty", "smell": "no_difficulty"}}, manager).
			wantError(t, 400, "bad_request")
		e.do("PATCH", path, map[string]any{"birth_year": "1984"}, manager).wantError(t, 400, "bad_request")
		if n := e.count("artisan_consents", ""); n != 0 {
			t.Fatalf("refused changes recorded %d consents", n)
		}
		if n := e.count("artisans", "statistics_consent OR birth_year IS NOT NULL"); n != 0 {
			t.Fatalf("refused changes were written")
		}

		// With consent.
		a = patch(map[string]any{"statistics_consent": true, "birth_year": 1984, "disability": someDifficulty,
			"statement_consent": true})
		if !a.StatisticsConsent || !a.StatementConsent || a.BirthYear == nil || *a.BirthYear != 1984 || a.Disability == nil ||
			(*a.Disability)["walking"] != "a_lot_of_difficulty" {
			t.Fatalf("recorded %+v", a)
		}
		// Unchanged consents record nothing; clearing one answer set is allowed.
		a = patch(map[string]any{"statistics_consent": true, "disability": nil})
		if a.Disability != nil || a.BirthYear == nil {
			t.Fatalf("cleared the answers: %+v", a)
		}
		// Withdrawing statistics consent erases what it allowed.
		a = patch(map[string]any{"statistics_consent": false})
		if a.StatisticsConsent || a.BirthYear != nil || a.Disability != nil || !a.StatementConsent {
			t.Fatalf("after withdrawal %+v", a)
		}
		if n := e.count("artisans", "id = ? AND (birth_year IS NOT NULL OR disability_walking IS NOT NULL)", f.public.ID); n != 0 {
			t.Fatal("withdrawal left the birth year or the answers in the database")
		}

		// The list of the group's artisans shows them to the manager.
		var list listBody[inclusionBody]
		e.do("GET", "/api/v1/groups/"+f.group.ID+"/artisans", nil, manager).decode(t, &list)
		for _, x := range list.Data {
			if x.ID == f.public.ID && (!x.StatementConsent || x.StatisticsConsent) {
				t.Errorf("listed %+v", x)
			}
		}

		// A new artisan may be registered with consent.
		var created inclusionBody
		res := e.do("POST", "/api/v1/groups/"+f.group.ID+"/artisans", map[string]any{"display_name": "Nasreen", "full_name": "Nasreen Bibi",
			"district": "Multan", "statistics_consent": true, "birth_year": 1990}, manager)
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &created)
		if !created.StatisticsConsent || created.BirthYear == nil {
			t.Fatalf("created %+v", created)
		}

		// The history: granted statistics and statement, withdrawn statistics; by the manager.
		var h listBody[consentChangeBody]
		res = e.do("GET", path+"/consents", nil, manager)
		res.wantStatus(t, http.StatusOK)
		res.decode(t, &h)
		var got []string
		for _, c := range h.Data {
			got = append(got, c.Kind+":"+map[bool]string{true: "granted", false: "withdrawn"}[c.Granted])
			if c.RecordedBy.ID != f.manager.User.ID || c.RecordedBy.Name == "" || time.Since(c.RecordedAt) > time.Minute {
				t.Errorf("change %+v", c)
			}
		}
		if strings.Join(got, ",") != "statistics:granted,statement:granted,statistics:withdrawn" {
			t.Fatalf("history %v", got)
		}
		// Pages.
		var first listBody[consentChangeBody]
		e.do("GET", path+"/consents?limit=2", nil, manager).decode(t, &first)
		if len(first.Data) != 2 || first.NextCursor == nil {
			t.Fatalf("first page %+v", first)
		}
		var second listBody[consentChangeBody]
		e.do("GET", path+"/consents?limit=2&cursor="+*first.NextCursor, nil, manager).decode(t, &second)
		if len(second.Data) != 1 || second.NextCursor != nil || second.Data[0].Kind != "statistics" || second.Data[0].Granted {
			t.Fatalf("second page %+v", second)
		}

		// Who may read the history: as the group's people.
		e.assignAuditor(f.admin, f.group.ID, f.auditor.User.Email)
		e.do("GET", path+"/consents", nil, bearer(f.auditor.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", path+"/consents", nil, bearer(f.admin.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", path+"/consents", nil, bearer(f.other.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", path+"/consents", nil, bearer(f.buyer.AccessToken)).wantError(t, 403, "forbidden")
		e.do("GET", path+"/consents", nil).wantError(t, 401, "unauthorized")
		stranger := e.staff("stranger@ngo.pk", "auditor")
		e.do("GET", path+"/consents", nil, bearer(stranger.AccessToken)).wantError(t, 404, "not_found")
		e.do("GET", "/api/v1/artisans/not-a-uuid/consents", nil, manager).wantError(t, 400, "bad_request")
	})
}

// The consented fields never reach anyone who may not read the group's
// people: the public product, group and maker views carry none of them.
func TestConsentedFieldsAreNeverPublic(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		manager := bearer(f.manager.AccessToken)
		e.do("PATCH", "/api/v1/artisans/"+f.public.ID, map[string]any{"statistics_consent": true, "birth_year": 1977,
			"disability": someDifficulty, "statement_consent": true}, manager).wantStatus(t, http.StatusOK)
		p := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)
		for _, who := range []reqOption{nil, bearer(f.buyer.AccessToken), bearer(f.other.AccessToken)} {
			var opts []reqOption
			if who != nil {
				opts = append(opts, who)
			}
			for _, path := range []string{"/api/v1/products/" + p.ID, "/api/v1/products", "/api/v1/groups/" + f.group.ID,
				"/api/v1/products/" + p.ID + "/transparency", "/p/" + p.ID} {
				res := e.do("GET", path, nil, opts...)
				for _, leak := range []string{"1977", "a_lot_of_difficulty", "statistics_consent", "statement_consent", "birth_year"} {
					if strings.Contains(string(res.Body), leak) {
						t.Errorf("GET %s shows %q to an outsider", path, leak)
					}
				}
			}
		}
		for _, who := range []session{f.buyer, f.other} {
			res := e.do("GET", "/api/v1/groups/"+f.group.ID+"/artisans", nil, bearer(who.AccessToken))
			if res.Code == http.StatusOK || strings.Contains(string(res.Body), "1977") {
				t.Errorf("%s reads the artisans: %d %s", who.User.Role, res.Code, res.Body)
			}
		}
	})
}

// Managers changing an artisan's consents at the same time, on any number
// of replicas: each change is recorded against the state it changed, so
// the history alternates and its last word is the artisan's state.
func TestConcurrentConsentChangesKeepTheHistoryTrue(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		path := "/api/v1/artisans/" + f.public.ID
		bodies := []map[string]any{
			{"statistics_consent": true, "birth_year": 1980},
			{"statistics_consent": false},
			{"birth_year": 1985},
			{"statement_consent": true},
			{"statement_consent": false, "statistics_consent": true},
		}
		inParallel(20, func(i int) {
			res := e.do("PATCH", path, bodies[i%len(bodies)], bearer(f.manager.AccessToken))
			if res.Code != http.StatusOK && res.Code != http.StatusUnprocessableEntity {
				t.Errorf("PATCH %v: %d %s", bodies[i%len(bodies)], res.Code, res.Body)
			}
		})
		var a inclusionBody
		var list listBody[inclusionBody]
		e.do("GET", "/api/v1/groups/"+f.group.ID+"/artisans?limit=100", nil, bearer(f.manager.AccessToken)).decode(t, &list)
		for _, x := range list.Data {
			if x.ID == f.public.ID {
				a = x
			}
		}
		if !a.StatisticsConsent && a.BirthYear != nil {
			t.Fatalf("a birth year without consent: %+v", a)
		}
		var h listBody[consentChangeBody]
		e.do("GET", path+"/consents?limit=100", nil, bearer(f.manager.AccessToken)).decode(t, &h)
		state := map[string]bool{}
		for _, c := range h.Data {
			if state[c.Kind] == c.Granted {
				t.Fatalf("history %+v records a change to the state it already had", h.Data)
			}
			state[c.Kind] = c.Granted
		}
		if state["statistics"] != a.StatisticsConsent || state["statement"] != a.StatementConsent {
			t.Fatalf("the history ends at %v, the artisan is %+v", state, a)
		}
	})
}
