package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/catalog"
	"github.com/karigar/karigar/services/page"
)

type costRequest struct {
	Materials    *models.Money `json:"materials"`
	Packaging    *models.Money `json:"packaging"`
	LaborMinutes *int          `json:"labor_minutes"`
	HourlyWage   *models.Money `json:"hourly_wage"`
}

type makerRequest struct {
	ArtisanID    string `json:"artisan_id"`
	LaborMinutes int    `json:"labor_minutes"`
}

type productRequest struct {
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	Category    *string         `json:"category"`
	Materials   *[]string       `json:"materials"`
	Images      *[]string       `json:"images"`
	Price       *models.Money   `json:"price"`
	Stock       *int            `json:"stock"`
	Cost        *costRequest    `json:"cost"`
	Makers      *[]makerRequest `json:"makers"`
	Food        *foodRequest    `json:"food"`
}

type foodRequest struct {
	Ingredients   *string  `json:"ingredients"`
	Allergens     []string `json:"allergens"`
	ShelfLifeDays *int     `json:"shelf_life_days"`
	LicenceNumber *string  `json:"licence_number"`
}

// foodResponse is a food product's label, and whether it is sold only
// through order cycles (it keeps catalog.FreshFoodDays or less).
type foodResponse struct {
	Ingredients     string   `json:"ingredients"`
	Allergens       []string `json:"allergens"`
	ShelfLifeDays   int      `json:"shelf_life_days"`
	LicenceNumber   *string  `json:"licence_number"`
	OrderCyclesOnly bool     `json:"order_cycles_only"`
}

// toFood is p's food facts, or nil for a product that is not food.
func toFood(p models.Product) *foodResponse {
	if p.FoodShelfLifeDays == nil || p.FoodIngredients == nil {
		return nil
	}
	allergens := p.FoodAllergens
	if allergens == nil {
		allergens = []string{}
	}
	return &foodResponse{Ingredients: *p.FoodIngredients, Allergens: allergens, ShelfLifeDays: *p.FoodShelfLifeDays,
		LicenceNumber: p.FoodLicenceNumber, OrderCyclesOnly: catalog.CycleOnly(p)}
}

func (r productRequest) toService() catalog.ProductInput {
	in := catalog.ProductInput{Title: r.Title, Description: r.Description, Category: r.Category, Materials: r.Materials,
		Images: r.Images, Price: r.Price, Stock: r.Stock}
	if r.Cost != nil {
		in.CostMaterials, in.CostPackaging, in.LaborMinutes, in.HourlyWage = r.Cost.Materials, r.Cost.Packaging,
			r.Cost.LaborMinutes, r.Cost.HourlyWage
	}
	if r.Makers != nil {
		makers := make([]catalog.Maker, len(*r.Makers))
		for i, m := range *r.Makers {
			// A malformed id is no artisan of the group: the service says so with the other problems.
			id, _ := uuid.Parse(m.ArtisanID)
			makers[i] = catalog.Maker{ArtisanID: id, LaborMinutes: m.LaborMinutes}
		}
		in.Makers = &makers
	}
	if f := r.Food; f != nil {
		in.Food = &catalog.FoodInput{Ingredients: f.Ingredients, Allergens: f.Allergens, ShelfLifeDays: f.ShelfLifeDays,
			LicenceNumber: f.LicenceNumber}
	}
	return in
}

type groupSummary struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	District string `json:"district"`
	Province string `json:"province"`
}

type makerResponse struct {
	ArtisanID    string   `json:"artisan_id"`
	DisplayName  string   `json:"display_name"`
	District     string   `json:"district"`
	Skills       []string `json:"skills"`
	LaborMinutes *int     `json:"labor_minutes,omitempty"`
}

type costResponse struct {
	Materials    models.Money `json:"materials"`
	Packaging    models.Money `json:"packaging"`
	LaborMinutes int          `json:"labor_minutes"`
	HourlyWage   models.Money `json:"hourly_wage"`
}

// productItem is a product in a list; productResponse adds what a product
// page shows. Images are links to pictures hosted elsewhere, as the
// manager gave them; ThumbnailURL is the thumbnail of the first uploaded
// photo (photos), for catalogue pages on slow connections.
type productItem struct {
	ID                 string       `json:"id"`
	Title              string       `json:"title"`
	Category           string       `json:"category"`
	Images             []string     `json:"images"`
	ThumbnailURL       *string      `json:"thumbnail_url"`
	Price              models.Money `json:"price"`
	InStock            bool         `json:"in_stock"`
	Status             string       `json:"status"`
	ArtisanShareBPS    int          `json:"artisan_share_bps"`
	MeetsWageBenchmark bool         `json:"meets_wage_benchmark"`
	Group              groupSummary `json:"group"`
	PublishedAt        *time.Time   `json:"published_at"`
}

type productResponse struct {
	productItem
	Description         string          `json:"description"`
	Materials           []string        `json:"materials"`
	Stock               int             `json:"stock"`
	Cost                costResponse    `json:"cost"`
	EffectiveHourlyWage models.Money    `json:"effective_hourly_wage"`
	Shortfall           *models.Money   `json:"shortfall,omitempty"` // managers only: what the price lacks to cover its costs and fees
	Makers              []makerResponse `json:"makers"`
	Photos              []imageResponse `json:"photos"`
	Food                *foodResponse   `json:"food"` // null for a product that is not food
	CreatedAt           time.Time       `json:"created_at"`
	UpdatedAt           time.Time       `json:"updated_at"`
}

