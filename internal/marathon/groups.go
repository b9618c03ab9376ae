package marathon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// group is a Marathon group as GET /v2/groups shows it.
type group struct {
	ID           string    `json:"id"`
	Apps         []appView `json:"apps"`
	Groups       []*group  `json:"groups"`
	Dependencies []string  `json:"dependencies"`
	Version      string    `json:"version"`
	Pods         []any     `json:"pods"`
}

// tree builds the group id and everything below it from the apps' ids
// (s.mu held); nil when no app lies below it.
func (s *Server) tree(id string, tasks bool) *group {
	byID := map[string]*group{}
	var get func(gid string) *group
	get = func(gid string) *group {
		if g := byID[gid]; g != nil {
			return g
		}
		g := &group{ID: gid, Apps: []appView{}, Groups: []*group{}, Dependencies: []string{}, Pods: []any{}, Version: versionTime(s.start)}
		byID[gid] = g
		if gid != "/" {
			p := get(parentID(gid))
			p.Groups = append(p.Groups, g)
		}
		return g
	}
	root := get("/")
	for _, a := range s.apps() {
		g := get(parentID(a.ID))
		g.Apps = append(g.Apps, s.view(a, tasks))
		for x := g; x != nil; x = byID[parentID(x.ID)] {
			if a.Version > x.Version {
				x.Version = a.Version
			}
			if x.ID == "/" {
				break
			}
		}
	}
	for _, g := range byID {
		sort.Slice(g.Groups, func(i, j int) bool { return g.Groups[i].ID < g.Groups[j].ID })
	}
	if id == "/" {
		return root
	}
	return byID[id]
}

// groupRoute serves /v2/groups and /v2/groups/{id}.
func (s *Server) groupRoute(w http.ResponseWriter, r *http.Request) error {
	raw := "/" + r.PathValue("rest")
	raw = strings.TrimSuffix(raw, "/versions")
	id, ok := canonicalID(raw, "/")
	if !ok {
		return errNotValid(Detail{Path: "/id", Errors: []string{errIDPattern}})
	}
	switch r.Method {
	case http.MethodGet:
		s.mu.Lock()
		defer s.mu.Unlock()
		g := s.tree(id, embeds(r.URL.Query(), "tasks"))
		if g == nil {
			return errGroupNotFound(id)
		}
		if strings.HasSuffix(r.URL.Path, "/versions") {
			writeJSON(w, http.StatusOK, []string{g.Version})
			return nil
		}
		writeJSON(w, http.StatusOK, g)
		return nil
	case http.MethodPost, http.MethodPut, http.MethodPatch:
		return s.putGroup(w, r, id)
	case http.MethodDelete:
		s.mu.Lock()
		defer s.mu.Unlock()
		var changes []change
		for _, a := range s.apps() {
			if inGroup(a.ID, id) {
				changes = append(changes, change{old: a})
			}
		}
		if len(changes) == 0 && id != "/" {
			return errGroupNotFound(id)
		}
		d, err := s.deploy(r, changes, boolParam(r.URL.Query(), "force"))
		if err != nil {
			return err
		}
		w.Header().Set("Marathon-Deployment-Id", d.ID)
		writeJSON(w, http.StatusOK, map[string]string{"deploymentId": d.ID, "version": d.Version})
		return nil
	}
	return &apiError{Status: http.StatusMethodNotAllowed, Message: "HTTP method not allowed, supported methods: GET, POST, PUT, PATCH, DELETE"}
}

// groupUpdate is the body of a group change.
type groupUpdate struct {
	ID      string                       `json:"id"`
	Apps    []map[string]json.RawMessage `json:"apps"`
	Groups  []groupUpdate                `json:"groups"`
	ScaleBy *float64                     `json:"scaleBy"`
	Version *string                      `json:"version"`
}

// putGroup is POST /v2/groups (a new group with its apps and groups) and
// PUT /v2/groups/{id} (scaleBy, or the group's apps replaced).
func (s *Server) putGroup(w http.ResponseWriter, r *http.Request, pathID string) error {
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var gu groupUpdate
	if err := json.Unmarshal(body, &gu); err != nil {
		return invalidJSON(err, "")
	}
	base := pathID
	if r.Method == http.MethodPost && gu.ID != "" {
		id, ok := canonicalID(gu.ID, pathID)
		if !ok {
			return errNotValid(Detail{Path: "/id", Errors: []string{errIDPattern}})
		}
		base = id
	}
	force := boolParam(r.URL.Query(), "force")
	s.mu.Lock()
	defer s.mu.Unlock()
	existing := s.tree(base, false)
	if r.Method == http.MethodPost && existing != nil && base != "/" {
		return &apiError{Status: http.StatusConflict, Message: fmt.Sprintf("Group %s is already created. Use PUT to change this group.", base)}
	}
	var changes []change
	if gu.ScaleBy != nil {
		if existing == nil {
			return errGroupNotFound(base)
		}
		for _, a := range s.apps() {
			if inGroup(a.ID, base) {
				next := a.clone()
				next.Instances = int(float64(a.Instances)**gu.ScaleBy + 0.5)
				changes = append(changes, change{old: a, new: &next})
			}
		}
	} else {
		wanted := map[string]bool{}
		var walk func(g groupUpdate, gid, path string) error
		walk = func(g groupUpdate, gid, path string) error {
			for i, obj := range g.Apps {
				p := fmt.Sprintf("%s/apps(%d)", path, i)
				var rawID string
				if v, ok := obj["id"]; ok {
					_ = json.Unmarshal(v, &rawID)
				}
				id, ok := canonicalID(rawID, gid)
				if !ok {
					return errNotValid(Detail{Path: p + "/id", Errors: []string{errIDPattern}})
				}
				if !inGroup(id, gid) || id == gid {
					return errNotValid(Detail{Path: p + "/id", Errors: []string{fmt.Sprintf("identifier %s is not child of %s. Hint: use relative paths.", id, gid)}})
				}
				obj["id"], _ = json.Marshal(id)
				old := s.app(id)
				next, err := s.updated(r.Context(), old, id, obj)
				if err != nil {
					if ae, ok := err.(*apiError); ok {
						for j := range ae.Details {
							ae.Details[j].Path = p + ae.Details[j].Path
						}
					}
					return err
				}
				wanted[id] = true
				changes = append(changes, change{old: old, new: next})
			}
			for i, sub := range g.Groups {
				sid, ok := canonicalID(sub.ID, gid)
				if !ok {
					return errNotValid(Detail{Path: fmt.Sprintf("%s/groups(%d)/id", path, i), Errors: []string{errIDPattern}})
				}
				if err := walk(sub, sid, fmt.Sprintf("%s/groups(%d)", path, i)); err != nil {
					return err
				}
			}
			return nil
		}
		if err := walk(gu, base, ""); err != nil {
			return err
		}
		if r.Method != http.MethodPost && gu.Apps != nil {
			for _, a := range s.apps() {
				if parentID(a.ID) == base && !wanted[a.ID] {
					changes = append(changes, change{old: a})
				}
			}
		}
	}
	d, err := s.deploy(r, changes, force)
	if err != nil {
		return err
	}
	if len(d.Steps) == 0 {
		d.Version = versionTime(time.Now())
	}
	w.Header().Set("Marathon-Deployment-Id", d.ID)
	status := http.StatusOK
	if r.Method == http.MethodPost {
		status = http.StatusCreated
	}
	writeJSON(w, status, map[string]string{"deploymentId": d.ID, "version": d.Version})
	return nil
}
