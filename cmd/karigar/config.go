package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/media"
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
	// PIIKey will encrypt personal data at rest (artisans' phone numbers);
	// nothing uses it yet, but production already requires it so that the
	// deployments that will need it have it.
	PIIKey      []byte
	AllowSQLite bool // production on SQLite, asked for in so many words
	// StorageURL names where product photos are kept (KARIGAR_STORAGE_URL);
	// Storage is it opened (nothing reached yet), MediaURL where clients
	// fetch the photos: the storage's public_url, or this server's /media.
	StorageURL string
	Storage    media.Storage
	MediaURL   string
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
	case key != "":
		if c.PIIKey = piiKey(key); c.PIIKey == nil {
			bad("KARIGAR_PII_KEY", "must be 32 bytes in base64 (openssl rand -base64 32) or hex (openssl rand -hex 32)")
		}
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

// DefaultStorageURL keeps photos in a folder beside the default SQLite
// database, relative to the working directory.
const DefaultStorageURL = "file:karigar-media"

// piiKey decodes a 32-byte key written in hex (64 digits) or standard or
// URL-safe base64; nil when it is neither.
func piiKey(v string) []byte {
	if len(v) == 64 {
		if b, err := hex.DecodeString(v); err == nil {
			return b
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == 32 {
			return b
		}
	}
	return nil
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
