package services

import (
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
)

// Actor is who is asking: a signed-in user, or the zero Actor for an
// anonymous caller. Services decide what an actor may see and do.
type Actor struct {
	UserID uuid.UUID
	Role   models.Role
}

// Anonymous reports whether no one is signed in.
func (a Actor) Anonymous() bool { return a.UserID == uuid.Nil }

// Staff reports whether a is an auditor or an admin. It is not a right to
// read a group's people or books: groups.Readable decides that, since an
// auditor reads only the groups assigned to her.
func (a Actor) Staff() bool { return a.Role == models.RoleAuditor || a.Role == models.RoleAdmin }
