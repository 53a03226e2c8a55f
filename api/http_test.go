package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// HTTP behaviour that generic tools (curl, caches, proxies, generated
// clients) rely on. Every response of every test is also checked by the
// harness: a 201 carries Location, a 401 WWW-Authenticate.

func TestCreatedAnswersCarryLocation(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, p := newExampleProduct(e)
		res := e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(p.ID, 1)), bearer(f.buyer.AccessToken),
			header("Idempotency-Key", "location-1"))
		res.wantStatus(t, http.StatusCreated)
		var o orderBody
		res.decode(t, &o)
		replay := e.do("POST", "/api/v1/orders", orderBodyOf("cash_on_delivery", item(p.ID, 1)), bearer(f.buyer.AccessToken),
			header("Idempotency-Key", "location-1"))
		if replay.Header.Get("Idempotent-Replayed") != "true" || replay.Header.Get("Location") != "/api/v1/orders/"+o.ID {
			t.Errorf("replay: Idempotent-Replayed %q, Location %q", replay.Header.Get("Idempotent-Replayed"), replay.Header.Get("Location"))
		}
		for _, c := range []struct{ location, want, token string }{
			{res.Header.Get("Location"), "/api/v1/orders/" + o.ID, f.buyer.AccessToken},
			{e.do("POST", "/api/v1/groups/"+f.group.ID+"/products", f.product("Another vase", "pottery", 300000),
				bearer(f.manager.AccessToken)).Header.Get("Location"), "", f.manager.AccessToken},
			{e.do("POST", "/api/v1/groups", groupRequest("Hala Ajrak Printers", "Matiari", "sindh"),
				bearer(f.manager.AccessToken)).Header.Get("Location"), "", f.manager.AccessToken},
			{e.do("POST", "/api/v1/auth/register", map[string]string{"email": "new@example.pk", "password": "correct horse battery",
				"name": "New", "role": "buyer"}).Header.Get("Location"), "/api/v1/me", f.buyer.AccessToken},
		} {
			if c.want != "" && c.location != c.want {
				t.Errorf("Location %q, want %q", c.location, c.want)
			}
			// What Location names can be read where the resource has a GET.
			e.do("GET", c.location, nil, bearer(c.token)).wantStatus(t, http.StatusOK)
		}
	})
}

func TestUnauthorizedAnswersChallenge(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		buyer := e.register("buyer@example.pk", "buyer")
		for _, c := range []struct {
			name string
			res  *response
			want string
		}{
			{"no token", e.do("GET", "/api/v1/me", nil), "Bearer"},
			{"forged token", e.do("GET", "/api/v1/me", nil, bearer(tamper(buyer.AccessToken))), `Bearer error="invalid_token"`},
			{"not a bearer token", e.do("GET", "/api/v1/products", nil, header("Authorization", "Basic Zm9vOmJhcg==")), `Bearer error="invalid_token"`},
			{"wrong password", e.login("buyer@example.pk", "not the password"), "Bearer"},
		} {
			c.res.wantError(t, http.StatusUnauthorized, "unauthorized")
			if got := c.res.Header.Get("WWW-Authenticate"); got != c.want {
				t.Errorf("%s: WWW-Authenticate %q, want %q", c.name, got, c.want)
			}
		}
	})
}

func TestHEADAnswersEveryGET(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, p := newExampleProduct(e)
		for _, c := range []struct{ path, token string }{
			{"/docs", ""}, {"/openapi.yaml", ""}, {"/metrics", ""}, {"/api/v1/products", ""}, {"/api/v1/products/" + p.ID, ""},
			{"/api/v1/products/" + p.ID + "/transparency", ""}, {"/p/" + p.ID, ""}, {"/p/" + p.ID + "/qr.png", ""},
			{"/api/v1/me", f.buyer.AccessToken}, {"/api/v1/groups/" + f.group.ID + "/artisans", f.manager.AccessToken},
			{"/api/v1/products/0190a0a0-0000-7000-8000-000000000000", ""}, {"/api/v1/me", ""},
		} {
			var opts []reqOption
			if c.token != "" {
				opts = append(opts, bearer(c.token))
			}
			get, head := e.do("GET", c.path, nil, opts...), e.do("HEAD", c.path, nil, opts...)
			if head.Code != get.Code || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("HEAD %s: %d %q, GET: %d %q", c.path, head.Code, head.Header.Get("Content-Type"), get.Code, get.Header.Get("Content-Type"))
			}
			if len(head.Body) != 0 || len(get.Body) == 0 {
				t.Errorf("HEAD %s: %d bytes of body (GET: %d), want none", c.path, len(head.Body), len(get.Body))
			}
		}
	})
}

