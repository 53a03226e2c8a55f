// Package media keeps product photos: it checks an upload from its bytes,
// turns it into three JPEG sizes with no metadata (process.go), stores
// them behind the Storage interface (a local folder or S3-compatible
// object storage), and records them with the product, so that a row never
// names a missing file and no file outlives its row for long.
package media

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// Options configure a Service.
type Options struct {
	Storage Storage // required
	// BaseURL is where clients fetch stored objects: key K is at
	// BaseURL + "/" + K. The binary serves them at {public URL}/media.
	BaseURL string
	// Concurrency is how many photos one process decodes at once; a
	// 12-megapixel photo takes about 50 MB while it is processed. Others
	// wait (until their request gives up). Default 1.
	Concurrency int
	// OrphanGrace is how long an upload in flight may take between writing
	// its files and recording them before the sweeper may delete them.
	// Default one hour (requests time out long before).
	OrphanGrace time.Duration
	Logger      *slog.Logger // required
	Now         func() time.Time
}

// Service manages product photos.
type Service struct {
	db    *gorm.DB
	opt   Options
	slots chan struct{}
}

// New returns a Service on db.
func New(db *gorm.DB, opt Options) (*Service, error) {
	if opt.Storage == nil || opt.Logger == nil {
		return nil, errors.New("media: a storage and a logger are required")
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 1
	}
	if opt.OrphanGrace <= 0 {
		opt.OrphanGrace = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	return &Service{db: db, opt: opt, slots: make(chan struct{}, opt.Concurrency)}, nil
}

// Storage is the service's storage, for serving objects.
func (s *Service) Storage() Storage { return s.opt.Storage }

// URL is where clients fetch the object key: stable for as long as the
// photo exists, since a key's bytes never change.
func (s *Service) URL(key string) string { return s.opt.BaseURL + "/" + key }

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Text is a photo's alternative text, in English and Urdu, for screen
// readers and for buyers whose connection drops the picture. A nil field is
// left as it is.
type Text struct {
	Alt, AltUr *string
}

func (t Text) check(fe *services.FieldErrors, field string) {
	if t.Alt != nil {
		*t.Alt = strings.TrimSpace(*t.Alt)
		fe.Check(!services.TextWithin(*t.Alt, 0, 300), field+"alt", "must be at most 300 characters")
	}
	if t.AltUr != nil {
		*t.AltUr = strings.TrimSpace(*t.AltUr)
		fe.Check(!services.TextWithin(*t.AltUr, 0, 300), field+"alt_ur", "must be at most 300 characters")
	}
}

// Upload adds a photo to a product of a group the actor manages, as its
// last photo. The file is checked from its bytes (Process), its sizes are
// written to storage, and then its row is inserted; if the row cannot be
// (the product got its eighth photo meanwhile, the database failed), the
// files are deleted again, and if storage fails no row is written.
// Errors: forbidden, not_found (the product, or one of a group the actor
// does not manage), invalid_state (archived), conflict (eight photos
// already), unsupported_media_type, validation_failed, unavailable
// (storage cannot be written just now).
func (s *Service) Upload(ctx context.Context, actor services.Actor, productID uuid.UUID, data []byte, text Text) (models.ProductImage, error) {
	var fe services.FieldErrors
	text.check(&fe, "")
	// Who may and whether there is room, before any work: read again,
	// locked, when the row is written.
	if err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		_, err := s.room(tx, actor, productID)
		return err
	}); err != nil {
		return models.ProductImage{}, err
	}
	if err := fe.Err(); err != nil {
		return models.ProductImage{}, err
	}
	p, err := s.process(ctx, data)
	if err != nil {
		return models.ProductImage{}, err
	}

	img := models.ProductImage{ID: models.NewID(), ProductID: productID, Width: p.Width, Height: p.Height, CreatedAt: s.now()}
	if text.Alt != nil {
		img.Alt = *text.Alt
	}
	if text.AltUr != nil {
		img.AltUr = *text.AltUr
	}
	keys := make([]string, len(p.Renditions))
	for i, r := range p.Renditions {
		// The hash of the size's own bytes names it: a key never names
		// other bytes, and it is the ETag it is served with.
		own := sha256.Sum256(r.Data)
		keys[i] = fmt.Sprintf("products/%s/%s-%s-%s.jpg", productID, img.ID, r.Size.Short, hex.EncodeToString(own[:8]))
		switch r.Size.Name {
		case "thumbnail":
			img.ThumbKey, img.ThumbWidth, img.ThumbHeight, img.ThumbBytes = keys[i], r.Width, r.Height, len(r.Data)
		case "medium":
			img.MediumKey, img.MediumWidth, img.MediumHeight, img.MediumBytes = keys[i], r.Width, r.Height, len(r.Data)
		case "large":
			img.LargeKey, img.LargeWidth, img.LargeHeight, img.LargeBytes = keys[i], r.Width, r.Height, len(r.Data)
		}
	}
	// Recorded before they are written: should this process die before
	// the row is in, the sweeper deletes them once the grace has passed.
	if err := s.recordOrphans(s.db.WithContext(ctx), keys, s.now().Add(s.opt.OrphanGrace)); err != nil {
		return models.ProductImage{}, err
	}
	for i, r := range p.Renditions {
		if err := s.opt.Storage.Put(ctx, keys[i], r.Data, "image/jpeg"); err != nil {
			s.opt.Logger.ErrorContext(ctx, "photo storage write failed", "storage", s.opt.Storage.String(), "error", err.Error())
			s.discard(ctx, keys) // those not written yet too, which clears their records
			return models.ProductImage{}, &services.Error{Code: services.CodeUnavailable, RetryAfter: 5 * time.Second,
				Message: "the photo could not be stored just now: nothing was saved; try again shortly"}
		}
	}
	err = models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		n, err := s.room(tx, actor, productID)
		if err != nil {
			return err
		}
		img.Position = n
		if err := tx.Create(&img).Error; err != nil {
			return err
		}
		return tx.Where("key IN ?", keys).Delete(&models.MediaOrphan{}).Error
	})
	if err != nil {
		s.discard(ctx, keys)
		return models.ProductImage{}, err
	}
	return img, nil
}

