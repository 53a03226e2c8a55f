package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// allowCORS lets the listed origins ("*" for any) call the API from a
// browser. A disallowed origin gets no Access-Control headers, so the browser
// blocks it; the request itself is answered as usual. (gin-contrib/cors
// answers such requests with a bare 403, which would break the rule that
// every error is the JSON envelope.)
func allowCORS(origins []string) gin.HandlerFunc {
	allowed := map[string]bool{}
	for _, o := range origins {
		allowed[o] = true
	}
	const (
		methods = "GET, HEAD, POST, PUT, PATCH, DELETE"
		headers = "Authorization, Content-Type, " + headerIdempotencyKey + ", " + headerRequestID
		exposed = headerRequestID + ", Retry-After, Idempotent-Replayed"
	)
	return func(c *gin.Context) {
		origin := c.GetHeader("Origin")
		if origin == "" {
			c.Next()
			return
		}
		h := c.Writer.Header()
		h.Add("Vary", "Origin")
		ok := allowed[origin] || allowed["*"]
		if ok {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Expose-Headers", exposed)
		}
		if c.Request.Method == http.MethodOptions && c.GetHeader("Access-Control-Request-Method") != "" {
			if ok {
				h.Set("Access-Control-Allow-Methods", methods)
				h.Set("Access-Control-Allow-Headers", headers)
				h.Set("Access-Control-Max-Age", "600")
			}
			c.AbortWithStatus(http.StatusNoContent)
			return
		}
		c.Next()
	}
}
