package api

import (
	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/services"
)

// pathID parses the :id path parameter; a malformed one is a bad_request.
func pathID(c *gin.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return uuid.Nil, services.BadRequest("id %q is not a UUID", c.Param("id"))
	}
	return id, nil
}

// bodyID parses a UUID field of a request body; a malformed one is a
// validation error naming the field.
func bodyID(field, raw string) (uuid.UUID, error) {
	id, err := uuid.Parse(raw)
	if err != nil {
		return uuid.Nil, services.Invalid(map[string]string{field: "is not a UUID"})
	}
	return id, nil
}
