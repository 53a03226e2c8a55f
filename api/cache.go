package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"

	"github.com/gin-gonic/gin"
)

// publicMaxAge is how long browsers and shared caches may keep what
// anonymous visitors see of the catalogue: a minute of staleness after a
// price or stock change, against a catalogue that is read far more often
// than it changes.
const publicCacheControl = "public, max-age=60"

// cacheable lets browsers and shared caches keep a public route's 200
// answers for anonymous callers: Cache-Control public with a minute's
// max-age, a strong ETag (a hash of the body), and 304 Not Modified when
// If-None-Match names it. Signed-in callers may see more (a manager sees
// drafts), so their answers keep the default no-store; Vary: Authorization
// tells shared caches the two differ.
func cacheable() gin.HandlerFunc {
	return func(c *gin.Context) {
		c.Writer.Header().Add("Vary", "Authorization")
		if _, signedIn := identityOf(c); signedIn {
			c.Next()
			return
		}
		w := bufferResponse(c.Writer)
		defer w.release()
		c.Writer = w
		c.Next()
		c.Writer = w.ResponseWriter
		if status := w.Status(); status != http.StatusOK {
			_, _ = w.ResponseWriter.Write(w.body.Bytes())
			return
		}
		sum := sha256.Sum256(w.body.Bytes())
		tag := `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
		h := w.Header()
		h.Set("ETag", tag)
		h.Set("Cache-Control", publicCacheControl)
		if named := matching(c.GetHeader("If-None-Match"), tag); named != "" {
			// The tag the client holds: the gzipped form's when it cached that.
			h.Set("ETag", named)
			for _, k := range []string{"Content-Type", "Content-Length"} {
				h.Del(k)
			}
			w.ResponseWriter.WriteHeader(http.StatusNotModified)
			w.ResponseWriter.WriteHeaderNow()
			return
		}
		_, _ = w.ResponseWriter.Write(w.body.Bytes())
	}
}

// matching is the form of tag that an If-None-Match header names, by the
// weak comparison RFC 9110 prescribes for it ("*" names any), or "" when it
// names none. The tag compress gives a gzipped answer (tag-gzip) names the
// same content.
func matching(ifNoneMatch, tag string) string {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		switch t = strings.TrimPrefix(strings.TrimSpace(t), "W/"); t {
		case "*":
			return tag
		case tag, gzipTag(tag):
			return t
		}
	}
	return ""
}

// bufferingWriter holds the body back until the handler is done, so that
// what is sent can depend on all of it (its hash, its size).
type bufferingWriter struct {
	gin.ResponseWriter
	body bytes.Buffer
}

// bufferResponse holds back what the handler writes to rw. Its buffer comes
// from a pool: growing a new one for every page was a sixth of what a
// catalogue search allocated.
func bufferResponse(rw gin.ResponseWriter) *bufferingWriter {
	w := responseBuffers.Get().(*bufferingWriter)
	w.ResponseWriter = rw
	w.body.Reset()
	return w
}

// release returns w to the pool once its body is sent; a large body's
// buffer (an export, a PDF) is let go rather than kept.
func (w *bufferingWriter) release() {
	w.ResponseWriter = nil
	if w.body.Cap() <= 256<<10 {
		responseBuffers.Put(w)
	}
}

var responseBuffers = sync.Pool{New: func() any { return new(bufferingWriter) }}

func (w *bufferingWriter) Write(b []byte) (int, error) { return w.body.Write(b) }

func (w *bufferingWriter) WriteString(s string) (int, error) { return w.body.WriteString(s) }

func (w *bufferingWriter) WriteHeaderNow() {}

func (w *bufferingWriter) Written() bool { return w.body.Len() > 0 || w.ResponseWriter.Written() }

func (w *bufferingWriter) Size() int { return w.body.Len() }
func (w *bufferingWriter) Flush()    {} // nothing is sent before the handler is done
