// Package api is Karigar's HTTP layer: the router, middleware, handlers and
// the request and response types. Handlers bind a request, call a service
// and render its result; they hold no business rules and never touch the
// database.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/audit"
	"github.com/karigar/karigar/services/auth"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/fairs"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/idempotency"
	"github.com/karigar/karigar/services/ledger"
	"github.com/karigar/karigar/services/markets"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/orders"
	"github.com/karigar/karigar/services/receipts"
	"github.com/karigar/karigar/services/sms"
	"github.com/karigar/karigar/services/statements"
	"github.com/karigar/karigar/services/stats"
)

// Config is what the server needs. DB is used only for readiness and pool
// metrics; everything else goes through the services.
type Config struct {
	DB             *gorm.DB
	Services                    // all required; Build makes them
	Logger         *slog.Logger // required: requests, internal errors and panics
	Production     bool
	CORSOrigins    []string // allowed origins; empty: no cross-origin access
	TrustedProxies []string // addresses whose X-Forwarded-For is believed
	PublicURL      string   // where the public pages are served (their QR codes hold it); default http://localhost:8080
}

// Server is the HTTP API.
type Server struct {
	engine  *gin.Engine
	ping    func(context.Context) error
	auth    *auth.Service
	idem    *idempotency.Store
	groups  *groups.Service
	catalog *catalog.Service
	ledger  *ledger.Service
	orders  *orders.Service
	markets *markets.Service
	audit   *audit.Service
	fairs   *fairs.Service
	rcpt    *receipts.Service
	sms     *sms.Service
	media   *media.Service // nil: no photo storage configured
	log     *slog.Logger
	metrics *metrics
	public  string // PublicURL without a trailing slash
	spec    *apiSpec
	// draining is set by Drain when the process is told to stop: /readyz
	// fails from then on so the load balancer takes the replica out of
	// rotation while it still serves.
	draining atomic.Bool

	// The inclusion statistics and income statements (section 15).
	stats      *stats.Service
	statements *statements.Service
}

// Drain makes /readyz answer 503 from now on; everything else is served
// as before. The caller stops the HTTP server once the drain period is over.
func (s *Server) Drain() { s.draining.Store(true) }

// Base is the prefix of every versioned route.
const Base = "/api/v1"

// New builds the server and its routes.
func New(cfg Config) (*Server, error) {
	if cfg.DB == nil || cfg.Auth == nil || cfg.Idempotency == nil || cfg.Groups == nil || cfg.Catalog == nil || cfg.Ledger == nil ||
		cfg.Orders == nil || cfg.Markets == nil || cfg.Audit == nil || cfg.Receipts == nil || cfg.SMS == nil || cfg.Fairs == nil {
		return nil, errors.New("api: DB, Auth, Idempotency, Groups, Catalog, Ledger, Orders, Markets, Audit, Receipts, SMS and Fairs are required")
	}
	if cfg.Stats == nil || cfg.Statements == nil {
		return nil, errors.New("api: Stats and Statements are required")
	}
	if cfg.Logger == nil {
		// A silent default would hide the causes of 500s and panics; a caller
		// that wants silence says so with slog.New(slog.DiscardHandler).
		return nil, errors.New("api: Logger is required")
	}
	sqlDB, err := cfg.DB.DB()
	if err != nil {
		return nil, err
	}
	spec, err := loadSpec()
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// gin's redirects answer with HTML bodies; a wrong path is a JSON 404 instead.
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	// Handlers pass c.Request.Context() on, never the *gin.Context itself:
	// gin recycles the Context after the handler returns, while database/sql
	// may still be watching the context it was given.
	if err := e.SetTrustedProxies(cfg.TrustedProxies); err != nil {
		return nil, err
	}
	s := &Server{engine: e, ping: sqlDB.PingContext, auth: cfg.Auth, idem: cfg.Idempotency, groups: cfg.Groups, catalog: cfg.Catalog, ledger: cfg.Ledger, orders: cfg.Orders, markets: cfg.Markets, audit: cfg.Audit, rcpt: cfg.Receipts, sms: cfg.SMS, fairs: cfg.Fairs, media: cfg.Media, log: cfg.Logger,
		metrics: newMetrics(sqlDB, cfg.Services.Metrics), spec: spec, public: strings.TrimRight(cfg.PublicURL, "/")}
	s.stats, s.statements = cfg.Stats, cfg.Statements
	if s.public == "" {
		s.public = "http://localhost:8080"
	}

	e.Use(headOnly(), compress(), withLogger(cfg.Logger), withRequestID(), accessLog(cfg.Logger, s.metrics), recoverPanics(cfg.Logger), securityHeaders(cfg.Production))
	if len(cfg.CORSOrigins) > 0 {
		e.Use(allowCORS(cfg.CORSOrigins))
	}
	e.Use(limitBody())
	e.NoRoute(notFound)
	e.NoMethod(methodNotAllowed)
	s.routes()
	return s, nil
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.engine }

