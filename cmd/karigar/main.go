// Command karigar is the Karigar API server and its operator commands.
//
//	karigar [serve]       run the HTTP API (the default)
//	karigar migrate       apply database migrations and exit
//	karigar admin create  create an admin or auditor account
//	karigar seed --demo   add the demo data set
//	karigar ledger verify recompute the ledger's hash chains and trial balance
//	karigar pii rotate-key reseal personal data under KARIGAR_PII_KEY
//	karigar version       print what the binary was built from
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/api"
	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/payments"
	"github.com/karigar/karigar/services/pii"
	"github.com/karigar/karigar/services/piidata"
	"github.com/karigar/karigar/services/seed"
	"github.com/karigar/karigar/services/sms"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: karigar [command]

commands:
  serve                      run the HTTP API (default)
  migrate                    apply database migrations and exit
  admin create --email E --password P --name N [--role admin|auditor]
                             create a staff account
  seed --demo                add the demo groups, artisans and products (once)
  seed --products N [--groups G] [--artisans A]
                             generate a large catalogue for benchmarks
  version                    print the version, VCS revision and Go version
  ledger verify              recompute the ledger's hash chains and trial balance;
                             exit status 1 when they do not hold
  pii rotate-key [--batch N] reseal every sealed value (phone numbers, CNICs,
                             addresses) under KARIGAR_PII_KEY, opening them with
                             KARIGAR_PII_PREVIOUS_KEYS, and recompute the lookup
                             hashes; resumable, safe while servers run with both

