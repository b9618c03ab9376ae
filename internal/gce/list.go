package gce

import (
	"encoding/base64"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// entry is one item of a list before filtering and paging.
type entry struct {
	scope   string // aggregated lists: "zones/us-central1-a", "global"
	name    string
	created string
	v       any
}

// listQuery is a list call's query: filter, order, page.
type listQuery struct {
	filter     filter
	maxResults int
	offset     int
	byCreated  bool
	desc       bool
}

const maxPageSize = 500

// query reads filter, maxResults, pageToken and orderBy.
func (c *call) query() (listQuery, error) {
	q := c.r.URL.Query()
	lq := listQuery{maxResults: maxPageSize}
	f, err := parseFilter(q.Get("filter"))
	if err != nil {
		return lq, err
	}
	lq.filter = f
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return lq, errInvalid("Invalid value for field 'maxResults': '%s'. Must be a non-negative integer.", s)
		}
		if n > maxPageSize {
			return lq, errInvalid("Invalid value for field 'maxResults': '%d'. Must be less than or equal to 500.", n)
		}
		if n > 0 {
			lq.maxResults = n
		}
	}
	if t := q.Get("pageToken"); t != "" {
		off, ok := decodePageToken(t)
		if !ok {
			return lq, errInvalid("Invalid value for field 'pageToken': '%s'. Invalid page token.", t)
		}
		lq.offset = off
	}
	switch ob := strings.TrimSpace(q.Get("orderBy")); ob {
	case "", "name", "name asc":
	case "name desc":
		lq.desc = true
	case "creationTimestamp desc":
		lq.byCreated, lq.desc = true, true
	case "creationTimestamp", "creationTimestamp asc":
		lq.byCreated = true
	default:
		return lq, errInvalid("Invalid value for field 'orderBy': '%s'. Only 'name' and 'creationTimestamp desc' are supported.", ob)
	}
	return lq, nil
}

// page token: "p1." + base64url(offset); opaque to clients.
func encodePageToken(off int) string {
	return "p1." + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off)))
}

func decodePageToken(t string) (int, bool) {
	rest, ok := strings.CutPrefix(t, "p1.")
	if !ok || len(rest) > 32 {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// apply filters, orders and pages entries; it returns the page and the
// next page token.
func (lq listQuery) apply(es []entry) ([]entry, string) {
	if lq.filter != nil {
		kept := es[:0:0]
		for _, e := range es {
			if matchEntry(lq.filter, e.v) {
				kept = append(kept, e)
			}
		}
		es = kept
	}
	sort.SliceStable(es, func(i, j int) bool {
		a, b := es[i], es[j]
		if a.scope != b.scope {
			return a.scope < b.scope
		}
		if lq.byCreated && a.created != b.created {
			return (a.created < b.created) != lq.desc
		}
		return (a.name < b.name) != lq.desc
	})
	if lq.offset >= len(es) {
		return nil, ""
	}
	es = es[lq.offset:]
	next := ""
	if len(es) > lq.maxResults {
		es = es[:lq.maxResults]
		next = encodePageToken(lq.offset + lq.maxResults)
	}
	return es, next
}

// matchEntry evaluates a filter on the JSON form of v.
func matchEntry(f filter, v any) bool {
	b, err := json.Marshal(v)
	if err != nil {
		return false
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return false
	}
	return f.match(doc)
}

// list answers a plain list of entries.
func (c *call) list(kind, selfLink string, es []entry) (any, error) {
	lq, err := c.query()
	if err != nil {
		return nil, err
	}
	page, next := lq.apply(es)
	items := make([]any, len(page))
	for i, e := range page {
		items[i] = e.v
	}
	l := &List{Kind: kind, ID: "projects/" + strings.TrimPrefix(selfLink, c.base), Items: items, NextPageToken: next, SelfLink: selfLink}
	return l, nil
}

// aggregated answers an aggregated list: entries carry their scope; every
// scope in scopes appears, an empty one with a NO_RESULTS_ON_PAGE warning.
func (c *call) aggregated(kind, plural, selfLink string, es []entry, scopes []string) (any, error) {
	lq, err := c.query()
	if err != nil {
		return nil, err
	}
	page, next := lq.apply(es)
	groups := map[string][]any{}
	for _, e := range page {
		groups[e.scope] = append(groups[e.scope], e.v)
	}
	items := make(map[string]any, len(scopes))
	for _, s := range scopes {
		if _, ok := groups[s]; !ok {
			items[s] = map[string]any{"warning": Warning{Code: "NO_RESULTS_ON_PAGE",
				Message: "There are no results for scope '" + s + "' on this page.",
				Data:    []WarningData{{Key: "scope", Value: s}}}}
		}
	}
	for s, vs := range groups {
		items[s] = map[string]any{plural: vs}
	}
	return &AggregatedList{Kind: kind, ID: "projects/" + strings.TrimPrefix(selfLink, c.base), Items: items, NextPageToken: next, SelfLink: selfLink}, nil
}