// Routes lists "METHOD /path/{param}" for every route, in OpenAPI's path
// syntax, for the test that keeps the spec and the router in step.
func (s *Server) Routes() []string {
	var out []string
	for _, r := range s.engine.Routes() {
		out = append(out, r.Method+" "+openAPIPath(r.Path))
	}
	return out
}

func (s *Server) routes() {
	e := s.engine
	get(e, "/healthz", s.healthz) // load balancers often probe with HEAD
	get(e, "/readyz", s.readyz)
	get(e, "/metrics", gin.WrapH(s.metrics.handler()))
	get(e, "/openapi.yaml", s.openAPI)
	get(e, "/docs", s.docsPage)
	get(e, "/p/:id", cacheable(), s.productPage)
	get(e, "/p/:id/qr.png", s.productQR)
	get(e, "/r/:code", s.receiptPage)
	get(e, MediaPath+"/products/:product/:file", s.serveMedia)

	v1 := e.Group(Base, s.authenticate())
	// The sign-in routes answer with fresh tokens, so their responses are
	// never stored for Idempotency-Key replay; retrying them is harmless.
	v1.POST("/auth/register", s.register)
	v1.POST("/auth/login", s.login)
	v1.POST("/auth/refresh", s.refresh)
	v1.POST("/auth/logout", requireRole(), s.logout)
	v1.POST("/auth/password-reset", s.resetPassword)
	// A reset token is a credential too: its answer must not be stored for
	// replay, where it would sit in the database unhashed.
	v1.POST("/admin/users/:id/password-reset", requireRole(models.RoleAdmin), s.issuePasswordReset)

	app := v1.Group("", s.idempotentPOST())
	get(app, "/me", requireRole(), s.me)

	get(app, "/groups", s.listGroups)
	app.POST("/groups", requireRole(models.RoleProducer), s.createGroup)
	get(app, "/groups/:id", s.getGroup)
	app.PATCH("/groups/:id", requireRole(models.RoleProducer), s.updateGroup)
	app.POST("/groups/:id/managers", requireRole(models.RoleProducer), s.addManager)
	app.POST("/groups/:id/artisans", requireRole(models.RoleProducer), s.createArtisan)
	get(app, "/groups/:id/artisans", requireRole(models.RoleProducer, models.RoleAuditor, models.RoleAdmin), s.listArtisans)
	app.PATCH("/artisans/:id", requireRole(models.RoleProducer), s.updateArtisan)

	get(app, "/categories", s.listCategories)
	get(app, "/products", cacheable(), s.listProducts)
	get(app, "/products/:id", cacheable(), s.getProduct)
	get(app, "/products/:id/transparency", cacheable(), s.getTransparency)
	get(app, "/wage-benchmarks", s.listBenchmarks)
	app.POST("/groups/:id/products", requireRole(models.RoleProducer), s.createProduct)
	get(app, "/groups/:id/products", requireRole(models.RoleProducer, models.RoleAuditor, models.RoleAdmin), s.groupProducts)
	app.PATCH("/products/:id", requireRole(models.RoleProducer), s.updateProduct)
	app.POST("/products/:id/publish", requireRole(models.RoleProducer), s.publishProduct)
	app.POST("/products/:id/archive", requireRole(models.RoleProducer), s.archiveProduct)
	app.POST("/products/:id/images", requireRole(models.RoleProducer), s.uploadImage)
	app.PATCH("/products/:id/images", requireRole(models.RoleProducer), s.arrangeImages)
	get(app, "/products/:id/images/:image_id", cacheable(), s.getImage)
	app.DELETE("/products/:id/images/:image_id", requireRole(models.RoleProducer), s.deleteImage)

	app.POST("/orders", requireRole(models.RoleBuyer), requireKey(), s.createOrder)
	get(app, "/orders", requireRole(models.RoleBuyer), s.listOrders)
	get(app, "/orders/:id", requireRole(), s.getOrder)
	app.POST("/orders/:id/cancel", requireRole(models.RoleBuyer), s.cancelOrder)
	app.POST("/orders/:id/shipments", requireRole(models.RoleProducer), s.shipOrder)
	app.POST("/orders/:id/deliver", requireRole(models.RoleProducer, models.RoleAdmin), s.deliverOrder)
	get(app, "/groups/:id/orders", requireRole(models.RoleProducer), s.groupOrders)
	app.POST("/webhooks/stripe", s.stripeWebhook)

	app.POST("/order-cycles", requireRole(models.RoleProducer, models.RoleAdmin), s.createCycle)
	get(app, "/order-cycles", s.listCycles)
	get(app, "/order-cycles/:id", s.getCycle)
	app.POST("/order-cycles/:id/offers", requireRole(models.RoleProducer), s.createOffer)
	get(app, "/order-cycles/:id/production", requireRole(models.RoleProducer, models.RoleAuditor, models.RoleAdmin), s.cycleProduction)
	get(app, "/order-cycles/:id/packing", requireRole(models.RoleProducer, models.RoleAdmin), s.cyclePacking)
	app.POST("/order-cycles/:id/orders/:order_id/handover", requireRole(models.RoleProducer, models.RoleAdmin), s.handOver)

	books := requireRole(models.RoleProducer, models.RoleAuditor, models.RoleAdmin) // managers see their own group's
	audit := requireRole(models.RoleAuditor, models.RoleAdmin)
	app.POST("/groups/:id/distributions", requireRole(models.RoleProducer), s.distribute)
	app.POST("/groups/:id/payouts", requireRole(models.RoleProducer), requireKey(), s.createPayout)
	app.POST("/payouts/:id/acknowledge", requireRole(models.RoleProducer, models.RoleAuditor), s.acknowledgePayout)
	get(app, "/groups/:id/payouts", books, s.listPayouts)
	get(app, "/groups/:id/disputes", books, s.listDisputes)
	get(app, "/receipts/:code", s.getReceipt) // anyone holding the code; limited per client address
	get(app, "/groups/:id/ledger/accounts", books, s.groupAccounts)
	get(app, "/ledger/transactions", books, s.listTransactions)
	get(app, "/artisans/:id/statement", books, s.artisanStatement)
	get(app, "/audit/ledger/verify", audit, s.verifyLedger)
	app.POST("/audit/ledger/verify", audit, s.verifyLedgerCheckpoints)
	get(app, "/audit/ledger/checkpoint", audit, s.ledgerCheckpoint)
	get(app, "/audit/ledger/public-key", s.ledgerPublicKey)
	get(app, "/audit/ledger/proofs/:id", audit, s.ledgerProof)
	get(app, "/audit/groups/:id/report", books, s.groupReport)
	get(app, "/audit/impact", audit, s.impactReport)

	// Kannel's callbacks: a shared secret or a per-message token instead of
	// a user; GET as well as POST (Kannel 1.4.5 calls with GET), and no
	// HEAD, as these GETs change things.
	app.GET("/sms/inbound", s.smsInbound)
	app.POST("/sms/inbound", s.smsInbound)
	app.GET("/sms/dlr", s.smsDLR)
	app.POST("/sms/dlr", s.smsDLR)
	get(app, "/groups/:id/messages", books, s.groupMessages)
	// Inclusion statistics and income statements (contract section 15).
	get(app, "/artisans/:id/consents", books, s.consentHistory)
	get(app, "/stats/earnings", audit, s.earningsStats)
	get(app, "/stats/earnings/public", s.throttled("stats-public"), s.publicEarningsStats)
	get(app, "/artisans/:id/income-statement", books, s.artisanIncomeStatement)
	get(app, "/groups/:id/income-statement", books, s.groupIncomeStatement)
	app.POST("/statements/verify", s.throttled("statement-verify"), s.verifyStatement)
	// Craft fairs (contract section 14): services/fairs.
	get(app, "/events", s.listEvents)
	app.POST("/events", requireRole(models.RoleProducer, models.RoleAdmin), s.createEvent)
	get(app, "/events/:id", s.getEvent)
	app.POST("/events/:id/stalls", requireRole(models.RoleProducer), s.addStall)
	get(app, "/events/:id/stalls/:group_id", books, s.getStall)
	app.POST("/events/:id/stalls/:group_id/close", requireRole(models.RoleProducer), s.closeStall)
	app.POST("/events/:id/stock", requireRole(models.RoleProducer), s.stockToStall)
	app.POST("/events/:id/stock/return", requireRole(models.RoleProducer), s.stockFromStall)
	app.POST("/events/:id/sales", requireRole(models.RoleProducer), s.recordFairSales)
	get(app, "/events/:id/report", books, s.eventReport)
	get(app, "/events/:id/labels", s.eventLabels)

	admin := app.Group("/admin", requireRole(models.RoleAdmin))
	admin.POST("/users", s.createUser)
	admin.POST("/users/:id/disable", s.disableUser)
	admin.POST("/users/:id/enable", s.enableUser)
	admin.POST("/groups/:id/verify", s.verifyGroup)
	admin.POST("/groups/:id/auditors", s.assignAuditor)
	get(admin, "/groups/:id/auditors", s.listAuditors)
	admin.DELETE("/groups/:id/auditors/:user_id", s.unassignAuditor)
	admin.PUT("/wage-benchmarks/:region", s.setBenchmark)
	get(admin, "/fees", s.getFees)
	admin.PUT("/fees", s.setFees)
}

// get serves path on GET and on HEAD, which answers as GET does without
// the body (headOnly drops it): gin does not answer HEAD by itself.
func get(r gin.IRoutes, path string, handlers ...gin.HandlerFunc) {
	r.GET(path, handlers...)
	r.HEAD(path, handlers...)
}

// idempotentPOST accepts an Idempotency-Key on every POST; routes that
// require one add requireKey() themselves.
func (s *Server) idempotentPOST() gin.HandlerFunc {
	optional := s.idempotent()
	return func(c *gin.Context) {
		if c.Request.Method == http.MethodPost {
			optional(c)
			return
		}
		c.Next()
	}
}