func TestBodyThatIsNotJSON415(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		for _, c := range []struct{ path, contentType, body, token string }{
			{"/api/v1/auth/register", "application/x-www-form-urlencoded", "email=a%40example.pk&password=x", ""},
			{"/api/v1/auth/login", "multipart/form-data; boundary=x", "--x--", ""},
			{"/api/v1/groups", "text/plain", "{}", manager.AccessToken},
			{"/api/v1/auth/register", "not a media type", "{}", ""},
		} {
			opts := []reqOption{header("Content-Type", c.contentType)}
			if c.token != "" {
				opts = append(opts, bearer(c.token))
			}
			res := e.do("POST", c.path, rawBody(c.body), opts...)
			apiErr := res.wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
			if !strings.Contains(apiErr.Error.Message, "application/json") {
				t.Errorf("message %q does not say what to send", apiErr.Error.Message)
			}
		}
		// JSON with a charset is JSON.
		e.do("POST", "/api/v1/auth/login", map[string]string{"email": "manager@example.pk", "password": "correct horse battery"},
			header("Content-Type", "application/json; charset=utf-8")).wantStatus(t, http.StatusOK)
	})
}

func TestFractionWhereAWholeNumberIsExpected400(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		manager := e.register("manager@example.pk", "producer")
		g := e.newGroup(manager, "Multan Blue Pottery Women", "Multan", "punjab")
		for _, c := range []struct {
			body      rawBody
			want, not string
		}{
			{`{"shipping_fee": {"amount": 4000.5, "currency": "PKR"}}`, "field shipping_fee.amount must be a whole number of minor units", "must be a number"},
			{`{"shipping_fee": {"amount": 1e30, "currency": "PKR"}}`, "whole number of minor units", "must be a number"},
			{`{"profit_sharing": {"method": "equal", "collective_fund_bps": 12.5}}`, "field profit_sharing.collective_fund_bps must be a whole number", "minor units"},
			{`{"shipping_fee": {"amount": "4000", "currency": "PKR"}}`, "field shipping_fee.amount must be a number", "whole"},
		} {
			res := e.do("PATCH", "/api/v1/groups/"+g.ID, c.body, bearer(manager.AccessToken))
			msg := res.wantError(t, http.StatusBadRequest, "bad_request").Error.Message
			if !strings.Contains(msg, c.want) || strings.Contains(msg, c.not) {
				t.Errorf("%s: message %q, want it to say %q and not %q", c.body, msg, c.want, c.not)
			}
		}
	})
}

func TestLargeAnswersAreGzipped(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, p := newExampleProduct(e)
		for _, title := range []string{"Blue pottery bowl", "Blue pottery plate", "Blue pottery jug"} {
			e.newProduct(f, f.product(title, "pottery", 300000), true)
		}
		gz := header("Accept-Encoding", "gzip, deflate, br")
		for _, c := range []struct {
			name, path string
			opts       []reqOption
			gzipped    bool
		}{
			{"a catalogue over 1 KB", "/api/v1/products", []reqOption{gz}, true},
			{"a page", "/p/" + p.ID, []reqOption{gz}, true},
			{"a client that does not accept gzip", "/api/v1/products", nil, false},
			{"a client that refuses gzip", "/api/v1/products", []reqOption{header("Accept-Encoding", "gzip;q=0, identity")}, false},
			{"a body under 1 KB", "/api/v1/me", []reqOption{gz, bearer(f.buyer.AccessToken)}, false},
			{"an image, already compressed", "/p/" + p.ID + "/qr.png", []reqOption{gz}, false},
		} {
			res := e.do("GET", c.path, nil, c.opts...)
			res.wantStatus(t, http.StatusOK)
			if got := res.Header.Get("Content-Encoding") == "gzip"; got != c.gzipped {
				t.Errorf("%s: gzipped %v, want %v (%d bytes)", c.name, got, c.gzipped, len(res.Body))
			}
			if c.gzipped && (res.Sent >= len(res.Body) || len(res.Body) <= 1024) {
				t.Errorf("%s: %d bytes sent for %d", c.name, res.Sent, len(res.Body))
			}
			if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
				t.Errorf("%s: Vary %q", c.name, res.Header.Values("Vary"))
			}
		}
	})
}

