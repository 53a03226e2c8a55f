package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/ledger"
)

// envOf is an environment of m's variables. Unless m names one, photos go
// to a folder of the test binary's own (not karigar-media in this package's
// folder, the default relative to the working directory), removed by
// TestMain.
func envOf(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok || k != "KARIGAR_STORAGE_URL" {
			return v
		}
		return "file://" + testMedia
	}
}

var testMedia string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "karigar-cmd-media-")
	if err != nil {
		panic(err)
	}
	testMedia = dir
	// Passwords hash at bcrypt's cheapest cost here, as in the api tests:
	// TestProductionBcryptCost holds the production default.
	bcryptCost = bcrypt.MinCost
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func TestConfigRefusesProductionWithoutSecret(t *testing.T) {
	_, err := loadConfig(envOf(map[string]string{"KARIGAR_ENV": "production"}))
	if err == nil || !strings.Contains(err.Error(), "KARIGAR_JWT_SECRET") {
		t.Fatalf("err = %v, want one naming KARIGAR_JWT_SECRET", err)
	}
	_, err = loadConfig(envOf(map[string]string{"KARIGAR_ENV": "production", "KARIGAR_JWT_SECRET": "too-short"}))
	if err == nil || !strings.Contains(err.Error(), "at least 32 bytes") {
		t.Fatalf("short secret: err = %v", err)
	}
	_, err = loadConfig(envOf(map[string]string{"KARIGAR_ENV": "production", "KARIGAR_JWT_SECRET": strings.Repeat("s", 32)}))
	if err == nil || !strings.Contains(err.Error(), "KARIGAR_LEDGER_SIGNING_KEY") {
		t.Fatalf("no ledger key: err = %v", err)
	}
	_, err = loadConfig(envOf(map[string]string{"KARIGAR_ENV": "production", "KARIGAR_JWT_SECRET": strings.Repeat("s", 32),
		"KARIGAR_LEDGER_SIGNING_KEY": base64.StdEncoding.EncodeToString(make([]byte, 48))}))
	if err == nil || !strings.Contains(err.Error(), "32 bytes in base64") {
		t.Fatalf("a 48-byte ledger key: err = %v", err)
	}
	c, err := loadConfig(envOf(productionEnv()))
	if err != nil || c.JWTSecretGenerated || c.LedgerKeyDerived || len(c.LedgerSigningKey) != 64 {
		t.Fatalf("good production config: %v, generated=%v", err, c.JWTSecretGenerated)
	}
}

