package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services/auth"
)

type userResponse struct {
	ID         string     `json:"id"`
	Email      string     `json:"email"`
	Name       string     `json:"name"`
	Role       string     `json:"role"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

func toUser(u auth.User) userResponse {
	r := userResponse{ID: u.ID.String(), Email: u.Email, Name: u.Name, Role: string(u.Role), CreatedAt: u.CreatedAt.UTC()}
	if u.DisabledAt != nil {
		at := u.DisabledAt.UTC()
		r.DisabledAt = &at
	}
	return r
}

type sessionResponse struct {
	User         userResponse `json:"user"`
	AccessToken  string       `json:"access_token"`
	RefreshToken string       `json:"refresh_token"`
	TokenType    string       `json:"token_type"`
	ExpiresIn    int          `json:"expires_in"`
}

func toSession(s auth.Session) sessionResponse {
	return sessionResponse{User: toUser(s.User), AccessToken: s.AccessToken, RefreshToken: s.RefreshToken,
		TokenType: "Bearer", ExpiresIn: int(s.ExpiresIn.Seconds())}
}

type newUserRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
	Role     string `json:"role"`
}

func (r newUserRequest) toService() auth.NewUser {
	return auth.NewUser{Email: r.Email, Password: r.Password, Name: r.Name, Role: models.Role(r.Role)}
}

func (s *Server) register(c *gin.Context) {
	var req newUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	sess, err := s.auth.Register(c.Request.Context(), req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toSession(sess), "me")
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (s *Server) login(c *gin.Context) {
	var req loginRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	sess, err := s.auth.Login(c.Request.Context(), auth.Credentials{Email: req.Email, Password: req.Password, ClientIP: c.ClientIP()})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toSession(sess))
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

func (s *Server) refresh(c *gin.Context) {
	var req refreshRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	sess, err := s.auth.Refresh(c.Request.Context(), req.RefreshToken)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toSession(sess))
}

// logout takes an optional body naming the refresh token whose family to
// revoke; without one every refresh token of the caller is revoked.
func (s *Server) logout(c *gin.Context) {
	var req refreshRequest
	if err := bindOptionalJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := s.auth.Logout(c.Request.Context(), mustIdentity(c), req.RefreshToken); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) me(c *gin.Context) {
	u, err := s.auth.Me(c.Request.Context(), mustIdentity(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toUser(u))
}

func (s *Server) createUser(c *gin.Context) {
	var req newUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	u, err := s.auth.CreateUser(c.Request.Context(), req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toUser(u), "admin", "users", u.ID.String())
}

func (s *Server) disableUser(c *gin.Context) {
	s.changeUser(c, s.auth.Disable)
}

func (s *Server) enableUser(c *gin.Context) {
	s.changeUser(c, s.auth.Enable)
}

// changeUser runs an admin's change to the user named by the path and
// answers with the user as it now is.
func (s *Server) changeUser(c *gin.Context, change func(ctx context.Context, by, id uuid.UUID) (auth.User, error)) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	u, err := change(c.Request.Context(), mustIdentity(c).UserID, id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toUser(u))
}

type passwordResetResponse struct {
	ResetToken string    `json:"reset_token"`
	ExpiresAt  time.Time `json:"expires_at"`
}

func (s *Server) issuePasswordReset(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	r, err := s.auth.IssuePasswordReset(c.Request.Context(), mustIdentity(c).UserID, id)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, passwordResetResponse{ResetToken: r.Token, ExpiresAt: r.ExpiresAt.UTC()}, "admin", "users", id.String(), "password-reset")
}

type resetPasswordRequest struct {
	ResetToken  string `json:"reset_token"`
	NewPassword string `json:"new_password"`
}

func (s *Server) resetPassword(c *gin.Context) {
	var req resetPasswordRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if err := s.auth.ResetPassword(c.Request.Context(), req.ResetToken, req.NewPassword); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
