package api

import (
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/auth"
)

const ctxIdentity = "karigar.identity"

// authenticate reads a Bearer token when there is one. A request without
// one goes on anonymously (public routes serve it; protected ones refuse it);
// a request with a bad one is refused here.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.GetHeader("Authorization")
		if h == "" {
			c.Next()
			return
		}
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			writeError(c, services.Unauthorized("Authorization header must be: Bearer <access token>"))
			return
		}
		id, err := s.auth.Authenticate(c.Request.Context(), strings.TrimSpace(token))
		if err != nil {
			writeError(c, err)
			return
		}
		c.Set(ctxIdentity, id)
		c.Next()
	}
}

func identityOf(c *gin.Context) (auth.Identity, bool) {
	v, ok := c.Get(ctxIdentity)
	if !ok {
		return auth.Identity{}, false
	}
	id, ok := v.(auth.Identity)
	return id, ok
}

// requireRole refuses anonymous callers with 401 and callers of another role
// with 403. With no roles it only requires a signed-in caller.
func requireRole(roles ...models.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := identityOf(c)
		if !ok {
			writeError(c, services.Unauthorized("sign in first: this needs an access token"))
			return
		}
		if len(roles) > 0 {
			allowed := false
			for _, r := range roles {
				allowed = allowed || id.Role == r
			}
			if !allowed {
				writeError(c, services.Forbidden("your role may not do this"))
				return
			}
		}
		c.Next()
	}
}

// mustIdentity is for handlers behind requireRole.
func mustIdentity(c *gin.Context) auth.Identity {
	id, _ := identityOf(c)
	return id
}

// actorOf is the caller as services see it; anonymous callers are the zero Actor.
func actorOf(c *gin.Context) services.Actor {
	id, _ := identityOf(c)
	return services.Actor{UserID: id.UserID, Role: id.Role}
}