func TestConfigDevelopmentGeneratesSecret(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if !c.JWTSecretGenerated || len(c.JWTSecret) < 32 {
		t.Fatalf("secret generated=%v len=%d", c.JWTSecretGenerated, len(c.JWTSecret))
	}
	if c.Addr != ":8080" || c.Currency != "PKR" || c.PlatformFeeBPS != 1000 || c.OrderTTL != 30*time.Minute || c.ShutdownDrain != 5*time.Second ||
		!strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := loadConfig(envOf(map[string]string{
		"KARIGAR_ENV":              "staging",
		"KARIGAR_DATABASE_URL":     "mysql://x",
		"KARIGAR_PLATFORM_FEE_BPS": "12000",
		"KARIGAR_PUBLIC_URL":       "karigar.pk",
		"KARIGAR_CURRENCY":         "rupees",
		"KARIGAR_ORDER_TTL":        "forever",
		"KARIGAR_LOG_LEVEL":        "loud",
		"KARIGAR_SHUTDOWN_DRAIN":   "-5s",
		"KARIGAR_CORS_ORIGINS":     "https://ok.example, not an origin",
		"STRIPE_WEBHOOK_SECRET":    "whsec_x",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	for _, k := range []string{"KARIGAR_ENV", "KARIGAR_DATABASE_URL", "KARIGAR_PLATFORM_FEE_BPS", "KARIGAR_PUBLIC_URL",
		"KARIGAR_CURRENCY", "KARIGAR_ORDER_TTL", "KARIGAR_LOG_LEVEL", "KARIGAR_CORS_ORIGINS", "STRIPE_WEBHOOK_SECRET",
		"KARIGAR_SHUTDOWN_DRAIN"} {
		if !strings.Contains(err.Error(), k) {
			t.Errorf("error does not name %s:\n%v", k, err)
		}
	}
}

func TestRunRefusesBadConfigWithExitCode2(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"serve"}, envOf(map[string]string{"KARIGAR_ENV": "production"}), &out, &errOut)
	if code != 2 || !strings.Contains(errOut.String(), "KARIGAR_JWT_SECRET") {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
}

// lockedBuffer collects the server's log while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listening = regexp.MustCompile(`"msg":"listening","addr":"([^"]+)"`)

// TestServeEndToEnd runs the real binary's entry point on port 0 against a
// fresh database: migrate, create an admin with the CLI, serve, sign in over
// real HTTP, and shut down gracefully.
func TestServeEndToEnd(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			env := envOf(map[string]string{
				"KARIGAR_ADDR":         "127.0.0.1:0",
				"KARIGAR_DATABASE_URL": modelstest.URL(t, engine),
				"KARIGAR_JWT_SECRET":   strings.Repeat("k", 40),
			})
			var out, errOut bytes.Buffer
			if code := run(t.Context(), []string{"migrate"}, env, &out, &errOut); code != 0 {
				t.Fatalf("migrate: %d %s %s", code, out.String(), errOut.String())
			}
			if code := run(t.Context(), []string{"migrate"}, env, &out, &errOut); code != 0 {
				t.Fatalf("second migrate: %d %s", code, errOut.String())
			}
			out.Reset()
			code := run(t.Context(), []string{"admin", "create", "--email", "root@karigar.pk", "--password", "a long admin password",
				"--name", "Root"}, env, &out, &errOut)
			if code != 0 || !strings.Contains(out.String(), "created admin root@karigar.pk") {
				t.Fatalf("admin create: %d %q %q", code, out.String(), errOut.String())
			}
			// Refused, not misused: exit status 1, each problem said once.
			errOut.Reset()
			if code := run(t.Context(), []string{"admin", "create", "--email", "root2@karigar.pk", "--password", "short", "--name", "R"},
				env, io.Discard, &errOut); code != 1 || errOut.String() != "karigar: password must be at least 10 characters\n" {
				t.Fatalf("a short password: exit %d, stderr %q", code, errOut.String())
			}
			errOut.Reset()
			if code := run(t.Context(), []string{"admin", "create", "--email", "root@karigar.pk", "--password", "another long password",
				"--name", "R"}, env, io.Discard, &errOut); code != 1 || errOut.String() != "karigar: an account with this email already exists\n" {
				t.Fatalf("a taken email: exit %d, stderr %q", code, errOut.String())
			}
			if code := run(t.Context(), []string{"admin", "create", "--emial", "x"}, env, io.Discard, io.Discard); code != 2 {
				t.Fatalf("a wrong flag exited %d, want 2", code)
			}
			out.Reset()
			if code := run(t.Context(), []string{"seed", "--demo"}, env, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "seeded 12 groups") {
				t.Fatalf("seed --demo: %d %q %q", code, out.String(), errOut.String())
			}
			out.Reset()
			if code := run(t.Context(), []string{"seed", "--demo"}, env, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), "seeded 0 groups, 0 artisans, 0 products (12 groups were there already)") {
				t.Fatalf("second seed --demo: %d %q %q", code, out.String(), errOut.String())
			}
			if code := run(t.Context(), []string{"seed"}, env, io.Discard, io.Discard); code != 2 {
				t.Fatalf("seed without --demo exited %d, want 2", code)
			}

			// Generous start-up wait (startServe): under the race detector on a busy two-core
			// machine, start-up (the spec and the /docs page are built at start) has taken over 10 s.
			base, cancel, done, logs := startServe(t, env)
			for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.yaml", "/docs"} {
				res, err := http.Get(base + p)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("GET %s: %d", p, res.StatusCode)
				}
			}
			res, err := http.Get(base + "/api/v1/products?q=ajrak&limit=100")
			if err != nil {
				t.Fatal(err)
			}
			var found struct {
				Data []struct{ Title string } `json:"data"`
			}
			_ = json.NewDecoder(res.Body).Decode(&found)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || len(found.Data) < 5 || !strings.Contains(strings.ToLower(found.Data[0].Title), "ajrak") {
				t.Fatalf("search of the seeded catalogue: %d %+v", res.StatusCode, found)
			}
			res, err = http.Post(base+"/api/v1/auth/login", "application/json",
				strings.NewReader(`{"email":"root@karigar.pk","password":"a long admin password"}`))
			if err != nil {
				t.Fatal(err)
			}
			var sess struct {
				User struct{ Role string } `json:"user"`
			}
			_ = json.NewDecoder(res.Body).Decode(&sess)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || sess.User.Role != "admin" {
				t.Fatalf("login: %d %+v", res.StatusCode, sess)
			}

			cancel() // what SIGTERM does through signal.NotifyContext
			select {
			case code := <-done:
				if code != 0 {
					t.Fatalf("serve exited %d:\n%s", code, logs.String())
				}
			case <-time.After(25 * time.Second):
				t.Fatal("serve did not shut down")
			}
			if !strings.Contains(logs.String(), `"msg":"stopped"`) {
				t.Fatalf("no clean stop in the log:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), "a long admin password") || strings.Contains(logs.String(), "root@karigar.pk") {
				t.Fatal("the log holds a password or an email address")
			}
		})
	}
}