func toItem(p models.Product, g groupSummary) productItem {
	images := p.Images
	if images == nil {
		images = []string{}
	}
	return productItem{ID: p.ID.String(), Title: p.Title, Category: p.Category, Images: images,
		Price: models.NewMoney(p.Price, p.Currency), InStock: p.Stock > 0, Status: p.Status,
		ArtisanShareBPS: p.ArtisanShareBPS, MeetsWageBenchmark: p.MeetsWageBenchmark, Group: g, PublishedAt: utc(p.PublishedAt)}
}

func (s *Server) toListItem(it catalog.Item) productItem {
	out := toItem(it.Product, groupSummary{ID: it.GroupID.String(), Name: it.GroupName, District: it.GroupDistrict,
		Province: string(it.Province)})
	if it.ThumbKey != nil {
		u := s.mediaURL(*it.ThumbKey)
		out.ThumbnailURL = &u
	}
	return out
}

func (s *Server) toProduct(p catalog.Product) productResponse {
	g := groupSummary{ID: p.Group.ID.String(), Name: p.Group.Name, District: p.Group.District, Province: string(p.Group.Province)}
	out := productResponse{productItem: toItem(p.Product, g), Description: p.Description, Materials: p.Materials, Stock: p.Stock,
		Photos: s.toImages(p.Photos),
		Cost: costResponse{Materials: models.NewMoney(p.CostMaterials, p.Currency), Packaging: models.NewMoney(p.CostPackaging, p.Currency),
			LaborMinutes: p.LaborMinutes, HourlyWage: models.NewMoney(p.HourlyWage, p.Currency)},
		EffectiveHourlyWage: models.NewMoney(p.EffectiveHourlyWage, p.Currency),
		Makers:              make([]makerResponse, len(p.Makers)), Food: toFood(p.Product), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
	if out.Materials == nil {
		out.Materials = []string{}
	}
	if len(p.Photos) > 0 {
		u := s.mediaURL(p.Photos[0].ThumbKey)
		out.ThumbnailURL = &u
	}
	if p.Privileged && p.Shortfall > 0 {
		short := models.NewMoney(p.Shortfall, p.Currency)
		out.Shortfall = &short
	}
	for i, m := range p.Makers {
		skills := m.Skills
		if skills == nil {
			skills = []string{}
		}
		mr := makerResponse{ArtisanID: m.ArtisanID.String(), DisplayName: m.DisplayName, District: m.District, Skills: skills}
		if p.Privileged {
			minutes := m.LaborMinutes
			mr.LaborMinutes = &minutes
		}
		out.Makers[i] = mr
	}
	return out
}

func (s *Server) createProduct(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req productRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	p, err := s.catalog.Create(c.Request.Context(), actorOf(c), id, req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	created(c, s.toProduct(p), "products", p.ID.String())
}

func (s *Server) updateProduct(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	var req productRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	p, err := s.catalog.Update(c.Request.Context(), actorOf(c), id, req.toService())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toProduct(p))
}

func (s *Server) publishProduct(c *gin.Context) { s.lifecycle(c, s.catalog.Publish) }
func (s *Server) archiveProduct(c *gin.Context) { s.lifecycle(c, s.catalog.Archive) }

// lifecycle serves the routes that move a product (publish, archive); they take no body.
func (s *Server) lifecycle(c *gin.Context, move func(context.Context, services.Actor, uuid.UUID) (catalog.Product, error)) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := move(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toProduct(p))
}

func (s *Server) getProduct(c *gin.Context) {
	id, err := pathID(c)
	if err != nil {
		writeError(c, err)
		return
	}
	p, err := s.catalog.Get(c.Request.Context(), actorOf(c), id)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.toProduct(p))
}

func (s *Server) groupProducts(c *gin.Context) {
	pageUnder(c, func(ctx context.Context, actor services.Actor, id uuid.UUID, cursor string, limit int) ([]catalog.Product, string, error) {
		return s.catalog.GroupProducts(ctx, actor, id, c.Query("status"), cursor, limit)
	}, s.toProduct)
}

func (s *Server) listProducts(c *gin.Context) {
	limit, err := page.Limit(c.Query("limit"))
	if err != nil {
		writeError(c, err)
		return
	}
	items, next, err := s.catalog.List(c.Request.Context(), catalog.Query{Q: c.Query("q"), Category: c.Query("category"),
		Province: c.Query("province"), District: c.Query("district"), GroupID: c.Query("group_id"),
		MinPrice: c.Query("min_price"), MaxPrice: c.Query("max_price"), Currency: c.Query("currency"),
		InStock: c.Query("in_stock"), FairWage: c.Query("fair_wage"), Sort: c.Query("sort"), Cursor: c.Query("cursor"), Limit: limit})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(items, next, s.toListItem))
}

type categoryResponse struct {
	Slug         string `json:"slug"`
	Name         string `json:"name"`
	NameUr       string `json:"name_ur"`
	ProductCount int64  `json:"product_count"`
}

func (s *Server) listCategories(c *gin.Context) {
	cs, err := s.catalog.Categories(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, newList(cs, "", func(k catalog.Category) categoryResponse {
		return categoryResponse{Slug: k.Slug, Name: k.Name, NameUr: k.NameUr, ProductCount: k.ProductCount}
	}))
}
