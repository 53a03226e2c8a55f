package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/stats"
)

// config is everything the environment can set. loadConfig validates it all
// at start and reports every problem at once.
type config struct {
	Env                 string // development or production
	Addr                string
	DatabaseURL         string
	JWTSecret           []byte
	JWTSecretGenerated  bool
	PlatformFeeBPS      int
	ProcessingFeeBPS    int
	PublicURL           string
	Currency            string
	OrderTTL            time.Duration
	ShutdownDrain       time.Duration // how long to serve with /readyz failing after SIGTERM
	CORSOrigins         []string
	TrustedProxies      []string
	LogLevel            slog.Level
	StripeSecretKey     string
	StripeWebhookSecret string
	StripeAPIBase       string
	LedgerSigningKey    ed25519.PrivateKey // signs the ledger's checkpoints
	LedgerKeyDerived    bool               // derived from the JWT secret (development only)
	// PIIKey seals personal data at rest (services/pii), and
	// PIIPreviousKeys open what earlier keys sealed while a rotation runs.
	// Without a key, development seals with a key file beside the SQLite
	// database (PIIKeyFile), made on first use, or on PostgreSQL with the
	// published development key (PIIDevelopmentKey); production requires
	// one. PII is the box made from them (unlockPII), once the database's
	// folder is known to be writable.
	PIIKey            []byte
	PIIPreviousKeys   [][]byte
	PIIKeyFile        string
	PIIDevelopmentKey bool
	PII               *pii.Box
	AllowSQLite       bool // production on SQLite, asked for in so many words
	// The SMS gateway (Kannel): where the outbox is sent, and the secret of
	// Kannel's calls to /api/v1/sms/inbound. No SMSURL: messages wait.
	SMSURL          string
	SMSUser         string
	SMSPassword     string
	SMSFrom         string
	SMSInboundToken string

	// StatsMinCell is the fewest workers a published statistics cell may have.
	StatsMinCell int
	// StorageURL names where product photos are kept (KARIGAR_STORAGE_URL);
	// Storage is it opened (nothing reached yet), MediaURL where clients
	// fetch the photos: the storage's public_url, or this server's /media.
	StorageURL string
	Storage    media.Storage
	MediaURL   string
	// PprofAddr is where net/http/pprof is served, on a listener of its
	// own (KARIGAR_PPROF_ADDR); empty, the default, serves no profiles.
	PprofAddr string
}

func (c config) production() bool { return c.Env == "production" }

