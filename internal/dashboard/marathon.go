package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/stratus-cloud/stratus/internal/inproc"
)

// MarathonAPI is the Marathon v2 and Mesos master API the dashboard shows,
// called in-process with its basic credentials, as any Marathon client.
type MarathonAPI struct {
	Handler            http.Handler
	Username, Password string
}

// marathonClient reads the Marathon and Mesos endpoints.
type marathonClient struct {
	hc         *http.Client
	user, pass string
}

func newMarathonClient(m *MarathonAPI) *marathonClient {
	if m == nil || m.Handler == nil {
		return nil
	}
	return &marathonClient{hc: inproc.Client(m.Handler), user: m.Username, pass: m.Password}
}

// maxMarathonBody caps one Marathon answer the dashboard reads.
const maxMarathonBody = 32 << 20

// get decodes GET path into out.
func (c *marathonClient) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://stratus.internal"+path, nil)
	if err != nil {
		return err
	}
	req.SetBasicAuth(c.user, c.pass)
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMarathonBody))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
		return fmt.Errorf("marathon GET %s: %d %s", strings.SplitN(path, "?", 2)[0], resp.StatusCode, e.Message)
	}
	return json.Unmarshal(body, out)
}

// The Marathon and Mesos objects the view shows, with the fields it reads.
type (
	mApp struct {
		ID           string    `json:"id"`
		Instances    int       `json:"instances"`
		TasksRunning int       `json:"tasksRunning"`
		TasksStaged  int       `json:"tasksStaged"`
		TasksHealthy int       `json:"tasksHealthy"`
		Version      string    `json:"version"`
		Cmd          *string   `json:"cmd"`
		Container    *mCont    `json:"container"`
		Tasks        []mTask   `json:"tasks"`
		Deployments  []mDeplID `json:"deployments"`
	}
	mCont struct {
		Docker *struct {
			Image string `json:"image"`
		} `json:"docker"`
	}
	mDeplID struct {
		ID string `json:"id"`
	}
	mTask struct {
		ID        string `json:"id"`
		AppID     string `json:"appId"`
		Host      string `json:"host"`
		Ports     []int  `json:"ports"`
		State     string `json:"state"`
		StartedAt string `json:"startedAt"`
	}
	mDeployment struct {
		ID             string   `json:"id"`
		AffectedApps   []string `json:"affectedApps"`
		CurrentStep    int      `json:"currentStep"`
		TotalSteps     int      `json:"totalSteps"`
		Version        string   `json:"version"`
		CurrentActions []struct {
			Action string `json:"action"`
			App    string `json:"app"`
		} `json:"currentActions"`
	}
	mesosState struct {
		Version string `json:"version"`
		Leader  string `json:"leader"`
		Slaves  []struct {
			ID        string         `json:"id"`
			Hostname  string         `json:"hostname"`
			Active    bool           `json:"active"`
			Resources map[string]any `json:"resources"`
			Used      map[string]any `json:"used_resources"`
		} `json:"slaves"`
		Frameworks []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Active bool   `json:"active"`
			Tasks  []any  `json:"tasks"`
		} `json:"frameworks"`
	}
)

// What reads an app's image or command.
func (a mApp) What() string {
	if a.Container != nil && a.Container.Docker != nil && a.Container.Docker.Image != "" {
		return a.Container.Docker.Image
	}
	if a.Cmd != nil {
		return *a.Cmd
	}
	return ""
}

type marathonData struct {
	Apps        []mApp
	Tasks       []mTask
	Deployments []mDeployment
	Mesos       mesosState
}

func (d *Dashboard) loadMarathon(ctx context.Context, rq viewRequest) (any, error) {
	var md marathonData
	var apps struct {
		Apps []mApp `json:"apps"`
	}
	if err := d.marathon.get(ctx, "/v2/apps?embed=apps.tasks&embed=apps.counts&embed=apps.deployments", &apps); err != nil {
		return nil, err
	}
	md.Apps = apps.Apps
	sort.Slice(md.Apps, func(i, j int) bool { return md.Apps[i].ID < md.Apps[j].ID })
	for _, a := range md.Apps {
		md.Tasks = append(md.Tasks, a.Tasks...)
	}
	sort.Slice(md.Tasks, func(i, j int) bool {
		if md.Tasks[i].AppID != md.Tasks[j].AppID {
			return md.Tasks[i].AppID < md.Tasks[j].AppID
		}
		return md.Tasks[i].ID < md.Tasks[j].ID
	})
	if err := d.marathon.get(ctx, "/v2/deployments", &md.Deployments); err != nil {
		return nil, err
	}
	if err := d.marathon.get(ctx, "/master/state", &md.Mesos); err != nil {
		return nil, err
	}
	return md, nil
}

// maxTaskOutput is how much of a task's stdout and stderr the task page
// shows: the tail.
const maxTaskOutput = 64 << 10

type taskData struct {
	ID             string
	Stdout, Stderr string
	// Truncated says the output is the tail of a longer one.
	Truncated bool
}

// loadTask reads a task's stdout and stderr through Mesos' sandbox API,
// as the Mesos UI does.
func (d *Dashboard) loadTask(ctx context.Context, rq viewRequest) (any, error) {
	id := rq.q.Get("id")
	if id == "" || len(id) > 512 {
		return nil, fmt.Errorf("no such task")
	}
	td := taskData{ID: id}
	for _, f := range []struct {
		name string
		dst  *string
	}{{"stdout", &td.Stdout}, {"stderr", &td.Stderr}} {
		sandbox := "/executors/" + id + "/runs/latest/" + f.name
		var size struct {
			Offset int64 `json:"offset"`
		}
		if err := d.marathon.get(ctx, "/files/read?"+url.Values{"path": {sandbox}, "offset": {"-1"}}.Encode(), &size); err != nil {
			return nil, fmt.Errorf("task %s: %w", id, err)
		}
		from := max(size.Offset-maxTaskOutput, 0)
		td.Truncated = td.Truncated || from > 0
		var chunk struct {
			Data string `json:"data"`
		}
		q := url.Values{"path": {sandbox}, "offset": {fmt.Sprint(from)}, "length": {fmt.Sprint(maxTaskOutput)}}
		if err := d.marathon.get(ctx, "/files/read?"+q.Encode(), &chunk); err != nil {
			return nil, fmt.Errorf("task %s: %w", id, err)
		}
		*f.dst = chunk.Data
	}
	return td, nil
}
