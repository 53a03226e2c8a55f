package api

import (
	"bytes"
	"context"
	"encoding/json"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

// The consented fields of an artisan (contract section 15), embedded in the
// artisan's request and in artisanResponse, the private view only the
// group's managers, auditors and admins receive.

// nullable is a JSON field where null means "clear it" and absence means
// "leave it"; an object is decoded strictly (no unknown fields).
type nullable[T any] struct {
	set   bool
	value *T
}

func (n *nullable[T]) UnmarshalJSON(b []byte) error {
	n.set = true
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return err
	}
	n.value = &v
	return nil
}

func (n nullable[T]) optional() groups.Optional[T] {
	return groups.Optional[T]{Set: n.set, Value: n.value}
}

// disabilityBody is the Washington Group Short Set.
type disabilityBody struct {
	Seeing        string `json:"seeing"`
	Hearing       string `json:"hearing"`
	Walking       string `json:"walking"`
	Remembering   string `json:"remembering"`
	SelfCare      string `json:"self_care"`
	Communicating string `json:"communicating"`
}

type inclusionRequest struct {
	StatisticsConsent *bool                    `json:"statistics_consent"`
	StatementConsent  *bool                    `json:"statement_consent"`
	BirthYear         nullable[int]            `json:"birth_year"`
	Disability        nullable[disabilityBody] `json:"disability"`
}

func (r inclusionRequest) toService() groups.InclusionInput {
	in := groups.InclusionInput{StatisticsConsent: r.StatisticsConsent, StatementConsent: r.StatementConsent,
		BirthYear: r.BirthYear.optional()}
	in.Disability.Set = r.Disability.set
	if d := r.Disability.value; d != nil {
		in.Disability.Value = &groups.Disability{Seeing: d.Seeing, Hearing: d.Hearing, Walking: d.Walking,
			Remembering: d.Remembering, SelfCare: d.SelfCare, Communicating: d.Communicating}
	}
	return in
}

type inclusionResponse struct {
	StatisticsConsent bool            `json:"statistics_consent"`
	StatementConsent  bool            `json:"statement_consent"`
	BirthYear         *int            `json:"birth_year"`
	Disability        *disabilityBody `json:"disability"`
}

func toInclusion(in models.ArtisanInclusion) inclusionResponse {
	out := inclusionResponse{StatisticsConsent: in.StatisticsConsent, StatementConsent: in.StatementConsent, BirthYear: in.BirthYear}
	if d := groups.DisabilityOf(in); d != nil {
		out.Disability = &disabilityBody{Seeing: d.Seeing, Hearing: d.Hearing, Walking: d.Walking, Remembering: d.Remembering,
			SelfCare: d.SelfCare, Communicating: d.Communicating}
	}
	return out
}

type consentChangeResponse struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Granted    bool      `json:"granted"`
	RecordedBy userRef   `json:"recorded_by"`
	RecordedAt time.Time `json:"recorded_at"`
}

type userRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func toConsentChange(c groups.ConsentChange) consentChangeResponse {
	return consentChangeResponse{ID: c.ID.String(), Kind: c.Kind, Granted: c.Granted,
		RecordedBy: userRef{ID: c.RecordedBy.String(), Name: c.RecordedByName}, RecordedAt: c.RecordedAt.UTC()}
}

func (s *Server) consentHistory(c *gin.Context) {
	pageUnder(c, func(ctx context.Context, actor services.Actor, id uuid.UUID, cursor string, limit int) ([]groups.ConsentChange, string, error) {
		return s.groups.ConsentHistory(ctx, actor, id, limit, cursor)
	}, toConsentChange)
}
