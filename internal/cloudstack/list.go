package cloudstack

import (
	"strings"

	"github.com/stratus-cloud/stratus/internal/cloud"
)

// defaultPageSize is CloudStack's default.page.size, also the largest page.
const defaultPageSize = 500

// pageRange returns the first index and the size of the page that
// page/pagesize ask for (size -1: everything).
func (rq *request) pageRange() (from, size int64, err error) {
	page, hasPage := rq.p["page"]
	sz, hasSize := rq.p["pagesize"]
	if !hasPage && !hasSize {
		return 0, defaultPageSize, nil
	}
	size = defaultPageSize
	if hasSize && sz != "" {
		if !hasPage || page == "" {
			return 0, 0, cloud.Invalid("\"page\" parameter is required when \"pagesize\" is specified")
		}
		size = rq.integer("pagesize", defaultPageSize)
		if size == -1 {
			return 0, -1, nil
		}
		if size < 1 {
			return 0, 0, rq.invalidValue("pagesize", sz)
		}
		if size > defaultPageSize {
			return 0, 0, cloud.Invalid("Page size can't exceed max allowed page size value: %d", defaultPageSize)
		}
	}
	pg := rq.integer("page", 1)
	if pg < 1 || pg > 1<<40 {
		return 0, 0, rq.invalidValue("page", page)
	}
	return (pg - 1) * size, size, nil
}

// listView filters all with keep, counts the matches and renders the page
// asked for. Call it inside Sim.Read.
func listView[T any, V any](rq *request, key string, all []T, keep func(T) bool, view func(T) V) (List, error) {
	from, size, err := rq.pageRange()
	if err != nil {
		return List{}, err
	}
	views := make([]V, 0, min(max(size, 0), int64(len(all)), defaultPageSize))
	n := int64(0)
	for _, x := range all {
		if keep != nil && !keep(x) {
			continue
		}
		if n >= from && (size < 0 || n < from+size) {
			views = append(views, view(x))
		}
		n++
	}
	return List{Key: key, Count: int(n), Items: views}, nil
}

// idFilter matches the id and ids parameters.
func (rq *request) idFilter() func(string) bool {
	id := rq.str("id")
	ids := rq.p.List("ids")
	if id == "" && len(ids) == 0 {
		return func(string) bool { return true }
	}
	return func(x string) bool {
		if id != "" && x != id {
			return false
		}
		if len(ids) > 0 {
			for _, i := range ids {
				if i == x {
					return true
				}
			}
			return false
		}
		return true
	}
}

// match is a string equality filter that passes when the parameter is absent.
func (rq *request) match(name, value string) bool {
	v := rq.str(name)
	return v == "" || v == value
}

// keyword matches the keyword parameter against names (case-insensitively).
func (rq *request) keyword(names ...string) bool {
	k := strings.ToLower(rq.str("keyword"))
	if k == "" {
		return true
	}
	for _, n := range names {
		if strings.Contains(strings.ToLower(n), k) {
			return true
		}
	}
	return false
}

// tagsMatch checks the tags[n].key/value filter against a resource's tags.
func (rq *request) tagsMatch(r cloud.Reader, id string) bool {
	want := rq.p.Map("tags")
	if len(want) == 0 {
		return true
	}
	have := r.TagsOf(id)
	for _, w := range want {
		found := false
		for _, t := range have {
			if t.Key == w["key"] && (w["value"] == "" || t.Value == w["value"]) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// ownerScope returns the scope predicate for owned resources.
func (rq *request) ownerScope(r cloud.Reader) (func(cloud.Owner) bool, error) {
	return r.ScopeFilter(rq.c, rq.scope())
}