func TestPublicCatalogueIsCacheable(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		f, p := newExampleProduct(e)
		for _, path := range []string{"/api/v1/products", "/api/v1/products/" + p.ID, "/api/v1/products/" + p.ID + "/transparency", "/p/" + p.ID} {
			res := e.do("GET", path, nil)
			res.wantStatus(t, http.StatusOK)
			tag := res.Header.Get("ETag")
			if res.Header.Get("Cache-Control") != "public, max-age=60" || !strings.HasPrefix(tag, `"`) || strings.HasPrefix(tag, "W/") {
				t.Fatalf("%s: Cache-Control %q, ETag %q", path, res.Header.Get("Cache-Control"), tag)
			}
			again := e.do("GET", path, nil, header("If-None-Match", `"other", `+tag))
			if again.Code != http.StatusNotModified || len(again.Body) != 0 || again.Header.Get("ETag") != tag {
				t.Fatalf("%s with If-None-Match: %d, ETag %q, %d bytes", path, again.Code, again.Header.Get("ETag"), len(again.Body))
			}
			// The gzipped form has a tag of its own, and either one is recognised.
			gz := e.do("GET", path, nil, header("Accept-Encoding", "gzip"))
			if gz.Header.Get("Content-Encoding") == "gzip" {
				if gz.Header.Get("ETag") == tag {
					t.Errorf("%s: the gzipped answer has the plain answer's strong ETag", path)
				}
				res := e.do("GET", path, nil, header("If-None-Match", gz.Header.Get("ETag")), header("Accept-Encoding", "gzip"))
				if res.Code != http.StatusNotModified || res.Header.Get("ETag") != gz.Header.Get("ETag") {
					t.Errorf("%s with the gzipped tag: %d, ETag %q", path, res.Code, res.Header.Get("ETag"))
				}
			}
			e.do("GET", path, nil, header("If-None-Match", `"stale"`)).wantStatus(t, http.StatusOK)
		}
		// A manager may see drafts: what signed-in callers see is not stored by caches.
		draft := e.newProduct(f, f.product("A draft vase", "pottery", 300000), false)
		for _, path := range []string{"/api/v1/products/" + draft.ID, "/api/v1/products/" + p.ID, "/api/v1/products"} {
			res := e.do("GET", path, nil, bearer(f.manager.AccessToken))
			res.wantStatus(t, http.StatusOK)
			if res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("ETag") != "" {
				t.Errorf("%s signed in: Cache-Control %q, ETag %q", path, res.Header.Get("Cache-Control"), res.Header.Get("ETag"))
			}
		}
		// A change shows at once to a client that revalidates: the tag changes with the body.
		before := e.do("GET", "/api/v1/products/"+p.ID, nil).Header.Get("ETag")
		e.do("PATCH", "/api/v1/products/"+p.ID, map[string]any{"stock": 7}, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)
		e.do("GET", "/api/v1/products/"+p.ID, nil, header("If-None-Match", before)).wantStatus(t, http.StatusOK)
		e.do("GET", "/api/v1/products/"+notFoundID, nil).wantError(t, http.StatusNotFound, "not_found")
	})
}

const notFoundID = "0190a0a0-0000-7000-8000-000000000000"
