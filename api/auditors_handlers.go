package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

type auditorRequest struct {
	Email string `json:"email"`
}

type auditorResponse struct {
	GroupID    string    `json:"group_id"`
	UserID     string    `json:"user_id"`
	Email      string    `json:"email"`
	Name       string    `json:"name"`
	AssignedAt time.Time `json:"assigned_at"`
}

func toAuditor(a groups.Auditor) auditorResponse {
	return auditorResponse{GroupID: a.GroupID.String(), UserID: a.UserID.String(), Email: a.Email, Name: a.Name,
		AssignedAt: a.AssignedAt.UTC()}
}

func (s *Server) assignAuditor(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req auditorRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	a, err := s.groups.AssignAuditor(c.Request.Context(), actorOf(c), id, req.Email)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toAuditor(a), "admin", "groups", a.GroupID.String(), "auditors", a.UserID.String())
}

func (s *Server) unassignAuditor(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	userID, err := uuid.Parse(c.Param("user_id"))
	if err != nil {
		writeError(c, services.BadRequest("user_id %q is not a UUID", c.Param("user_id")))
		return
	}
	if err := s.groups.UnassignAuditor(c.Request.Context(), actorOf(c), id, userID); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) listAuditors(c *gin.Context) {
	pageUnder(c, func(ctx context.Context, actor services.Actor, id uuid.UUID, cursor string, limit int) ([]groups.Auditor, string, error) {
		return s.groups.ListAuditors(ctx, actor, id, limit, cursor)
	}, toAuditor)
}