// room checks that actor may add a photo to the product and returns how
// many it has. Inside a transaction it locks the product (after its group,
// the order catalogue writes take locks in), so two uploads count in turn.
func (s *Service) room(tx *gorm.DB, actor services.Actor, productID uuid.UUID) (int, error) {
	p, err := managedProduct(tx, actor, productID)
	if err != nil {
		return 0, err
	}
	if p.Status == models.ProductArchived {
		return 0, services.Conflict(services.CodeInvalidState, "an archived product cannot be given photos")
	}
	var n int64
	if err := tx.Model(&models.ProductImage{}).Where("product_id = ?", productID).Count(&n).Error; err != nil {
		return 0, err
	}
	if n >= models.MaxProductImages {
		return 0, services.Conflict(services.CodeConflict, "the product has %d photos, the most it may have: delete one first", n)
	}
	return int(n), nil
}

// managedProduct reads and locks a product of a group actor manages: its
// group FOR SHARE, then the product; not_found for a product of another
// group, as for one that does not exist.
func managedProduct(tx *gorm.DB, actor services.Actor, id uuid.UUID) (models.Product, error) {
	var p models.Product
	if err := tx.Select("id, group_id, status").First(&p, "id = ?", id).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return p, services.NotFound("product")
	} else if err != nil {
		return p, err
	}
	if _, err := groups.Managed(models.ForShare(tx), actor, p.GroupID); services.IsCode(err, services.CodeNotFound) {
		return p, services.NotFound("product")
	} else if err != nil {
		return p, err
	}
	err := models.ForNoKeyUpdate(tx).Select("id, group_id, status").First(&p, "id = ?", id).Error
	return p, err
}

// process runs Process with one of the service's slots, waiting for one
// while the request lasts: it bounds the memory that decoding takes.
func (s *Service) process(ctx context.Context, data []byte) (Processed, error) {
	select {
	case s.slots <- struct{}{}:
	case <-ctx.Done():
		return Processed{}, &services.Error{Code: services.CodeUnavailable, RetryAfter: 5 * time.Second,
			Message: "too many photos are being processed just now: try again shortly"}
	}
	defer func() { <-s.slots }()
	return Process(data)
}

// Delete removes a photo of a product the actor manages; the photos after
// it move up. Its files are deleted once the row is gone (and by the
// sweeper, should that fail). Errors: forbidden, not_found.
func (s *Service) Delete(ctx context.Context, actor services.Actor, productID, imageID uuid.UUID) error {
	var keys []string
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if _, err := managedProduct(tx, actor, productID); err != nil {
			return err
		}
		var img models.ProductImage
		if err := tx.First(&img, "id = ? AND product_id = ?", imageID, productID).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return services.NotFound("image")
		} else if err != nil {
			return err
		}
		if err := tx.Delete(&img).Error; err != nil {
			return err
		}
		if err := renumber(tx, productID, "position > ?", img.Position, -1); err != nil {
			return err
		}
		keys = img.Keys()
		return s.recordOrphans(tx, keys, s.now())
	})
	if err != nil {
		return err
	}
	s.discard(ctx, keys)
	return nil
}

// away is added to positions that are about to change: PostgreSQL checks
// the unique (product, position) row by row, so moving 2 to 1 before 1 to 0
// would collide; moved out of the way first, no row meets another.
const away = 1000

// renumber moves the positions of a product's photos that match cond by
// delta, through positions out of the way.
func renumber(tx *gorm.DB, productID uuid.UUID, cond string, arg any, delta int) error {
	if err := moveAway(tx, productID, cond, arg); err != nil {
		return err
	}
	return tx.Model(&models.ProductImage{}).Where("product_id = ? AND position >= ?", productID, away).
		Update("position", gorm.Expr("position - ?", away-delta)).Error
}

