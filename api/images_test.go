package api_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/models/modelstest"
	"github.com/karigar/karigar/services/media"
	"github.com/karigar/karigar/services/media/mediatest"
	"github.com/karigar/karigar/services/media/s3test"
)

func withStorage(s media.Storage) envOption {
	return func(c envConfig) { c.wiring.Storage = s }
}

// eachStorage runs fn on a fresh env for every engine under test and each
// storage: a local folder, and a bucket of a real versitygw server.
func eachStorage(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Parallel()
	for _, kind := range []string{"local", "s3"} {
		t.Run(kind, func(t *testing.T) {
			modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
				var opts []envOption
				if kind == "s3" {
					s, err := media.NewS3(s3test.Start(t))
					if err != nil {
						t.Fatal(err)
					}
					opts = append(opts, withStorage(s))
				}
				fn(t, newEnv(t, db, opts...))
			})
		})
	}
}

type imageSizeBody struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

type imageBody struct {
	ID       string `json:"id"`
	Position int    `json:"position"`
	Alt      string `json:"alt"`
	AltUr    string `json:"alt_ur"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Sizes    struct {
		Thumbnail imageSizeBody `json:"thumbnail"`
		Medium    imageSizeBody `json:"medium"`
		Large     imageSizeBody `json:"large"`
	} `json:"sizes"`
}

func (i imageBody) urls() []string {
	return []string{i.Sizes.Thumbnail.URL, i.Sizes.Medium.URL, i.Sizes.Large.URL}
}

type photosBody struct {
	ThumbnailURL *string     `json:"thumbnail_url"`
	Photos       []imageBody `json:"photos"`
}

// multipartBody is an upload's body and Content-Type: the file in a part
// named "file" with the given name and declared type, and text parts.
func multipartBody(filename, declared string, data []byte, fields ...string) ([]byte, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, filename))
	h.Set("Content-Type", declared)
	part, _ := w.CreatePart(h)
	_, _ = part.Write(data)
	_ = w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

func (e *env) upload(s session, productID, filename string, data []byte, fields ...string) *response {
	e.t.Helper()
	body, ct := multipartBody(filename, "image/jpeg", data, fields...)
	return e.do("POST", "/api/v1/products/"+productID+"/images", rawBody(body), header("Content-Type", ct), bearer(s.AccessToken))
}

// mediaPath is the path of a URL the server gave for a stored size.
func mediaPath(t *testing.T, u string) string {
	t.Helper()
	const base = "http://localhost:8080"
	if !strings.HasPrefix(u, base+"/media/products/") {
		t.Fatalf("photo URL %q is not served by the binary", u)
	}
	return strings.TrimPrefix(u, base)
}

// stored lists the keys the env's storage holds under products/.
func (e *env) stored() []string {
	e.t.Helper()
	keys, err := e.storage.List(context.Background(), "products/")
	if err != nil {
		e.t.Fatal(err)
	}
	return keys
}

// wantNothingHalfStored fails unless the storage holds exactly the files
// of the product_images rows, and no orphan is recorded.
func (e *env) wantNothingHalfStored() {
	e.t.Helper()
	var rows []models.ProductImage
	if err := e.db.Find(&rows).Error; err != nil {
		e.t.Fatal(err)
	}
	var want []string
	for _, r := range rows {
		want = append(want, r.Keys()...)
	}
	slices.Sort(want)
	if got := e.stored(); !slices.Equal(got, want) {
		e.t.Fatalf("storage holds %d files %v; the rows name %d %v", len(got), got, len(want), want)
	}
	if n := e.count("media_orphans", ""); n != 0 {
		e.t.Fatalf("%d orphan records left", n)
	}
}

// wantNoMetadata fails unless a stored size is a JPEG with no application
// segment or comment, and none of the original's metadata bytes.
func wantNoMetadata(t *testing.T, name string, data []byte) {
	t.Helper()
	for _, m := range mediatest.Markers(data) {
		switch m {
		case 0xD8, 0xDB, 0xC0, 0xC4, 0xDA:
		default:
			t.Errorf("%s: has a segment with marker 0xFF%02X", name, m)
		}
	}
	for what, leak := range mediatest.Leaks() {
		if bytes.Contains(data, leak) {
			t.Errorf("%s: holds the %s of the upload", name, what)
		}
	}
	if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
		t.Errorf("%s: not a JPEG: %v", name, err)
	}
}

// TestProductPhotoGPSIsNeverStored uploads a phone photo carrying EXIF with
// a GPS position (and XMP, IPTC and an ICC profile) and proves that no
// stored size, read back from storage itself and through its URL, holds any
// of it.
func TestProductPhotoGPSIsNeverStored(t *testing.T) {
	eachStorage(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		p := e.newProduct(f, f.product("Blue pottery bowl", "pottery", 300000), true)
		photo := mediatest.WithMetadata(mediatest.JPEG(mediatest.Picture(1200, 900)), 6)
		if !bytes.Contains(photo, mediatest.Leaks()["GPS latitude"]) {
			t.Fatal("the upload carries no GPS position: the test would prove nothing")
		}
		res := e.upload(f.manager, p.ID, "IMG_20260101_home.jpg", photo)
		res.wantStatus(t, http.StatusCreated)
		var img imageBody
		res.decode(t, &img)
		keys := e.stored()
		if len(keys) != 3 {
			t.Fatalf("stored %v, want three sizes", keys)
		}
		for _, k := range keys {
			o, err := e.storage.Open(context.Background(), k)
			if err != nil {
				t.Fatal(err)
			}
			data, err := io.ReadAll(o)
			o.Close()
			if err != nil {
				t.Fatal(err)
			}
			wantNoMetadata(t, "stored "+k, data)
		}
		for _, u := range img.urls() {
			got := e.do("GET", mediaPath(t, u), nil)
			got.wantStatus(t, http.StatusOK)
			wantNoMetadata(t, "served "+u, got.Body)
		}
	})
}

func TestProductPhotos(t *testing.T) {
	eachStorage(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		p := e.newProduct(f, f.product("Blue pottery vase", "pottery", 300000), true)
		bare := e.newProduct(f, f.product("Blue pottery plate", "pottery", 300000), true)

		// A phone photo lying on its side (EXIF orientation 6) comes out upright.
		res := e.upload(f.manager, p.ID, "vase.jpg", mediatest.WithMetadata(mediatest.JPEG(mediatest.Picture(1200, 900)), 6),
			"alt", "A blue vase with white flowers", "alt_ur", "نیلا گلدان")
		res.wantStatus(t, http.StatusCreated)
		var first imageBody
		res.decode(t, &first)
		if loc := res.Header.Get("Location"); loc != "/api/v1/products/"+p.ID+"/images/"+first.ID {
			t.Errorf("Location %q", loc)
		}
		if first.Width != 900 || first.Height != 1200 || first.Position != 0 || first.AltUr != "نیلا گلدان" {
			t.Errorf("first photo %+v", first)
		}
		for name, want := range map[string][2]int{"thumbnail": {240, 320}, "medium": {600, 800}, "large": {900, 1200}} {
			s := map[string]imageSizeBody{"thumbnail": first.Sizes.Thumbnail, "medium": first.Sizes.Medium, "large": first.Sizes.Large}[name]
			if s.Width != want[0] || s.Height != want[1] || s.Bytes <= 0 {
				t.Errorf("%s: %+v, want %v", name, s, want)
			}
		}
		if first.Sizes.Thumbnail.Bytes > 30_000 {
			t.Errorf("thumbnail is %d bytes, want under 30 KB", first.Sizes.Thumbnail.Bytes)
		}

		// Served with a year's caching, an ETag, and 304 for it without a body.
		thumb := e.do("GET", mediaPath(t, first.Sizes.Thumbnail.URL), nil)
		thumb.wantStatus(t, http.StatusOK)
		if thumb.Header.Get("Content-Type") != "image/jpeg" || thumb.Header.Get("Cache-Control") != media.ImmutableCacheControl ||
			len(thumb.Body) != first.Sizes.Thumbnail.Bytes || thumb.Header.Get("ETag") == "" {
			t.Fatalf("thumbnail served with %v, %d bytes", thumb.Header, len(thumb.Body))
		}
		again := e.do("GET", mediaPath(t, first.Sizes.Thumbnail.URL), nil, header("If-None-Match", thumb.Header.Get("ETag")))
		if again.Code != http.StatusNotModified || len(again.Body) != 0 {
			t.Fatalf("If-None-Match: %d with %d bytes", again.Code, len(again.Body))
		}

		// A PNG and a WebP (with EXIF GPS, XMP and ICC from cwebp) join it, in order.
		webp, err := os.ReadFile(filepath.Join("..", "services", "media", "testdata", "gps-exif.webp"))
		if err != nil {
			t.Fatal(err)
		}
		var second, third imageBody
		res = e.upload(f.manager, p.ID, "pattern.png", mediatest.PNG(mediatest.Picture(640, 480)))
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &second)
		res = e.upload(f.manager, p.ID, "share.webp", webp)
		res.wantStatus(t, http.StatusCreated)
		res.decode(t, &third)
		if second.Position != 1 || third.Position != 2 || third.Width != 300 || third.Height != 400 {
			t.Fatalf("second %+v, third %+v", second, third)
		}

		// The product lists them in order with every size; the catalogue
		// carries the first one's thumbnail, and null for a product without.
		var got photosBody
		e.do("GET", "/api/v1/products/"+p.ID, nil).decode(t, &got)
		if ids := photoIDs(got.Photos); !slices.Equal(ids, []string{first.ID, second.ID, third.ID}) {
			t.Fatalf("product photos %v", ids)
		}
		if got.ThumbnailURL == nil || *got.ThumbnailURL != first.Sizes.Thumbnail.URL {
			t.Fatalf("product thumbnail_url %v", got.ThumbnailURL)
		}
		wantCatalogueThumb(t, e, p.ID, &first.Sizes.Thumbnail.URL)
		wantCatalogueThumb(t, e, bare.ID, nil)
		var one imageBody
		e.do("GET", "/api/v1/products/"+p.ID+"/images/"+second.ID, nil).decode(t, &one)
		if one.ID != second.ID || one.Sizes.Large.URL != second.Sizes.Large.URL {
			t.Fatalf("GET one photo: %+v", one)
		}

		// Reordered with new text: the WebP first, so the catalogue shows it.
		res = e.do("PATCH", "/api/v1/products/"+p.ID+"/images", map[string]any{"images": []map[string]any{
			{"id": third.ID, "alt": "The vase from above"}, {"id": first.ID}, {"id": second.ID, "alt_ur": "نقش"}}},
			bearer(f.manager.AccessToken))
		res.wantStatus(t, http.StatusOK)
		var arranged listBody[imageBody]
		res.decode(t, &arranged)
		if ids := photoIDs(arranged.Data); !slices.Equal(ids, []string{third.ID, first.ID, second.ID}) ||
			arranged.Data[0].Alt != "The vase from above" || arranged.Data[1].AltUr != "نیلا گلدان" || arranged.Data[2].AltUr != "نقش" {
			t.Fatalf("arranged %+v", arranged.Data)
		}
		for i, im := range arranged.Data {
			if im.Position != i {
				t.Fatalf("position %d at %d", im.Position, i)
			}
		}
		wantCatalogueThumb(t, e, p.ID, &third.Sizes.Thumbnail.URL)
		for _, bad := range []map[string]any{
			{"images": []map[string]any{{"id": third.ID}, {"id": first.ID}}},
			{"images": []map[string]any{{"id": third.ID}, {"id": first.ID}, {"id": first.ID}}},
			{"images": []map[string]any{{"id": third.ID}, {"id": first.ID}, {"id": bare.ID}}},
			{"images": []map[string]any{{"id": third.ID, "alt": strings.Repeat("x", 301)}, {"id": first.ID}, {"id": second.ID}}},
		} {
			e.do("PATCH", "/api/v1/products/"+p.ID+"/images", bad, bearer(f.manager.AccessToken)).
				wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		}

		// The page shows them with every size in srcset.
		page := e.page("/p/" + p.ID)
		page.wantStatus(t, http.StatusOK)
		html := string(page.Body)
		wantSrcset := fmt.Sprintf(`srcset="%s 300w, %s 300w, %s 300w"`, third.Sizes.Thumbnail.URL, third.Sizes.Medium.URL, third.Sizes.Large.URL)
		wantSrcset = strings.Replace(wantSrcset, " 300w", " 240w", 1) // the thumbnail of 300 × 400 is 240 × 320
		if !strings.Contains(html, wantSrcset) || !strings.Contains(html, `alt="The vase from above"`) ||
			!strings.Contains(html, first.Sizes.Medium.URL+" 600w") || strings.Count(html, "<img ") != 3+1 {
			t.Fatalf("page lacks the photos' srcset %s:\n%s", wantSrcset, html)
		}

		// Deleted: its files go, its URLs answer 404, the rest move up.
		e.do("DELETE", "/api/v1/products/"+p.ID+"/images/"+first.ID, nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusNoContent)
		e.do("GET", mediaPath(t, first.Sizes.Large.URL), nil).wantError(t, http.StatusNotFound, "not_found")
		e.do("DELETE", "/api/v1/products/"+p.ID+"/images/"+first.ID, nil, bearer(f.manager.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		e.do("GET", "/api/v1/products/"+p.ID, nil).decode(t, &got)
		if ids := photoIDs(got.Photos); !slices.Equal(ids, []string{third.ID, second.ID}) || got.Photos[1].Position != 1 {
			t.Fatalf("after the deletion: %v", got.Photos)
		}
		e.wantNothingHalfStored()
		if len(e.stored()) != 6 {
			t.Fatalf("stored %v", e.stored())
		}
	})
}

func photoIDs(in []imageBody) []string {
	out := make([]string, len(in))
	for i, im := range in {
		out[i] = im.ID
	}
	return out
}

func wantCatalogueThumb(t *testing.T, e *env, productID string, want *string) {
	t.Helper()
	var l listBody[struct {
		ID           string  `json:"id"`
		ThumbnailURL *string `json:"thumbnail_url"`
	}]
	e.do("GET", "/api/v1/products?limit=100", nil).decode(t, &l)
	for _, it := range l.Data {
		if it.ID != productID {
			continue
		}
		if (want == nil) != (it.ThumbnailURL == nil) || (want != nil && *want != *it.ThumbnailURL) {
			t.Fatalf("catalogue thumbnail_url of %s: %v, want %v", productID, it.ThumbnailURL, want)
		}
		return
	}
	t.Fatalf("product %s is not in the catalogue", productID)
}

// TestProductPhotoBadInput: each bad upload is a clear 4xx JSON error and
// leaves no row and no file behind.
func TestProductPhotoBadInput(t *testing.T) {
	eachStorage(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		p := e.newProduct(f, f.product("Blue pottery jug", "pottery", 300000), false)
		photo := mediatest.JPEG(mediatest.Picture(640, 480))
		heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 2000)...)
		path := "/api/v1/products/" + p.ID + "/images"
		for _, tc := range []struct {
			name   string
			file   []byte
			status int
			code   string
			says   string
		}{
			{"text renamed .jpg", []byte("Dear buyer, thank you for your order.\nThis is a letter, not a photo.\n"), 415, "unsupported_media_type", "is text"},
			{"truncated JPEG", photo[:len(photo)*2/3], 422, "validation_failed", "damaged or incomplete JPEG"},
			{"20000 × 20000 PNG bomb", mediatest.Bomb(), 422, "validation_failed", "20000 × 20000"},
			{"HEIC", heic, 415, "unsupported_media_type", "HEIC"},
			{"too small", mediatest.PNG(mediatest.Picture(60, 60)), 422, "validation_failed", "at least 100 pixels"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				res := e.upload(f.manager, p.ID, "photo.jpg", tc.file)
				if er := res.wantError(t, tc.status, tc.code); !strings.Contains(er.Error.Message, tc.says) {
					t.Fatalf("message %q does not say %q", er.Error.Message, tc.says)
				}
				e.wantNothingHalfStored()
			})
		}

		// 11 MB: refused from Content-Length, and while reading when the
		// body is sent without one.
		big := append(slices.Clone(photo), make([]byte, 11_000_000)...)
		e.upload(f.manager, p.ID, "big.jpg", big).wantError(t, http.StatusRequestEntityTooLarge, "payload_too_large")
		body, ct := multipartBody("big.jpg", "image/jpeg", big)
		req := httptest.NewRequest("POST", path, io.MultiReader(bytes.NewReader(body)))
		req.ContentLength = -1
		req.Header.Set("Content-Type", ct)
		req.Header.Set("Authorization", "Bearer "+f.manager.AccessToken)
		rec := httptest.NewRecorder()
		e.srv.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "10 MiB") {
			t.Fatalf("11 MB without Content-Length: %d %s", rec.Code, rec.Body)
		}

		// Not multipart; no file part; an unknown part.
		e.do("POST", path, map[string]any{"url": "https://x/y.jpg"}, bearer(f.manager.AccessToken)).
			wantError(t, http.StatusUnsupportedMediaType, "unsupported_media_type")
		var empty bytes.Buffer
		w := multipart.NewWriter(&empty)
		_ = w.WriteField("alt", "no file")
		_ = w.Close()
		e.do("POST", path, rawBody(empty.String()), header("Content-Type", w.FormDataContentType()), bearer(f.manager.AccessToken)).
			wantError(t, http.StatusUnprocessableEntity, "validation_failed")
		body, ct = multipartBody("a.jpg", "image/jpeg", photo, "caption", "x")
		e.do("POST", path, rawBody(body), header("Content-Type", ct), bearer(f.manager.AccessToken)).
			wantError(t, http.StatusBadRequest, "bad_request")

		// Another group's product is not found; buyers and strangers are refused.
		e.upload(f.other, p.ID, "photo.jpg", photo).wantError(t, http.StatusNotFound, "not_found")
		e.upload(f.buyer, p.ID, "photo.jpg", photo).wantError(t, http.StatusForbidden, "forbidden")
		e.upload(f.auditor, p.ID, "photo.jpg", photo).wantError(t, http.StatusForbidden, "forbidden")
		body, ct = multipartBody("a.jpg", "image/jpeg", photo)
		e.do("POST", path, rawBody(body), header("Content-Type", ct)).wantError(t, http.StatusUnauthorized, "unauthorized")
		e.wantNothingHalfStored()

		// Eight photos, then a ninth.
		small := mediatest.PNG(mediatest.Picture(200, 150))
		var ids []string
		for range models.MaxProductImages {
			res := e.upload(f.manager, p.ID, "small.png", small)
			res.wantStatus(t, http.StatusCreated)
			var im imageBody
			res.decode(t, &im)
			ids = append(ids, im.ID)
		}
		e.upload(f.manager, p.ID, "ninth.png", small).wantError(t, http.StatusConflict, "conflict")
		e.wantNothingHalfStored()
		if n := len(e.stored()); n != 3*models.MaxProductImages {
			t.Fatalf("%d files stored for %d photos", n, models.MaxProductImages)
		}

		// Someone else's photos: not theirs to delete or reorder; a draft's
		// photo is not public.
		e.do("DELETE", path+"/"+ids[0], nil, bearer(f.other.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		e.do("PATCH", path, map[string]any{"images": []map[string]any{}}, bearer(f.other.AccessToken)).wantError(t, http.StatusNotFound, "not_found")
		e.do("GET", path+"/"+ids[0], nil).wantError(t, http.StatusNotFound, "not_found")
		e.do("GET", path+"/"+ids[0], nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)

		// An archived product takes no more photos.
		e.do("DELETE", path+"/"+ids[7], nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusNoContent)
		e.do("POST", "/api/v1/products/"+p.ID+"/archive", nil, bearer(f.manager.AccessToken)).wantStatus(t, http.StatusOK)
		e.upload(f.manager, p.ID, "late.png", small).wantError(t, http.StatusConflict, "invalid_state")
		e.wantNothingHalfStored()
	})
}

// TestPhotoUploadLeavesNoFileWhenTheDatabaseFails: the files are written
// before the row; when the row cannot be written they are deleted again.
func TestPhotoUploadLeavesNoFileWhenTheDatabaseFails(t *testing.T) {
	eachStorage(t, func(t *testing.T, e *env) {
		f := newCatalogFixture(e)
		p := e.newProduct(f, f.product("Blue pottery cup", "pottery", 300000), true)
		// The database refuses the photo's row (a failure injected into the
		// real database's driver calls, after the files are written).
		if err := e.db.Callback().Create().Before("gorm:create").Register("test:refuse_images", func(db *gorm.DB) {
			if db.Statement.Table == "product_images" {
				_ = db.AddError(errors.New("injected: the database refuses the row"))
			}
		}); err != nil {
			t.Fatal(err)
		}
		res := e.upload(f.manager, p.ID, "cup.jpg", mediatest.JPEG(mediatest.Picture(800, 600)))
		res.wantError(t, http.StatusInternalServerError, "internal")
		if n := e.count("product_images", ""); n != 0 {
			t.Fatalf("%d rows", n)
		}
		e.wantNothingHalfStored()
		if err := e.db.Callback().Create().Remove("test:refuse_images"); err != nil {
			t.Fatal(err)
		}

		// Uploads racing for the last places: the ones refused when their
		// rows are written (after their files) leave no files either.
		small := mediatest.PNG(mediatest.Picture(200, 150))
		for range models.MaxProductImages - 2 {
			e.upload(f.manager, p.ID, "s.png", small).wantStatus(t, http.StatusCreated)
		}
		codes := make([]int, 5)
		inParallel(len(codes), func(i int) { codes[i] = e.upload(f.manager, p.ID, "race.png", small).Code })
		slices.Sort(codes)
		if !slices.Equal(codes, []int{201, 201, 409, 409, 409}) {
			t.Fatalf("racing uploads answered %v, want two 201 and three 409", codes)
		}
		if n := e.count("product_images", "product_id = ?", p.ID); n != models.MaxProductImages {
			t.Fatalf("%d photos", n)
		}
		e.wantNothingHalfStored()
	})
}

// TestPhotoUploadWritesNoRowWhenStorageFails: a storage that cannot be
// written gets a 503 and no row; what it may hold of the upload is
// recorded for the sweeper.
func TestPhotoUploadWritesNoRowWhenStorageFails(t *testing.T) {
	t.Parallel()
	broken := map[string]func(t *testing.T) (media.Storage, func() []string){
		"local": func(t *testing.T) (media.Storage, func() []string) {
			root := t.TempDir()
			local, err := media.NewLocal(root)
			if err != nil {
				t.Fatal(err)
			}
			// A file where the products folder must go: every write fails, even as root.
			if err := os.WriteFile(filepath.Join(root, "products"), []byte("in the way"), 0o644); err != nil {
				t.Fatal(err)
			}
			return local, func() []string { keys, _ := local.List(context.Background(), "products/"); return keys }
		},
		"s3 with a wrong secret": func(t *testing.T) (media.Storage, func() []string) {
			opt := s3test.Start(t)
			good, err := media.NewS3(opt)
			if err != nil {
				t.Fatal(err)
			}
			opt.SecretAccessKey = "a-secret-the-server-does-not-know-000"
			wrong, err := media.NewS3(opt)
			if err != nil {
				t.Fatal(err)
			}
			return wrong, func() []string {
				keys, err := good.List(context.Background(), "products/")
				if err != nil {
					t.Fatal(err)
				}
				return keys
			}
		},
	}
	for name, make := range broken {
		t.Run(name, func(t *testing.T) {
			modelstest.Each(t, func(t *testing.T, db *gorm.DB) {
				s, stored := make(t)
				e := newEnv(t, db, withStorage(s))
				f := newCatalogFixture(e)
				p := e.newProduct(f, f.product("Blue pottery tile", "pottery", 300000), true)
				res := e.upload(f.manager, p.ID, "tile.jpg", mediatest.JPEG(mediatest.Picture(800, 600)))
				res.wantError(t, http.StatusServiceUnavailable, "unavailable")
				if res.Header.Get("Retry-After") == "" {
					t.Error("503 without Retry-After")
				}
				if n := e.count("product_images", ""); n != 0 {
					t.Fatalf("%d rows after the storage failed", n)
				}
				if keys := stored(); len(keys) != 0 {
					t.Fatalf("storage holds %v", keys)
				}
				// Whatever could not be deleted (storage refuses us) waits for the sweeper.
				var orphans []models.MediaOrphan
				if err := e.db.Find(&orphans).Error; err != nil {
					t.Fatal(err)
				}
				if name == "local" && len(orphans) != 0 {
					t.Fatalf("%d orphan records, though the folder answers", len(orphans))
				}
				for _, o := range orphans {
					if !strings.HasPrefix(o.Key, "products/"+p.ID+"/") {
						t.Fatalf("orphan %q", o.Key)
					}
				}
			})
		})
	}
}

// TestOrphanSweep: files recorded as orphans (an upload whose process died
// before its row, a deletion whose storage call failed) are deleted once
// due, and only then.
func TestOrphanSweep(t *testing.T) {
	eachStorage(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		now := time.Now().UTC()
		for i, due := range []time.Time{now.Add(-time.Minute), now.Add(-time.Second), now.Add(time.Hour)} {
			key := fmt.Sprintf("products/00000000-0000-7000-8000-000000000000/orphan-%d.jpg", i)
			if err := e.storage.Put(ctx, key, []byte("x"), "image/jpeg"); err != nil {
				t.Fatal(err)
			}
			if err := e.db.Create(&models.MediaOrphan{Key: key, DueAt: due, CreatedAt: now}).Error; err != nil {
				t.Fatal(err)
			}
		}
		n, err := e.media.Sweep(ctx)
		if err != nil || n != 2 {
			t.Fatalf("swept %d (%v), want the 2 due", n, err)
		}
		if got := e.stored(); len(got) != 1 || !strings.HasSuffix(got[0], "orphan-2.jpg") {
			t.Fatalf("left %v, want the one not due", got)
		}
		if n := e.count("media_orphans", ""); n != 1 {
			t.Fatalf("%d orphan records, want 1", n)
		}
	})
}
