package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/services"
)

type statusResponse struct {
	Status string `json:"status"`
}

// healthz answers while the process can serve at all.
func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, statusResponse{Status: "ok"})
}

// readyz answers 200 only while the database answers and the server is
// not draining before it stops.
func (s *Server) readyz(c *gin.Context) {
	if s.draining.Load() {
		writeError(c, &services.Error{Code: services.CodeUnavailable, RetryAfter: databaseRetryAfter,
			Message: "the server is shutting down: send requests to another replica"})
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
	defer cancel()
	if err := s.ping(ctx); err != nil {
		writeError(c, databaseUnavailable())
		return
	}
	c.JSON(http.StatusOK, statusResponse{Status: "ok"})
}