func loadConfig(getenv func(string) string) (config, error) {
	get := func(k, def string) string {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	bad := func(k, format string, args ...any) { errs = append(errs, fmt.Errorf(k+": "+format, args...)) }

	c := config{
		Env:                 get("KARIGAR_ENV", "development"),
		Addr:                get("KARIGAR_ADDR", ":8080"),
		DatabaseURL:         get("KARIGAR_DATABASE_URL", models.DefaultDatabaseURL),
		PublicURL:           get("KARIGAR_PUBLIC_URL", "http://localhost:8080"),
		Currency:            get("KARIGAR_CURRENCY", "PKR"),
		StripeSecretKey:     get("STRIPE_SECRET_KEY", ""),
		StripeWebhookSecret: get("STRIPE_WEBHOOK_SECRET", ""),
		StripeAPIBase:       get("STRIPE_API_BASE", ""),
		CORSOrigins:         list(get("KARIGAR_CORS_ORIGINS", "")),
		TrustedProxies:      list(get("KARIGAR_TRUSTED_PROXIES", "")),
		SMSURL:              get("KARIGAR_SMS_URL", ""),
		SMSUser:             get("KARIGAR_SMS_USER", ""),
		SMSPassword:         getenv("KARIGAR_SMS_PASSWORD"),
		SMSFrom:             get("KARIGAR_SMS_FROM", ""),
		SMSInboundToken:     get("KARIGAR_SMS_INBOUND_TOKEN", ""),
		StorageURL:          get("KARIGAR_STORAGE_URL", DefaultStorageURL),
	}
	if c.Env != "development" && c.Env != "production" {
		bad("KARIGAR_ENV", "must be development or production, not %q", c.Env)
	}
	if !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") &&
		!strings.HasPrefix(c.DatabaseURL, "sqlite://") {
		bad("KARIGAR_DATABASE_URL", "must start with postgres://, postgresql:// or sqlite://")
	}
	switch secret := getenv("KARIGAR_JWT_SECRET"); {
	case secret == "" && c.production():
		bad("KARIGAR_JWT_SECRET", "is required in production (at least %d bytes)", auth.MinSecretBytes)
	case secret == "":
		c.JWTSecret = make([]byte, 32)
		_, _ = rand.Read(c.JWTSecret)
		c.JWTSecretGenerated = true
	case len(secret) < auth.MinSecretBytes:
		bad("KARIGAR_JWT_SECRET", "must be at least %d bytes, got %d", auth.MinSecretBytes, len(secret))
	default:
		c.JWTSecret = []byte(secret)
	}
	switch seed := getenv("KARIGAR_LEDGER_SIGNING_KEY"); {
	case seed == "" && c.production():
		bad("KARIGAR_LEDGER_SIGNING_KEY", "is required in production: an Ed25519 seed, 32 bytes in base64 (openssl rand -base64 32)")
	case seed == "":
		// Development: a key tied to the JWT secret, so checkpoints survive restarts when the secret does.
		c.LedgerSigningKey = ed25519.NewKeyFromSeed(api.DeriveKey(c.JWTSecret, "ledger-signing"))
		c.LedgerKeyDerived = true
	default:
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(seed))
		if err != nil || len(raw) != ed25519.SeedSize {
			bad("KARIGAR_LEDGER_SIGNING_KEY", "must be an Ed25519 seed: 32 bytes in base64 (openssl rand -base64 32)")
		} else {
			c.LedgerSigningKey = ed25519.NewKeyFromSeed(raw)
		}
	}
	c.PlatformFeeBPS = bps(get("KARIGAR_PLATFORM_FEE_BPS", "1000"), "KARIGAR_PLATFORM_FEE_BPS", bad)
	c.ProcessingFeeBPS = bps(get("KARIGAR_PROCESSING_FEE_BPS", "300"), "KARIGAR_PROCESSING_FEE_BPS", bad)
	if c.PlatformFeeBPS+c.ProcessingFeeBPS > 10000 {
		bad("KARIGAR_PLATFORM_FEE_BPS", "platform and processing fees together exceed 100%%")
	}
	// The public URL is printed on tags as QR codes: in production the
	// development default (localhost) would send every buyer nowhere.
	switch u, err := url.Parse(c.PublicURL); {
	case c.production() && strings.TrimSpace(getenv("KARIGAR_PUBLIC_URL")) == "":
		bad("KARIGAR_PUBLIC_URL", "is required in production: the address buyers reach, printed on product tags as QR codes (e.g. https://karigar.pk)")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad("KARIGAR_PUBLIC_URL", "must be an absolute http(s) URL, not %q", c.PublicURL)
	case c.production() && loopback(u.Hostname()):
		bad("KARIGAR_PUBLIC_URL", "is %q in production: QR codes would point at the buyer's own machine", c.PublicURL)
	default:
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	}
	switch key := strings.TrimSpace(getenv("KARIGAR_PII_KEY")); {
	case key == "" && c.production():
		bad("KARIGAR_PII_KEY", "is required in production: 32 random bytes in base64 (openssl rand -base64 32) or hex (openssl rand -hex 32)")
	case key == "" && strings.HasPrefix(c.DatabaseURL, "sqlite://"):
		c.PIIKeyFile = sqlitePath(c.DatabaseURL) + ".pii-key"
	case key == "":
		c.PIIDevelopmentKey = true
	default:
		if c.PIIKey = piiKey(key); c.PIIKey == nil {
			bad("KARIGAR_PII_KEY", "must be 32 bytes in base64 (openssl rand -base64 32) or hex (openssl rand -hex 32)")
		}
	}
	previous := list(get("KARIGAR_PII_PREVIOUS_KEYS", ""))
	if len(previous) > 0 && c.PIIKey == nil && strings.TrimSpace(getenv("KARIGAR_PII_KEY")) == "" {
		bad("KARIGAR_PII_PREVIOUS_KEYS", "is set but KARIGAR_PII_KEY is not: the new key goes in KARIGAR_PII_KEY, the keys it replaces here")
	}
	for i, v := range previous {
		k := piiKey(v)
		if v == "development" {
			k = developmentPIIKey
		}
		if k == nil {
			// Never the value itself in a message: it is a key.
			bad("KARIGAR_PII_PREVIOUS_KEYS", "key %d of %d must be 32 bytes in base64 or hex (or the word development)", i+1, len(previous))
		}
		c.PIIPreviousKeys = append(c.PIIPreviousKeys, k)
	}
	allow, err := strconv.ParseBool(get("KARIGAR_ALLOW_SQLITE", "false"))
	if err != nil {
		bad("KARIGAR_ALLOW_SQLITE", "must be true or false")
	}
	c.AllowSQLite = allow
	// SQLite is one file on one machine: one replica, no failover, backups
	// by hand. Production may use it only when the operator says so.
	if c.production() && strings.HasPrefix(c.DatabaseURL, "sqlite://") && !c.AllowSQLite {
		bad("KARIGAR_DATABASE_URL", "SQLite in production (%s) is refused: set a postgres:// URL, or KARIGAR_ALLOW_SQLITE=true to run a single replica on SQLite knowingly",
			c.DatabaseURL)
	}
	if !models.ValidCurrency(c.Currency) {
		bad("KARIGAR_CURRENCY", "must be an ISO 4217 code such as PKR, not %q", c.Currency)
	}
	ttl, err := time.ParseDuration(get("KARIGAR_ORDER_TTL", "30m"))
	if err != nil || ttl < time.Minute || ttl > 7*24*time.Hour {
		bad("KARIGAR_ORDER_TTL", "must be a duration from 1m to 168h, such as 30m")
	}
	c.OrderTTL = ttl
	// The drain must outlast the readiness probe's period times its failure
	// threshold; a minute is far beyond any probe and within Kubernetes'
	// termination grace period when that is raised to match.
	drain, err := time.ParseDuration(get("KARIGAR_SHUTDOWN_DRAIN", "5s"))
	if err != nil || drain < 0 || drain > time.Minute {
		bad("KARIGAR_SHUTDOWN_DRAIN", "must be a duration from 0s to 1m, such as 5s")
	}
	c.ShutdownDrain = drain
	minCell, err := strconv.Atoi(get("KARIGAR_STATS_MIN_CELL", strconv.Itoa(stats.DefaultMinCell)))
	if err != nil || minCell < stats.LeastMinCell || minCell > 1000 {
		bad("KARIGAR_STATS_MIN_CELL", "must be a whole number of workers from %d to 1000, such as %d", stats.LeastMinCell, stats.DefaultMinCell)
	}
	c.StatsMinCell = minCell
	if err := c.LogLevel.UnmarshalText([]byte(get("KARIGAR_LOG_LEVEL", "info"))); err != nil {
		bad("KARIGAR_LOG_LEVEL", "must be debug, info, warn or error")
	}
	if c.StripeAPIBase != "" {
		if u, err := url.Parse(c.StripeAPIBase); err != nil || u.Scheme == "" || u.Host == "" {
			bad("STRIPE_API_BASE", "must be an absolute URL")
		}
	}
	if c.StripeSecretKey != "" && c.StripeWebhookSecret == "" {
		// Without webhooks a card payment would never settle.
		bad("STRIPE_WEBHOOK_SECRET", "is required with STRIPE_SECRET_KEY: card payments settle through the webhook")
	}
	if c.StripeWebhookSecret != "" && c.StripeSecretKey == "" {
		bad("STRIPE_WEBHOOK_SECRET", "is set but STRIPE_SECRET_KEY is not")
	}
	smsConfig(c, bad)
	c.PprofAddr = pprofAddr(get("KARIGAR_PPROF_ADDR", ""), bad)
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "" || u.Path != "") {
			bad("KARIGAR_CORS_ORIGINS", "%q is not an origin such as https://shop.example.pk", o)
		}
	}
	storage, public, err := media.Open(c.StorageURL, getenv)
	if err != nil {
		bad("KARIGAR_STORAGE_URL", "%v (file:///var/lib/karigar/media, or s3://bucket?endpoint=https://host&region=r with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", err)
	}
	c.Storage, c.MediaURL = storage, public
	if c.MediaURL == "" {
		c.MediaURL = c.PublicURL + api.MediaPath
	}
	return c, errors.Join(errs...)
}