// karigar ledger verify prints the verification and fails when the books
// were altered.
func TestLedgerVerifyCommand(t *testing.T) {
	for _, engine := range modelstest.Engines() {
		t.Run(engine, func(t *testing.T) {
			url := modelstest.URL(t, engine)
			env := envOf(map[string]string{"KARIGAR_DATABASE_URL": url, "KARIGAR_JWT_SECRET": strings.Repeat("k", 40)})
			var out, errOut bytes.Buffer
			if code := run(t.Context(), []string{"ledger", "verify"}, env, &out, &errOut); code != 1 ||
				!strings.Contains(out.String(), "karigar migrate") {
				t.Fatalf("unmigrated database: %d %s", code, out.String())
			}
			if code := run(t.Context(), []string{"migrate"}, env, &out, &errOut); code != 0 {
				t.Fatalf("migrate: %s", errOut.String())
			}
			out.Reset()
			if code := run(t.Context(), []string{"ledger", "verify"}, env, &out, &errOut); code != 0 ||
				!strings.Contains(out.String(), `"ok": true`) {
				t.Fatalf("empty ledger: %d %s %s", code, out.String(), errOut.String())
			}
			cfg, err := loadConfig(env)
			if err != nil {
				t.Fatal(err)
			}
			db, err := openDB(t.Context(), &cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			if err != nil {
				t.Fatal(err)
			}
			defer models.Close(db)
			svc, err := api.Build(db, wiring(cfg, slog.New(slog.DiscardHandler)))
			if err != nil {
				t.Fatal(err)
			}
			l := svc.Ledger
			a := ledger.Artisan(models.NewID(), models.NewID())
			tr, _, err := l.Post(t.Context(), ledger.Entry{Reference: "r1", Kind: ledger.KindTransfer, GroupID: &a.GroupID,
				Postings: []ledger.Posting{{Owner: ledger.Platform, Type: ledger.TypeCardReceipts, Amount: -500, Currency: "PKR"},
					{Owner: a, Type: ledger.TypePayable, Amount: 500, Currency: "PKR"}}})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Transaction(func(tx *gorm.DB) error {
				if models.DialectOf(tx) == models.Postgres {
					if err := tx.Exec("SET LOCAL session_replication_role = replica").Error; err != nil {
						return err
					}
				} else if err := tx.Exec("DROP TRIGGER ledger_transactions_no_update").Error; err != nil {
					return err
				}
				return tx.Exec("UPDATE ledger_transactions SET memo = 'edited' WHERE id = ?", tr.ID).Error
			})
			if err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if code := run(t.Context(), []string{"ledger", "verify"}, env, &out, &errOut); code != 1 ||
				!strings.Contains(out.String(), tr.ID.String()) {
				t.Fatalf("altered ledger: %d %s", code, out.String())
			}
			// The payable given to someone else: the account is named too.
			if err := db.Exec("UPDATE ledger_accounts SET owner_id = ? WHERE owner_id = ?", models.NewID(), a.ID).Error; err != nil {
				t.Fatal(err)
			}
			var payable models.LedgerAccount
			if err := db.First(&payable, "type = ? AND owner_kind = ?", ledger.TypePayable, models.OwnerArtisan).Error; err != nil {
				t.Fatal(err)
			}
			out.Reset()
			if code := run(t.Context(), []string{"ledger", "verify"}, env, &out, &errOut); code != 1 ||
				!strings.Contains(out.String(), `"first_bad_account"`) || !strings.Contains(out.String(), payable.ID.String()) {
				t.Fatalf("account given to someone else: %d %s", code, out.String())
			}
			if code := run(t.Context(), []string{"ledger", "check"}, env, &out, &errOut); code != 2 {
				t.Fatalf("unknown subcommand: %d", code)
			}
		})
	}
}

// productionEnv is a complete production configuration on PostgreSQL; tests
// take one setting away at a time.
func productionEnv() map[string]string {
	return map[string]string{
		"KARIGAR_ENV":                "production",
		"KARIGAR_JWT_SECRET":         strings.Repeat("s", 32),
		"KARIGAR_LEDGER_SIGNING_KEY": base64.StdEncoding.EncodeToString([]byte(strings.Repeat("k", 32))),
		"KARIGAR_PUBLIC_URL":         "https://karigar.example.pk",
		"KARIGAR_PII_KEY":            base64.StdEncoding.EncodeToString([]byte(strings.Repeat("p", 32))),
		"KARIGAR_DATABASE_URL":       "postgres://karigar@db.internal:5432/karigar?sslmode=require",
	}
}

// Production refuses to start without its public URL (QR codes on printed
// tags would point at localhost) and the key for personal data, and on
// SQLite unless that is asked for in so many words.
func TestConfigProductionGuards(t *testing.T) {
	if _, err := loadConfig(envOf(productionEnv())); err != nil {
		t.Fatalf("a complete production configuration: %v", err)
	}
	for name, tc := range map[string]struct {
		change map[string]string
		want   string // in the error; "" for no error
	}{
		"no public URL":              {map[string]string{"KARIGAR_PUBLIC_URL": ""}, "KARIGAR_PUBLIC_URL: is required in production"},
		"a localhost public URL":     {map[string]string{"KARIGAR_PUBLIC_URL": "http://localhost:8080"}, "KARIGAR_PUBLIC_URL"},
		"a loopback public URL":      {map[string]string{"KARIGAR_PUBLIC_URL": "http://127.0.0.1"}, "KARIGAR_PUBLIC_URL"},
		"no PII key":                 {map[string]string{"KARIGAR_PII_KEY": ""}, "KARIGAR_PII_KEY: is required in production"},
		"a short PII key":            {map[string]string{"KARIGAR_PII_KEY": base64.StdEncoding.EncodeToString(make([]byte, 16))}, "KARIGAR_PII_KEY: must be 32 bytes"},
		"a PII key that is a phrase": {map[string]string{"KARIGAR_PII_KEY": "my secret key for phone numbers!"}, "KARIGAR_PII_KEY: must be 32 bytes"},
		"a PII key in hex":           {map[string]string{"KARIGAR_PII_KEY": strings.Repeat("ab", 32)}, ""},
		"SQLite":                     {map[string]string{"KARIGAR_DATABASE_URL": ""}, "KARIGAR_DATABASE_URL: SQLite in production"},
		"SQLite by URL":              {map[string]string{"KARIGAR_DATABASE_URL": "sqlite:///var/lib/karigar.db"}, "KARIGAR_ALLOW_SQLITE=true"},
		"SQLite allowed":             {map[string]string{"KARIGAR_DATABASE_URL": "sqlite:///var/lib/karigar.db", "KARIGAR_ALLOW_SQLITE": "true"}, ""},
		"a bad ALLOW_SQLITE":         {map[string]string{"KARIGAR_ALLOW_SQLITE": "yes please"}, "KARIGAR_ALLOW_SQLITE"},
	} {
		t.Run(name, func(t *testing.T) {
			env := productionEnv()
			for k, v := range tc.change {
				env[k] = v
			}
			_, err := loadConfig(envOf(env))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
	// Development needs none of it, but a PII key that is set must be well formed.
	if _, err := loadConfig(envOf(map[string]string{"KARIGAR_PII_KEY": "short"})); err == nil || !strings.Contains(err.Error(), "KARIGAR_PII_KEY") {
		t.Fatalf("a malformed PII key in development: %v", err)
	}
	// The binary exits non-zero, naming what is missing.
	env := productionEnv()
	delete(env, "KARIGAR_PII_KEY")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"serve"}, envOf(env), &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "KARIGAR_PII_KEY") {
		t.Fatalf("code %d, stderr %q", code, errOut.String())
	}
}

// A SQLite file in a folder that cannot be written is named as such, not as
// SQLite's "out of memory (14)".
func TestUnwritableSQLiteFolder(t *testing.T) {
	dir := "/proc" // no files can be made there, even by root
	if os.Geteuid() != 0 {
		dir = filepath.Join(t.TempDir(), "ro")
		if err := os.Mkdir(dir, 0o555); err != nil {
			t.Fatal(err)
		}
	} else if _, err := os.Stat(dir); err != nil {
		t.Skip("no /proc here")
	}
	env := envOf(map[string]string{"KARIGAR_DATABASE_URL": "sqlite://" + dir + "/karigar.db"})
	var out bytes.Buffer
	code := run(t.Context(), []string{"migrate"}, env, &out, &out)
	if code != 1 || !strings.Contains(out.String(), "the folder "+dir+" of the database "+dir+"/karigar.db cannot be written") ||
		strings.Contains(out.String(), "out of memory") {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
}

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	if code := run(t.Context(), []string{"version"}, envOf(nil), &out, io.Discard); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if !regexp.MustCompile(`^karigar \S+\nrevision .+\ngo1\.\d+`).MatchString(out.String()) {
		t.Fatalf("version: %q", out.String())
	}
}

// KARIGAR_STORAGE_URL: a folder by default, served by this server at
// /media; an S3 bucket needs its credentials and may have a public URL;
// anything else is refused at start, naming the variable.
func TestConfigStorageURL(t *testing.T) {
	c, err := loadConfig(func(k string) string { return map[string]string{}[k] })
	if err != nil {
		t.Fatal(err)
	}
	if c.StorageURL != DefaultStorageURL || c.MediaURL != "http://localhost:8080/media" || !strings.HasPrefix(c.Storage.String(), "folder /") {
		t.Fatalf("default: %q %q %s", c.StorageURL, c.MediaURL, c.Storage)
	}
	s3 := map[string]string{"KARIGAR_STORAGE_URL": "s3://karigar-photos?endpoint=https://s3.example.pk&region=auto&public_url=https://cdn.example.pk/photos",
		"AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "secret"}
	if c, err = loadConfig(envOf(s3)); err != nil || c.MediaURL != "https://cdn.example.pk/photos" || c.Storage.String() != "s3 bucket karigar-photos at https://s3.example.pk" {
		t.Fatalf("s3: %v %q %v", err, c.MediaURL, c.Storage)
	}
	for name, env := range map[string]map[string]string{
		"s3 without credentials": {"KARIGAR_STORAGE_URL": "s3://karigar-photos?region=auto"},
		"another scheme":         {"KARIGAR_STORAGE_URL": "ftp://media.example.pk/photos"},
		"a secret in the URL":    {"KARIGAR_STORAGE_URL": "s3://b?secret_key=x", "AWS_ACCESS_KEY_ID": "id", "AWS_SECRET_ACCESS_KEY": "s"},
	} {
		if _, err := loadConfig(envOf(env)); err == nil || !strings.Contains(err.Error(), "KARIGAR_STORAGE_URL") {
			t.Errorf("%s: %v, want an error naming KARIGAR_STORAGE_URL", name, err)
		}
	}
}

// The binary hashes passwords at auth's default cost, what production
// runs; TestMain lowers it for the other tests of this package only. Not
// parallel: it sets bcryptCost back while it runs.
func TestProductionBcryptCost(t *testing.T) {
	lowered := bcryptCost
	bcryptCost = 0
	defer func() { bcryptCost = lowered }()
	engine := modelstest.Engines()[0]
	env := envOf(map[string]string{"KARIGAR_DATABASE_URL": modelstest.URL(t, engine), "KARIGAR_JWT_SECRET": strings.Repeat("k", 40)})
	if code := run(t.Context(), []string{"migrate"}, env, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate: %d", code)
	}
	var errOut bytes.Buffer
	if code := run(t.Context(), []string{"admin", "create", "--email", "root@karigar.pk", "--password", "a long admin password",
		"--name", "Root"}, env, io.Discard, &errOut); code != 0 {
		t.Fatalf("admin create: %d %s", code, errOut.String())
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
	var u models.User
	if err := db.First(&u, "role = ?", models.RoleAdmin).Error; err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost([]byte(u.PasswordHash)); err != nil || cost != 12 {
		t.Fatalf("the admin's password is hashed at cost %d (%v), want 12, production's", cost, err)
	}
}
