package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
	"github.com/karigar/karigar/services/page"
)

type profitSharing struct {
	Method            string `json:"method"`
	CollectiveFundBPS int    `json:"collective_fund_bps"`
}

type groupRequest struct {
	Name               *string        `json:"name"`
	Description        *string        `json:"description"`
	District           *string        `json:"district"`
	Province           *string        `json:"province"`
	RegistrationNumber *string        `json:"registration_number"`
	ShippingFee        *models.Money  `json:"shipping_fee"`
	ProfitSharing      *profitSharing `json:"profit_sharing"`
}

func (r groupRequest) toService() groups.GroupInput {
	in := groups.GroupInput{Name: r.Name, Description: r.Description, District: r.District, Province: r.Province,
		RegistrationNumber: r.RegistrationNumber, ShippingFee: r.ShippingFee}
	if r.ProfitSharing != nil {
		in.ProfitMethod, in.CollectiveFundBPS = &r.ProfitSharing.Method, &r.ProfitSharing.CollectiveFundBPS
	}
	return in
}

type groupResponse struct {
	ID                 string        `json:"id"`
	Name               string        `json:"name"`
	Description        string        `json:"description"`
	District           string        `json:"district"`
	Province           string        `json:"province"`
	Status             string        `json:"status"`
	ShippingFee        models.Money  `json:"shipping_fee"`
	ProfitSharing      profitSharing `json:"profit_sharing"`
	ProductCount       int64         `json:"product_count"`
	RegistrationNumber *string       `json:"registration_number,omitempty"`
	VerifiedAt         *time.Time    `json:"verified_at"`
	CreatedAt          time.Time     `json:"created_at"`
}

func toGroup(g groups.Group) groupResponse {
	out := groupResponse{ID: g.ID.String(), Name: g.Name, Description: g.Description, District: g.District,
		Province: string(g.Province), Status: g.Status, ShippingFee: models.NewMoney(g.ShippingFee, g.Currency),
		ProfitSharing: profitSharing{Method: g.ProfitMethod, CollectiveFundBPS: g.CollectiveFundBPS},
		ProductCount:  g.ProductCount, VerifiedAt: utc(g.VerifiedAt), CreatedAt: g.CreatedAt.UTC()}
	if g.ShowRegistration && g.RegistrationNumber != nil {
		out.RegistrationNumber = g.RegistrationNumber
	}
	return out
}

func (s *Server) createGroup(c *gin.Context) {
	var req groupRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	g, err := s.groups.Create(c.Request.Context(), actorOf(c), req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toGroup(g), "groups", g.ID.String())
}

func (s *Server) listGroups(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	gs, next, err := s.groups.List(c.Request.Context(), groups.GroupFilter{Province: c.Query("province"),
		District: c.Query("district"), Limit: limit, Cursor: c.Query("cursor")})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(gs, next, toGroup))
}

func (s *Server) getGroup(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	g, err := s.groups.Get(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toGroup(g))
}

func (s *Server) updateGroup(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req groupRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	g, err := s.groups.Update(c.Request.Context(), actorOf(c), id, req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toGroup(g))
}

func (s *Server) verifyGroup(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	g, err := s.groups.Verify(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toGroup(g))
}

type managerRequest struct {
	Email string `json:"email"`
}

type managerResponse struct {
	UserID  string    `json:"user_id"`
	Name    string    `json:"name"`
	Email   string    `json:"email"`
	AddedAt time.Time `json:"added_at"`
}

func (s *Server) addManager(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req managerRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	m, err := s.groups.AddManager(c.Request.Context(), actorOf(c), id, req.Email)
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, managerResponse{UserID: m.UserID.String(), Name: m.Name, Email: m.Email, AddedAt: m.AddedAt.UTC()},
		"groups", id.String(), "managers", m.UserID.String())
}

type artisanRequest struct {
	DisplayName           *string   `json:"display_name"`
	FullName              *string   `json:"full_name"`
	District              *string   `json:"district"`
	Phone                 clearable `json:"phone"`
	CNIC                  clearable `json:"cnic"`
	Gender                clearable `json:"gender"`
	HBWRegistrationNumber clearable `json:"hbw_registration_number"`
	Skills                *[]string `json:"skills"`
	PublicProfile         *bool     `json:"public_profile"`
	Active                *bool     `json:"active"`
	SMSConsent            *bool     `json:"sms_consent"`
	Language              *string   `json:"language"`
	// The consented fields (inclusion_handlers.go).
	inclusionRequest
}

func (r artisanRequest) toService() groups.ArtisanInput {
	in := groups.ArtisanInput{DisplayName: r.DisplayName, FullName: r.FullName, District: r.District,
		Phone: r.Phone.ptr(), CNIC: r.CNIC.ptr(), Gender: r.Gender.ptr(), HBWRegistrationNumber: r.HBWRegistrationNumber.ptr(),
		Skills: r.Skills, PublicProfile: r.PublicProfile, Active: r.Active, SMSConsent: r.SMSConsent, Language: r.Language}
	in.Inclusion = r.inclusionRequest.toService()
	return in
}

// artisanResponse is the private view of an artisan: only the group's
// managers, auditors and admins ever receive it.
type artisanResponse struct {
	ID                    string    `json:"id"`
	GroupID               string    `json:"group_id"`
	DisplayName           string    `json:"display_name"`
	FullName              string    `json:"full_name"`
	District              string    `json:"district"`
	Phone                 *string   `json:"phone"`
	CNIC                  *string   `json:"cnic"`
	Gender                *string   `json:"gender"`
	HBWRegistrationNumber *string   `json:"hbw_registration_number"`
	Skills                []string  `json:"skills"`
	PublicProfile         bool      `json:"public_profile"`
	Active                bool      `json:"active"`
	SMSConsent            bool      `json:"sms_consent"`
	Language              string    `json:"language"`
	CreatedAt             time.Time `json:"created_at"`
	UpdatedAt             time.Time `json:"updated_at"`
	// The consented fields (inclusion_handlers.go).
	inclusionResponse
}

func toArtisan(a groups.Artisan) artisanResponse {
	skills := a.Skills
	if skills == nil {
		skills = []string{}
	}
	out := artisanResponse{ID: a.ID.String(), GroupID: a.GroupID.String(), DisplayName: a.DisplayName, FullName: a.FullName,
		District: a.District, Phone: a.Phone, CNIC: a.CNIC, Gender: a.Gender, HBWRegistrationNumber: a.HBWRegistrationNumber,
		Skills: skills, PublicProfile: a.PublicProfile, Active: a.Active, SMSConsent: a.SMSConsent, Language: a.Language,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	out.inclusionResponse = toInclusion(a.Inclusion)
	return out
}

func (s *Server) createArtisan(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req artisanRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	a, err := s.groups.CreateArtisan(c.Request.Context(), actorOf(c), id, req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, toArtisan(a), "artisans", a.ID.String())
}

func (s *Server) listArtisans(c *gin.Context) {
	pageUnder(c, func(ctx context.Context, actor services.Actor, id uuid.UUID, cursor string, limit int) ([]groups.Artisan, string, error) {
		return s.groups.ListArtisans(ctx, actor, id, limit, cursor)
	}, toArtisan)
}

func (s *Server) updateArtisan(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req artisanRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	a, err := s.groups.UpdateArtisan(c.Request.Context(), actorOf(c), id, req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, toArtisan(a))
}