// smsConfig checks the SMS gateway's variables: all or none of URL, user
// and password, and the PII key that opens the numbers to send to.
func smsConfig(c config, bad func(string, string, ...any)) {
	if c.SMSURL != "" {
		if u, err := url.Parse(c.SMSURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("KARIGAR_SMS_URL", "must be the absolute http(s) URL of Kannel's sendsms interface, such as http://127.0.0.1:13013/cgi-bin/sendsms")
		}
		if c.SMSUser == "" || c.SMSPassword == "" {
			bad("KARIGAR_SMS_URL", "needs KARIGAR_SMS_USER and KARIGAR_SMS_PASSWORD: a sendsms-user of Kannel's smsbox")
		}
		if c.PIIKey == nil {
			bad("KARIGAR_SMS_URL", "needs KARIGAR_PII_KEY: the numbers are stored sealed and the sender opens them with it")
		}
	} else if c.SMSUser != "" || c.SMSPassword != "" || c.SMSFrom != "" {
		bad("KARIGAR_SMS_URL", "is not set, but KARIGAR_SMS_USER, KARIGAR_SMS_PASSWORD or KARIGAR_SMS_FROM is")
	}
	if len(c.SMSFrom) > 16 {
		bad("KARIGAR_SMS_FROM", "must be at most 16 characters (11 for a name, 16 digits for a number)")
	}
	if t := c.SMSInboundToken; t != "" && !inboundToken.MatchString(t) {
		bad("KARIGAR_SMS_INBOUND_TOKEN", "must be 16 to 128 letters, digits, '-', '_', '.' or '~' (it travels in a URL): openssl rand -hex 24")
	}
}

