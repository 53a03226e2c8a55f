package catalog

import (
	"context"
	"slices"

	"github.com/google/uuid"

	"github.com/karigar/karigar/models"
	"github.com/karigar/karigar/services"
	"github.com/karigar/karigar/services/groups"
)

var productStatuses = []string{models.ProductDraft, models.ProductPublished, models.ProductNeedsRepricing, models.ProductArchived}

// GroupProducts lists a group's products of every status, newest first, to
// those who may read its books (its managers, auditors and admins), so that
// its managers find drafts and the products a change of fees or terms left
// needing a new price (status "needs_repricing", with their shortfall).
// status, when not empty, keeps one status. Errors: forbidden, not_found,
// bad_request (an unknown status or a foreign cursor).
func (s *Service) GroupProducts(ctx context.Context, actor services.Actor, groupID uuid.UUID, status, cursor string,
	limit int) ([]Product, string, error) {
	if status != "" && !slices.Contains(productStatuses, status) {
		return nil, "", services.BadRequest("status must be one of draft, published, needs_repricing, archived")
	}
	db := s.db.WithContext(ctx)
	g, err := groups.Readable(db, actor, groupID)
	if err != nil {
		return nil, "", err
	}
	scope := "group-products|" + groupID.String() + "|" + status
	q := db.Where("group_id = ?", groupID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if cursor != "" {
		var after uuid.UUID
		if err := s.cursor.Decode(cursor, scope, &after); err != nil {
			return nil, "", err
		}
		q = q.Where("id < ?", after)
	}
	var rows []models.Product
	if err := q.Order("id DESC").Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		next = s.cursor.Encode(scope, rows[len(rows)-1].ID)
	}
	out := make([]Product, len(rows))
	if len(rows) == 0 {
		return out, next, nil
	}
	ids := make([]uuid.UUID, len(rows))
	index := map[uuid.UUID]int{}
	for i, p := range rows {
		ids[i], index[p.ID] = p.ID, i
		out[i] = Product{Product: p, Group: g, Makers: []MakerView{}, Privileged: true}
	}
	makers, err := makersOf(db, ids, true)
	if err != nil {
		return nil, "", err
	}
	for _, m := range makers {
		i := index[m.productID]
		out[i].Makers = append(out[i].Makers, m.MakerView)
	}
	var photos []models.ProductImage
	if err := db.Where("product_id IN ?", ids).Order("product_id, position").Find(&photos).Error; err != nil {
		return nil, "", err
	}
	for _, ph := range photos {
		i := index[ph.ProductID]
		out[i].Photos = append(out[i].Photos, ph)
	}
	return out, next, nil
}