configuration comes from the environment; see README.md.
`

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	if cmd == "version" || cmd == "--version" {
		printVersion(stdout)
		return 0
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "karigar: invalid configuration:\n%v\n", err)
		return 2
	}
	log := slog.New(slog.NewJSONHandler(stdout, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	switch cmd {
	case "serve":
		err = serve(ctx, cfg, log)
	case "migrate":
		err = migrate(ctx, cfg, log)
	case "admin":
		err = admin(ctx, cfg, args, stdout, stderr)
	case "seed":
		err = seedDemo(ctx, cfg, args, stdout, stderr)
	case "ledger":
		err = ledgerCommand(ctx, cfg, args, stdout)
	case "pii":
		err = piiCommand(ctx, cfg, args, stdout, stderr, log)
	default:
		fmt.Fprintf(stderr, "karigar: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		var usageErr usageError
		if errors.As(err, &usageErr) {
			fmt.Fprintf(stderr, "karigar: %v\n", err)
			return 2
		}
		var refused refusal
		if errors.As(err, &refused) {
			fmt.Fprintf(stderr, "karigar: %v\n", err)
			return 1
		}
		log.Error("karigar stopped", "command", cmd, "error", err.Error())
		return 1
	}
	return 0
}

// usageError is wrong arguments: exit status 2, with the message.
type usageError struct{ error }

// refusal is a command understood but refused (a taken email, a weak
// password, demo data in production): exit status 1, with the message and
// no log record.
type refusal struct{ error }

// openDB opens the database, applies the migrations, unlocks the PII box
// (the development key file lives beside a SQLite database, whose folder
// opening has shown to be writable) and seals what older binaries wrote in
// clear (sealClear). A value it must leave in clear is logged, not fatal:
// karigar migrate reports it with its exit status.
func openDB(ctx context.Context, cfg *config, log *slog.Logger) (*gorm.DB, error) {
	db, _, err := prepareDB(ctx, cfg, log)
	return db, err
}

func prepareDB(ctx context.Context, cfg *config, log *slog.Logger) (*gorm.DB, []piidata.Result, error) {
	db, err := models.Open(ctx, cfg.DatabaseURL, models.OpenOptions{Logger: log})
	if err != nil {
		return nil, nil, err
	}
	applied, err := models.Migrate(ctx, db)
	if err != nil {
		_ = models.Close(db)
		return nil, nil, err
	}
	if len(applied) > 0 {
		log.Info("migrations applied", "versions", applied, "engine", string(models.DialectOf(db)))
	}
	if cfg.PII == nil {
		if err := cfg.unlockPII(log); err != nil {
			_ = models.Close(db)
			return nil, nil, err
		}
	}
	sealed, err := sealClear(ctx, db, cfg.PII, log)
	if err != nil {
		_ = models.Close(db)
		return nil, nil, err
	}
	return db, sealed, nil
}

// sealClear is the data step after the migrations: it seals the phone
// numbers, CNICs, addresses and stored answers that a binary older than
// sealing wrote in clear (services/piidata.SealClear), and on SQLite, when
// it sealed anything, compacts the file so that the clear values do not
// linger in its free pages or write-ahead log.
func sealClear(ctx context.Context, db *gorm.DB, box *pii.Box, log *slog.Logger) ([]piidata.Result, error) {
	results, err := piidata.SealClear(ctx, db, box, piidata.Options{})
	if err != nil {
		return nil, err
	}
	sealed := 0
	for _, r := range results {
		if r.Done > 0 {
			sealed += r.Done
			log.Info("personal data written in clear by an older version was sealed", "column", r.Column, "rows", r.Done)
		}
		if len(r.Failed) > 0 {
			log.Error("personal data left in clear: another artisan of the same group has this CNIC; correct one of them and run karigar migrate",
				"column", r.Column, "rows", r.Failed)
		}
	}
	if sealed > 0 {
		if err := compact(ctx, db); err != nil {
			return nil, err
		}
	}
	return results, nil
}

// compact rewrites a SQLite file without its free pages and empties its
// write-ahead log, where values just overwritten would otherwise remain.
// PostgreSQL's old row versions are its own to reclaim (VACUUM).
func compact(ctx context.Context, db *gorm.DB) error {
	if models.DialectOf(db) != models.SQLite {
		return nil
	}
	if err := db.WithContext(ctx).Exec("VACUUM").Error; err != nil {
		return fmt.Errorf("compact the SQLite file: %w", err)
	}
	return db.WithContext(ctx).Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error
}

func migrate(ctx context.Context, cfg config, log *slog.Logger) error {
	db, sealed, err := prepareDB(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	for _, r := range sealed {
		if len(r.Failed) > 0 {
			return refusal{fmt.Errorf("%d values of %s are left in clear: each is a CNIC that another artisan of the same group has (artisans %s); correct one of each pair and run karigar migrate again",
				len(r.Failed), r.Column, strings.Join(r.Failed, ", "))}
		}
	}
	log.Info("database is up to date", "engine", string(models.DialectOf(db)))
	return nil
}

// bcryptCost is the cost passwords are hashed at; 0 is auth's default,
// what production runs. Only this package's tests lower it: under the race
// detector a hash at the default cost takes seconds, and seed --demo makes
// fifteen.
var bcryptCost int

// wiring is the services' configuration. Only serve adds a payment
// provider: the operator commands take no card payments.
func wiring(cfg config, log *slog.Logger) api.Wiring {
	return api.Wiring{Currency: cfg.Currency, Secret: cfg.JWTSecret, LedgerKey: cfg.LedgerSigningKey, PII: cfg.PII, Logger: log,
		PlatformFeeBPS: cfg.PlatformFeeBPS, ProcessingFeeBPS: cfg.ProcessingFeeBPS, OrderTTL: cfg.OrderTTL,
		SMSInboundToken: cfg.SMSInboundToken, StatsMinCell: cfg.StatsMinCell,
		Storage: cfg.Storage, MediaURL: cfg.MediaURL, BcryptCost: bcryptCost}
}

// smsGateway is the sender's way to Kannel: only serve sends SMS. Kannel
// reports delivery to the public URL.
func smsGateway(cfg config) sms.Gateway {
	if cfg.SMSURL == "" {
		return sms.Gateway{}
	}
	return sms.Gateway{URL: cfg.SMSURL, User: cfg.SMSUser, Password: cfg.SMSPassword, From: cfg.SMSFrom,
		DLRURL: cfg.PublicURL + api.Base + "/sms/dlr"}
}

func serve(ctx context.Context, cfg config, log *slog.Logger) error {
	if cfg.JWTSecretGenerated {
		log.Warn("KARIGAR_JWT_SECRET is not set: using a random secret, so tokens will not survive a restart (development only)")
	}
	if cfg.production() && strings.HasPrefix(cfg.StripeSecretKey, "sk_test_") && cfg.StripeAPIBase == "" {
		log.Warn("a Stripe test key is configured in production")
	}
	db, err := openDB(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	w := wiring(cfg, log)
	if w.Payments, err = cardPayments(cfg); err != nil {
		return err
	}
	w.SMS = smsGateway(cfg)
	svc, err := api.Build(db, w)
	if err != nil {
		return err
	}
	if recorded, err := svc.Catalog.InitFees(ctx); err != nil {
		return err
	} else if recorded {
		log.Info("first fees recorded from the configuration; from now on they are set with PUT /api/v1/admin/fees",
			"platform_fee_bps", cfg.PlatformFeeBPS, "processing_bps", cfg.ProcessingFeeBPS)
	} else if fees, err := svc.Catalog.Fees(ctx); err != nil {
		return err
	} else if fees.PlatformFeeBPS != cfg.PlatformFeeBPS || fees.ProcessingFeeBPS != cfg.ProcessingFeeBPS {
		log.Warn("KARIGAR_PLATFORM_FEE_BPS and KARIGAR_PROCESSING_FEE_BPS give the first fees only: the fees in force are those set with PUT /api/v1/admin/fees",
			"platform_fee_bps", fees.PlatformFeeBPS, "processing_bps", fees.ProcessingFeeBPS)
	}
	switch {
	case cfg.LedgerKeyDerived && cfg.JWTSecretGenerated:
		log.Warn("KARIGAR_LEDGER_SIGNING_KEY and KARIGAR_JWT_SECRET are not set: ledger checkpoints are signed with a key made for this run only, so they will not verify after a restart (development only)")
	case cfg.LedgerKeyDerived:
		log.Warn("KARIGAR_LEDGER_SIGNING_KEY is not set: ledger checkpoints are signed with a key derived from the JWT secret (development only)")
	}
	if w.Payments == nil {
		log.Info("STRIPE_SECRET_KEY is not set: card payments are off, cash on delivery works")
	}
	checkStorage(ctx, cfg, log)
	go every(ctx, log, min(max(cfg.OrderTTL/10, 5*time.Second), time.Minute), sweepOrders(svc.Orders, log))
	if svc.SMSSender != nil {
		// It stops when the process is told to, finishing the requests to
		// Kannel in flight, and before the database closes (defers run last first).
		sctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			svc.SMSSender.Run(sctx)
		}()
		defer func() {
			stop()
			<-done
		}()
		if cfg.SMSInboundToken == "" {
			log.Warn("KARIGAR_SMS_INBOUND_TOKEN is not set: replies from phones are refused (401)")
		}
	} else {
		log.Info("KARIGAR_SMS_URL is not set: SMS wait in the outbox, queued, until a sender is configured")
	}
	srv, err := api.New(api.Config{DB: db, Services: svc, Logger: log, Production: cfg.production(), CORSOrigins: cfg.CORSOrigins,
		TrustedProxies: cfg.TrustedProxies, PublicURL: cfg.PublicURL})
	if err != nil {
		return err
	}
	// Start-up parses, validates and renders the OpenAPI document: megabytes
	// of garbage that the runtime would otherwise hand back to the system
	// only slowly, and that would count in the resident set while serving.
	debug.FreeOSMemory()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if err := servePprof(ctx, cfg, log); err != nil {
		_ = ln.Close()
		return fmt.Errorf("KARIGAR_PPROF_ADDR: %w", err)
	}
	httpSrv := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Expired idempotency keys, refresh tokens, login and public-route
	// counters, old SMS gateway ids, photo files no row references any
	// more; and what a replica of an older version, still running during a
	// rolling deploy, wrote in clear.
	go every(ctx, log, time.Hour, svc.Idempotency.Purge, svc.Auth.Purge, svc.SMS.Purge,
		sweepMedia(svc.Media, log), func(ctx context.Context) error {
			_, err := sealClear(ctx, db, cfg.PII, log)
			return err
		})

	errc := make(chan error, 1)
	go func() { errc <- httpSrv.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "env", cfg.Env, "engine", string(models.DialectOf(db)))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Fail /readyz first and keep serving while the load balancer notices
	// (its probe period) and stops sending new requests; only then stop
	// listening. Keep-alives end meanwhile, so clients open new connections,
	// which the balancer sends elsewhere, instead of reusing this one until
	// it is closed under them.
	srv.Drain()
	httpSrv.SetKeepAlivesEnabled(false)
	log.Info("draining: /readyz fails, requests are still served", "drain", cfg.ShutdownDrain.String())
	select {
	case <-time.After(cfg.ShutdownDrain):
	case err := <-errc:
		return err
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := httpSrv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

// checkStorage says where photos are kept and warns when they cannot be
// written there: the server still starts (everything but uploads works),
// and the warning says why uploads will answer 503.
func checkStorage(ctx context.Context, cfg config, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := cfg.Storage.Check(ctx); err != nil {
		log.Warn("photo storage cannot be written: photo uploads will fail until it can", "storage", cfg.Storage.String(),
			"error", err.Error())
		return
	}
	log.Info("photo storage", "storage", cfg.Storage.String(), "served_from", cfg.MediaURL)
	if _, local := cfg.Storage.(*media.Local); local && cfg.production() {
		log.Warn("photos are kept in a local folder: every replica must share it (or set KARIGAR_STORAGE_URL to an s3:// bucket)")
	}
}

// sweepMedia deletes the photo files recorded as orphans that are due.
func sweepMedia(m *media.Service, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		for {
			n, err := m.Sweep(ctx)
			if n > 0 {
				log.Info("orphan photo files deleted", "files", n)
			}
			if err != nil || n < 100 {
				return err
			}
		}
	}
}

// every runs jobs each interval until ctx ends, logging their failures.
// Any replica may run them: each job is safe to run on several at once.
func every(ctx context.Context, log *slog.Logger, interval time.Duration, jobs ...func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, job := range jobs {
				if err := job(ctx); err != nil && ctx.Err() == nil {
					log.Error("background job failed", "error", err.Error())
				}
			}
		}
	}
}

func admin(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return usageError{errors.New("usage: karigar admin create --email E --password P --name N [--role admin|auditor]")}
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email address (required)")
	password := fs.String("password", "", "password, at least 10 characters (required)")
	name := fs.String("name", "", "display name (required)")
	role := fs.String("role", "admin", "admin or auditor")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	db, err := openDB(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer models.Close(db)
	svc, err := api.Build(db, wiring(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	u, err := svc.Auth.CreateUser(ctx, auth.NewUser{Email: *email, Password: *password, Name: *name, Role: models.Role(*role)})
	if e, refused := services.AsError(err); refused {
		return refusal{errors.New(strings.TrimPrefix(e.Error(), string(e.Code)+": "))} // invalid input or a taken email: the operator's to fix
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s %s (%s)\n", u.Role, u.Email, u.ID)
	return nil
}

func seedDemo(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	demo := fs.Bool("demo", false, "add the demo data set")
	products := fs.Int("products", 0, "generate this many published products (benchmark data)")
	groupCount := fs.Int("groups", 100, "with --products: how many groups")
	artisans := fs.Int("artisans", 1000, "with --products: how many artisans")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *demo == (*products > 0) {
		return usageError{errors.New("usage: karigar seed --demo | karigar seed --products N [--groups G] [--artisans A]")}
	}
	if *demo && cfg.production() {
		// Its accounts have a published password.
		return refusal{errors.New("seed --demo is for development only: it makes accounts with a published password, and KARIGAR_ENV is production")}
	}
	db, err := openDB(ctx, &cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	defer models.Close(db)
	svc, err := api.Build(db, wiring(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	if _, err := svc.Catalog.InitFees(ctx); err != nil {
		return err
	}
	services := seed.Services{Auth: svc.Auth, Groups: svc.Groups, Catalog: svc.Catalog, Media: svc.Media, Currency: cfg.Currency}
	start := time.Now()
	var r seed.Report
	if *demo {
		r, err = seed.Demo(ctx, services)
	} else {
		r, err = seed.Bulk(ctx, services, seed.BulkSize{Products: *products, Groups: *groupCount, Artisans: *artisans})
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d groups, %d artisans, %d products (%d groups were there already) in %s\n",
		r.Groups, r.Artisans, r.Products, r.Skipped, time.Since(start).Round(time.Millisecond))
	if r.Photos > 0 {
		fmt.Fprintf(stdout, "with %d drawn pictures as product photos, in %s\n", r.Photos, cfg.Storage)
	}
	printLogins(stdout, r.Logins)
	return nil
}

// printLogins lists the demo accounts for the newcomer who will sign in
// with them.
func printLogins(w io.Writer, logins []seed.Login) {
	if len(logins) == 0 {
		return
	}
	fmt.Fprintln(w, "\ndemo logins (development only):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  ROLE\tEMAIL\tPASSWORD\tNOTE")
	for _, l := range logins {
		role, note := string(l.Role), ""
		if l.Role == models.RoleProducer {
			role, note = "manager", "manages "+l.Group
		}
		if l.Existed {
			note = strings.TrimPrefix(note+"; exists already, password left as it was", "; ")
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", role, l.Email, l.Password, note)
	}
	_ = tw.Flush()
}

// ledgerCommand is "karigar ledger verify": the same check and the same JSON
// as GET /audit/ledger/verify, for an operator or a cron job. It only reads:
// a database not migrated to this binary's schema is an error, not migrated.
func ledgerCommand(ctx context.Context, cfg config, args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "verify" {
		return usageError{errors.New("usage: karigar ledger verify")}
	}
	db, err := models.Open(ctx, cfg.DatabaseURL, models.OpenOptions{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	defer models.Close(db)
	pending, err := models.Pending(ctx, db)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("the database lacks migrations %v of this binary: run karigar migrate first, or verify with the binary that wrote it", pending)
	}
	if err := cfg.unlockPII(slog.New(slog.DiscardHandler)); err != nil {
		return err
	}
	svc, err := api.Build(db, wiring(cfg, slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	v, err := svc.Ledger.Verify(ctx)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(api.VerificationBody(v)); err != nil {
		return err
	}
	if !v.OK {
		return errors.New("the ledger does not verify")
	}
	return nil
}

// cardPayments is Stripe when a key is configured, and nil (no card
// payments) when not.
func cardPayments(cfg config) (payments.Provider, error) {
	if cfg.StripeSecretKey == "" {
		return nil, nil
	}
	p, err := payments.NewStripe(payments.StripeOptions{SecretKey: cfg.StripeSecretKey,
		WebhookSecret: cfg.StripeWebhookSecret, APIBase: cfg.StripeAPIBase})
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return p, nil
}

// sweepOrders expires unpaid card orders. Every replica runs it; they skip
// each other's rows, so an order is expired once.
func sweepOrders(o *orders.Service, log *slog.Logger) func(context.Context) error {
	return func(ctx context.Context) error {
		n, err := o.ExpireDue(ctx)
		if n > 0 {
			log.Info("unpaid orders expired", "orders", n)
		}
		return err
	}
}

// printVersion is "karigar version": what the binary was built from, the
// same as the karigar_build_info metric's labels.
func printVersion(w io.Writer) {
	v := api.BuildVersion()
	revision := v.Revision
	switch {
	case revision == "":
		revision = "unknown (built without VCS stamping: go run, or -buildvcs=false)"
	case v.Modified:
		revision += " (with uncommitted changes)"
	}
	fmt.Fprintf(w, "karigar %s\nrevision %s\n%s\n", v.Version, revision, v.GoVersion)
}

// piiCommand is "karigar pii rotate-key": every sealed value not under
// KARIGAR_PII_KEY is opened with KARIGAR_PII_PREVIOUS_KEYS, sealed again
// under it, and its lookup hash recomputed, in batches of their own
// transactions. It may be stopped and run again, and run while servers
// serve, once they all hold the new key as current and the old ones as
// previous.
func piiCommand(ctx context.Context, cfg config, args []string, stdout, stderr io.Writer, log *slog.Logger) error {
	const use = "usage: karigar pii rotate-key [--batch N]"
	if len(args) == 0 || args[0] != "rotate-key" {
		return usageError{errors.New(use)}
	}
	fs := flag.NewFlagSet("pii rotate-key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch", 200, "rows per transaction")
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	if fs.NArg() > 0 || *batch < 1 {
		return usageError{errors.New(use)}
	}
	if cfg.PIIKey == nil {
		return refusal{errors.New("pii rotate-key needs the new key in KARIGAR_PII_KEY and the keys it replaces in KARIGAR_PII_PREVIOUS_KEYS (a development key file's key, or the word development for the published development key)")}
	}
	db, err := openDB(ctx, &cfg, log)
	if err != nil {
		return err
	}
	defer models.Close(db)
	start := time.Now()
	results, err := piidata.Rotate(ctx, db, cfg.PII, piidata.Options{Batch: *batch})
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tRESEALED\tALREADY UNDER THE KEY\tCANNOT OPEN")
	resealed, failed := 0, 0
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", r.Column, r.Done, r.Current, len(r.Failed))
		resealed += r.Done
		failed += len(r.Failed)
	}
	_ = tw.Flush()
	if err != nil {
		return fmt.Errorf("rotation stopped (run it again to finish; what is done stays done): %w", err)
	}
	if resealed > 0 {
		if err := compact(ctx, db); err != nil {
			return err
		}
	}
	if failed > 0 {
		for _, r := range results {
			if len(r.Failed) > 0 {
				fmt.Fprintf(stdout, "cannot open %s of: %s\n", r.Column, strings.Join(r.Failed, ", "))
			}
		}
		return refusal{fmt.Errorf("%d sealed values open with none of the configured keys: add the key they were sealed under to KARIGAR_PII_PREVIOUS_KEYS and run again", failed)}
	}
	fmt.Fprintf(stdout, "every sealed value is under key %s (%d resealed in %s); once every server runs with this KARIGAR_PII_KEY, the previous keys may be removed\n",
		cfg.PII.KeyID(), resealed, time.Since(start).Round(time.Millisecond))
	return nil
}