func moveAway(tx *gorm.DB, productID uuid.UUID, cond string, arg any) error {
	return tx.Model(&models.ProductImage{}).Where("product_id = ?", productID).Where(cond, arg).
		Update("position", gorm.Expr("position + ?", away)).Error
}

// Arrangement is one photo of a product in the order Arrange sets, with
// its new text.
type Arrangement struct {
	ID uuid.UUID
	Text
}

// Arrange puts a product's photos in the order given and sets their
// alternative text. The list must name every photo of the product once.
// Errors: forbidden, not_found, validation_failed.
func (s *Service) Arrange(ctx context.Context, actor services.Actor, productID uuid.UUID, order []Arrangement) ([]models.ProductImage, error) {
	var fe services.FieldErrors
	for i, a := range order {
		a.check(&fe, fmt.Sprintf("images[%d].", i))
	}
	var out []models.ProductImage
	err := models.Transact(ctx, s.db, func(tx *gorm.DB) error {
		if _, err := managedProduct(tx, actor, productID); err != nil {
			return err
		}
		current, err := Images(tx, productID)
		if err != nil {
			return err
		}
		byID := map[uuid.UUID]models.ProductImage{}
		for _, img := range current {
			byID[img.ID] = img
		}
		seen := map[uuid.UUID]bool{}
		for i, a := range order {
			_, known := byID[a.ID]
			fe.Check(!known, fmt.Sprintf("images[%d].id", i), "is not a photo of this product")
			fe.Check(seen[a.ID], fmt.Sprintf("images[%d].id", i), "is listed twice")
			seen[a.ID] = true
		}
		fe.Check(len(order) != len(current), "images", fmt.Sprintf("must list each of the product's %d photos once, in the new order", len(current)))
		if err := fe.Err(); err != nil {
			return err
		}
		if err := moveAway(tx, productID, "position >= ?", 0); err != nil {
			return err
		}
		for i, a := range order {
			set := map[string]any{"position": i}
			if a.Alt != nil {
				set["alt"] = *a.Alt
			}
			if a.AltUr != nil {
				set["alt_ur"] = *a.AltUr
			}
			if err := tx.Model(&models.ProductImage{}).Where("id = ?", a.ID).Updates(set).Error; err != nil {
				return err
			}
		}
		out, err = Images(tx, productID)
		return err
	})
	return out, err
}

// Images lists a product's photos in order.
func Images(db *gorm.DB, productID uuid.UUID) ([]models.ProductImage, error) {
	var out []models.ProductImage
	err := db.Where("product_id = ?", productID).Order("position").Find(&out).Error
	return out, err
}

func (s *Service) recordOrphans(db *gorm.DB, keys []string, due time.Time) error {
	rows := make([]models.MediaOrphan, len(keys))
	for i, k := range keys {
		rows[i] = models.MediaOrphan{Key: k, DueAt: due, CreatedAt: s.now()}
	}
	return db.Create(&rows).Error
}

// discard deletes objects no row references and then their orphan
// records; what cannot be deleted now stays recorded for the sweeper. It
// runs even when the request has gone away.
func (s *Service) discard(ctx context.Context, keys []string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var gone []string
	for _, k := range keys {
		if err := s.opt.Storage.Delete(ctx, k); err != nil {
			s.opt.Logger.WarnContext(ctx, "photo file not deleted; the sweeper will retry", "key", k, "error", err.Error())
			continue
		}
		gone = append(gone, k)
	}
	if len(gone) == 0 {
		return
	}
	if err := s.db.WithContext(ctx).Where("key IN ?", gone).Delete(&models.MediaOrphan{}).Error; err != nil {
		s.opt.Logger.WarnContext(ctx, "orphan records not cleared; the sweeper will", "error", err.Error())
	}
}

// Sweep deletes from storage the objects recorded as orphans whose time
// has come (an upload whose process died, a deletion whose storage call
// failed), up to 100 a call, and reports how many it deleted. Any replica
// may run it at any time: on PostgreSQL each record is taken by one sweeper
// (SKIP LOCKED), and deleting an object twice is harmless anyway.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	var deleted int
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var due []models.MediaOrphan
		q := tx.Where("due_at <= ?", s.now()).Order("due_at").Limit(100)
		if err := models.ForUpdateSkipLocked(q).Find(&due).Error; err != nil {
			return err
		}
		for _, o := range due {
			if err := s.opt.Storage.Delete(ctx, o.Key); err != nil {
				return err // storage is down: the rest waits for the next sweep
			}
			if err := tx.Delete(&o).Error; err != nil {
				return err
			}
			deleted++
		}
		return nil
	})
	return deleted, err
}

// keyPattern is the form of every key Upload writes.
var keyPattern = regexp.MustCompile(`^products/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/` +
	`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-(thumb|medium|large)-([0-9a-f]{16})\.jpg$`)

// ObjectTag is the hash a key of this service names its bytes by (the
// ETag it is served with), and false for a string that is not such a key.
func ObjectTag(key string) (string, bool) {
	m := keyPattern.FindStringSubmatch(key)
	if m == nil {
		return "", false
	}
	return m[2], true
}