// pprofAddr is the profiling listener's address: none when v is empty; a
// port alone (6060 or :6060) listens on loopback only, since Go's ":6060"
// would mean every interface, and profiles show the program's inside (its
// command line, its goroutines' stacks). Another interface is served only
// when its host is written out (0.0.0.0:6060, 10.0.0.5:6060).
func pprofAddr(v string, bad func(string, string, ...any)) string {
	if v == "" {
		return ""
	}
	if _, err := strconv.ParseUint(v, 10, 16); err == nil {
		v = ":" + v
	}
	host, port, err := net.SplitHostPort(v)
	if _, perr := strconv.ParseUint(port, 10, 16); err != nil || perr != nil {
		bad("KARIGAR_PPROF_ADDR", "must be a port (6060, served on 127.0.0.1) or host:port, not %q", v)
		return ""
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// inboundToken is a secret that can sit in a URL's query as it is.
var inboundToken = regexp.MustCompile(`^[A-Za-z0-9._~-]{16,128}$`)

// DefaultStorageURL keeps photos in a folder beside the default SQLite
// database, relative to the working directory.
const DefaultStorageURL = "file:karigar-media"

// piiKey decodes a 32-byte key written in hex (64 digits) or standard or
// URL-safe base64; nil when it is neither.
func piiKey(v string) []byte {
	k, err := pii.ParseKey(v)
	if err != nil {
		return nil
	}
	return k
}

// developmentPIIKey seals personal data in development on PostgreSQL when
// no KARIGAR_PII_KEY is set (docker compose up with no karigar.env): every
// Karigar has it, so it protects nothing, but the data is sealed as in
// production and survives restarts and the separate migrate container.
// KARIGAR_PII_PREVIOUS_KEYS=development names it when moving to a real key.
var developmentPIIKey = func() []byte {
	k := sha256.Sum256([]byte("karigar/pii/development: published, protects nothing"))
	return k[:]
}()

// sqlitePath is the file of a sqlite:// URL.
func sqlitePath(databaseURL string) string {
	path, _, _ := strings.Cut(strings.TrimPrefix(databaseURL, "sqlite://"), "?")
	if path == "" {
		path, _, _ = strings.Cut(strings.TrimPrefix(models.DefaultDatabaseURL, "sqlite://"), "?")
	}
	return path
}

// unlockPII makes the box that seals personal data from the configured
// keys, or in development without one from the key file beside the SQLite
// database (made, 0600, when it does not exist) or the published
// development key, warning that it does so.
func (c *config) unlockPII(log *slog.Logger) error {
	current := c.PIIKey
	switch {
	case current != nil:
	case c.PIIKeyFile != "":
		k, made, err := keyFile(c.PIIKeyFile)
		if err != nil {
			return fmt.Errorf("KARIGAR_PII_KEY is not set and the development key file cannot be used: %w", err)
		}
		current = k
		verb := "sealed with the key in"
		if made {
			verb = "sealed with a new random key, written to"
		}
		log.Warn("KARIGAR_PII_KEY is not set: personal data (phone numbers, CNICs, addresses) is "+verb+" the key file beside the database (development only); without that file it cannot be read",
			"key_file", c.PIIKeyFile)
	case c.PIIDevelopmentKey:
		current = developmentPIIKey
		log.Warn("KARIGAR_PII_KEY is not set: personal data is sealed with the published development key, which protects nothing (development only); set KARIGAR_PII_KEY, with KARIGAR_PII_PREVIOUS_KEYS=development, and run karigar pii rotate-key to move to a key of your own")
	default:
		return errors.New("KARIGAR_PII_KEY is required")
	}
	box, err := pii.New(current, c.PIIPreviousKeys...)
	if err != nil {
		return err
	}
	c.PII = box
	return nil
}

// keyFile reads the key in path, or makes one there (0600) when there is
// none. Two processes starting together agree: the file appears whole or
// not at all (written aside, then linked into place, which fails if the
// other was first), and the one that loses reads the winner's.
func keyFile(path string) (key []byte, made bool, err error) {
	if raw, err := os.ReadFile(path); err == nil {
		k, err := pii.ParseKey(string(raw))
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", path, err)
		}
		return k, false, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, false, err
		}
	}
	k := pii.NewKey()
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pii-key-*")
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return nil, false, err
	}
	if _, err := tmp.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		_ = tmp.Close()
		return nil, false, err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return nil, false, err
	}
	if err := tmp.Close(); err != nil {
		return nil, false, err
	}
	if err := os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
		k, _, err := keyFile(path)
		return k, false, err
	} else if err != nil {
		return nil, false, err
	}
	return k, true, nil
}

// loopback reports whether host is this machine: localhost or a loopback address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && (ip.IsLoopback() || ip.IsUnspecified())
}

func bps(v, key string, bad func(string, string, ...any)) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > 10000 {
		bad(key, "must be basis points from 0 to 10000, not %q", v)
	}
	return n
}

func list(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
