package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/media"
)

// MediaPath is where the binary serves stored photos (when the storage has
// no public URL of its own): /media/products/{product}/{file}.
const MediaPath = "/media"

// uploadBodyBytes is the body limit of a photo upload: the file's 10 MiB
// and room for the multipart framing and the alt texts.
const uploadBodyBytes = media.MaxUploadBytes + 64<<10

var errUploadTooLarge = &services.Error{Code: services.CodePayloadTooLarge,
	Message: "a photo may be at most 10 MiB: send a smaller one (phones can share a photo at a smaller size)"}

var errNoStorage = &services.Error{Code: services.CodeUnavailable, RetryAfter: time.Minute,
	Message: "photo storage is not configured on this server"}

type imageSize struct {
	URL    string `json:"url"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int    `json:"bytes"`
}

type imageSizes struct {
	Thumbnail imageSize `json:"thumbnail"`
	Medium    imageSize `json:"medium"`
	Large     imageSize `json:"large"`
}

// imageResponse is a product photo with every stored size's URL.
type imageResponse struct {
	ID        string     `json:"id"`
	Position  int        `json:"position"`
	Alt       string     `json:"alt"`
	AltUr     string     `json:"alt_ur"`
	Width     int        `json:"width"`
	Height    int        `json:"height"`
	Sizes     imageSizes `json:"sizes"`
	CreatedAt time.Time  `json:"created_at"`
}

// mediaURL is where clients fetch a stored object.
func (s *Server) mediaURL(key string) string {
	if s.media == nil {
		return s.public + MediaPath + "/" + key
	}
	return s.media.URL(key)
}

func (s *Server) toImage(i models.ProductImage) imageResponse {
	return imageResponse{ID: i.ID.String(), Position: i.Position, Alt: i.Alt, AltUr: i.AltUr, Width: i.Width, Height: i.Height,
		Sizes: imageSizes{
			Thumbnail: imageSize{s.mediaURL(i.ThumbKey), i.ThumbWidth, i.ThumbHeight, i.ThumbBytes},
			Medium:    imageSize{s.mediaURL(i.MediumKey), i.MediumWidth, i.MediumHeight, i.MediumBytes},
			Large:     imageSize{s.mediaURL(i.LargeKey), i.LargeWidth, i.LargeHeight, i.LargeBytes},
		}, CreatedAt: i.CreatedAt.UTC()}
}

func (s *Server) toImages(in []models.ProductImage) []imageResponse {
	out := make([]imageResponse, len(in))
	for i, img := range in {
		out[i] = s.toImage(img)
	}
	return out
}

// uploadImage takes a multipart/form-data body: the photo in a part named
// "file", and optional "alt" and "alt_ur" parts.
func (s *Server) uploadImage(c *gin.Context) {
	if s.media == nil {
		writeError(c, errNoStorage)
		return
	}
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	data, text, err := readUpload(c)
	if err != nil {
		writeError(c, err)
		return
	}
	img, err := s.media.Upload(c.Request.Context(), actorOf(c), id, data, text)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, s.toImage(img), "products", id.String(), "images", img.ID.String())
}

// readUpload reads a photo upload's parts. Errors: unsupported_media_type
// (not multipart/form-data), payload_too_large, bad_request,
// validation_failed (no file).
func readUpload(c *gin.Context) ([]byte, media.Text, error) {
	var text media.Text
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, text, &services.Error{Code: services.CodeUnsupportedMedia,
			Message: "send the photo as multipart/form-data, in a part named file"}
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, text, services.BadRequest("the multipart body cannot be read: %v", err)
	}
	var data []byte
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, text, readError(err)
		}
		name := part.FormName()
		switch name {
		case "file":
			if data != nil {
				return nil, text, services.BadRequest("send one photo per request: the body has two parts named file")
			}
			if data, err = io.ReadAll(io.LimitReader(part, media.MaxUploadBytes+1)); err != nil {
				return nil, text, readError(err)
			}
			if len(data) > media.MaxUploadBytes {
				return nil, text, errUploadTooLarge
			}
		case "alt", "alt_ur":
			b, err := io.ReadAll(io.LimitReader(part, 4<<10))
			if err != nil {
				return nil, text, readError(err)
			}
			v := string(b)
			if name == "alt" {
				text.Alt = &v
			} else {
				text.AltUr = &v
			}
		default:
			return nil, text, services.BadRequest("unknown part %q: an upload has a part named file, and optionally alt and alt_ur", name)
		}
		part.Close()
	}
	if data == nil {
		return nil, text, services.Invalid(map[string]string{"file": "is required: the photo, in a part named file"})
	}
	return data, text, nil
}

func readError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return errUploadTooLarge
	}
	return services.BadRequest("the multipart body cannot be read: %v", err)
}

func (s *Server) getImage(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	imageID, err := uuid.Parse(c.Param("image_id"))
	if err != nil {
		writeError(c, services.BadRequest("image_id %q is not a UUID", c.Param("image_id")))
		return
	}
	// A photo is visible exactly as its product is.
	p, err := s.catalog.Get(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	for _, img := range p.Photos {
		if img.ID == imageID {
			c.JSON(http.StatusOK, s.toImage(img))
			return
		}
	}
	writeError(c, services.NotFound("image"))
}

func (s *Server) deleteImage(c *gin.Context) {
	if s.media == nil {
		writeError(c, errNoStorage)
		return
	}
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	imageID, err := uuid.Parse(c.Param("image_id"))
	if err != nil {
		writeError(c, services.NotFound("image"))
		return
	}
	if err := s.media.Delete(c.Request.Context(), actorOf(c), id, imageID); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

type arrangeRequest struct {
	Images []struct {
		ID    string  `json:"id"`
		Alt   *string `json:"alt"`
		AltUr *string `json:"alt_ur"`
	} `json:"images"`
}

func (s *Server) arrangeImages(c *gin.Context) {
	if s.media == nil {
		writeError(c, errNoStorage)
		return
	}
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req arrangeRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if req.Images == nil {
		writeError(c, services.Invalid(map[string]string{"images": "is required: every photo of the product, in the new order"}))
		return
	}
	order := make([]media.Arrangement, len(req.Images))
	for i, im := range req.Images {
		imageID, err := bodyID(fmt.Sprintf("images[%d].id", i), im.ID)
		if err != nil {
			writeError(c, err)
			return
		}
		order[i] = media.Arrangement{ID: imageID, Text: media.Text{Alt: im.Alt, AltUr: im.AltUr}}
	}
	imgs, err := s.media.Arrange(c.Request.Context(), actorOf(c), id, order)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(imgs, "", s.toImage))
}

// serveMedia serves a stored photo size. Its key names its bytes (their
// hash is in it), so it is cached for a year by anyone, its ETag is that
// hash, and a matching If-None-Match is answered 304 without reading
// storage at all.
func (s *Server) serveMedia(c *gin.Context) {
	key := "products/" + c.Param("product") + "/" + c.Param("file")
	tag, ok := media.ObjectTag(key)
	if !ok || s.media == nil {
		writeError(c, services.NotFound("file"))
		return
	}
	etag := `"` + tag + `"`
	h := c.Writer.Header()
	if matching(c.GetHeader("If-None-Match"), etag) != "" {
		h.Set("ETag", etag)
		h.Set("Cache-Control", media.ImmutableCacheControl)
		c.Status(http.StatusNotModified)
		return
	}
	obj, err := s.media.Storage().Open(c.Request.Context(), key)
	if errors.Is(err, media.ErrNotExist) {
		writeError(c, services.NotFound("file"))
		return
	}
	if err != nil {
		loggerOf(c).ErrorContext(c.Request.Context(), "photo storage read failed", "request_id", requestID(c), "error", err.Error())
		writeError(c, &services.Error{Code: services.CodeUnavailable, RetryAfter: 5 * time.Second,
			Message: "photo storage cannot be read just now: try again shortly"})
		return
	}
	defer obj.Close()
	h.Set("ETag", etag)
	h.Set("Cache-Control", media.ImmutableCacheControl)
	h.Set("Content-Type", "image/jpeg")
	// Only the page's own images, nothing that runs.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	if rs, ok := obj.ReadCloser.(io.ReadSeeker); ok {
		// A file: ServeContent answers ranges and If-Modified-Since too.
		http.ServeContent(c.Writer, c.Request, "", obj.ModTime, rs)
		return
	}
	if !obj.ModTime.IsZero() {
		h.Set("Last-Modified", obj.ModTime.UTC().Format(http.TimeFormat))
	}
	c.DataFromReader(http.StatusOK, obj.Size, "image/jpeg", obj, nil)
}
