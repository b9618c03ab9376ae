package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/stratus-cloud/stratus/internal/compose"
	"github.com/stratus-cloud/stratus/internal/datadir"
)

// composeFlags are `stratus compose`'s global flags, docker compose's.
type composeFlags struct {
	files      []string
	project    string
	projectDir string
	profiles   []string
	envFiles   []string
	dataDir    string
}

func newComposeCmd() *cobra.Command {
	f := &composeFlags{}
	cmd := &cobra.Command{
		Use:   "compose [-f FILE]... [-p NAME] COMMAND",
		Short: "Run compose files on the cluster, with docker compose's commands",
		Long: `Run a compose file's services on the running stratus's Kubernetes API, with
docker compose's commands and flags. The file is read as docker compose reads it
(the Compose Specification, or the legacy v1 format), and validated whole before
anything is created. A project is a namespace; a service is a Deployment (a bare
Pod for restart: "no"), with Services for its name, link aliases and ports;
published ports answer on 127.0.0.1 at the published port.

Files: -f, else COMPOSE_FILE, else compose.yaml, compose.yml, docker-compose.yml
or docker-compose.yaml here or in a parent folder. Project name: -p, else
COMPOSE_PROJECT_NAME, else the file's name: key, else the folder's name.`,
		Example: `  stratus compose up -d
  stratus compose -f docker-compose.yml -p blog up -d --scale wordpress=3
  stratus compose ps
  stratus compose logs -f wordpress
  stratus compose down -v`,
	}
	// -f is compose's file before the command and logs' --follow after
	// it, so it is a flag of this command only (the root traverses).
	cmd.Flags().StringArrayVarP(&f.files, "file", "f", nil, "compose configuration file (repeatable; later files override earlier ones); give it before the command")
	pf := cmd.PersistentFlags()
	pf.StringVarP(&f.project, "project-name", "p", "", "project name")
	pf.StringVar(&f.projectDir, "project-directory", "", "alternate working directory (default: the first file's folder)")
	pf.StringArrayVar(&f.profiles, "profile", nil, "profile to enable (repeatable)")
	pf.StringArrayVar(&f.envFiles, "env-file", nil, "alternate environment file (repeatable)")
	pf.StringVar(&f.dataDir, "data-dir", defaultDataDir(), "data directory of the running stratus")
	cmd.AddCommand(composeUpCmd(f), composeDownCmd(f), composePSCmd(f), composeLogsCmd(f),
		composeScaleCmd(f), composeRestartCmd(f), composeConfigCmd(f))
	return cmd
}

func (f *composeFlags) load(ctx context.Context) (*types.Project, error) {
	return compose.Load(ctx, compose.LoadOptions{Files: f.files, ProjectName: f.project, WorkingDir: f.projectDir,
		Env: os.Environ(), EnvFiles: f.envFiles, Profiles: f.profiles})
}

// projectName is the project's name; commands that only read the cluster
// need no file when -p or COMPOSE_PROJECT_NAME names it.
func (f *composeFlags) projectName(ctx context.Context) (string, error) {
	if f.project != "" {
		return f.project, nil
	}
	if len(f.files) == 0 {
		if n := os.Getenv("COMPOSE_PROJECT_NAME"); n != "" {
			return n, nil
		}
	}
	p, err := f.load(ctx)
	if err != nil {
		return "", err
	}
	return p.Name, nil
}

func (f *composeFlags) client(cmd *cobra.Command) (*compose.Client, error) {
	st, err := datadir.ReadState(f.dataDir)
	if err != nil {
		return nil, err
	}
	if st.Kubeconfig == "" {
		return nil, errors.New("the running stratus does not serve the Kubernetes API")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", st.Kubeconfig)
	if err != nil {
		return nil, err
	}
	cfg.QPS, cfg.Burst = 200, 400
	kc, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &compose.Client{Kube: kc, Out: cmd.ErrOrStderr()}, nil
}

// onProject runs fn with a client of the running stratus and the
// project's name: the commands that act on a project already up.
func (f *composeFlags) onProject(fn func(ctx context.Context, c *compose.Client, project string, args []string, out io.Writer) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		name, err := f.projectName(cmd.Context())
		if err != nil {
			return err
		}
		c, err := f.client(cmd)
		if err != nil {
			return err
		}
		return fn(cmd.Context(), c, name, args, cmd.OutOrStdout())
	}
}

// parseScale reads SVC=N.
func parseScale(s string) (string, int, error) {
	svc, n, ok := strings.Cut(s, "=")
	v, err := strconv.Atoi(n)
	if !ok || svc == "" || err != nil || v < 0 {
		return "", 0, fmt.Errorf("invalid scale %q: want SERVICE=REPLICAS", s)
	}
	return svc, v, nil
}

func composeUpCmd(f *composeFlags) *cobra.Command {
	var detach, wait, removeOrphans bool
	var scale []string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "up [-d] [--scale SVC=N]... [SERVICE...]",
		Short: "Create and start the project's services, or bring them in step with the file",
		Long: `Create and start the project's services in dependency order (depends_on
conditions service_started, service_healthy, service_completed_successfully are
waited for). On a changed file only what changed is changed. Without -d, follows
the logs of every service until Ctrl-C, then stops the services.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			p, err := f.load(ctx)
			if err != nil {
				return err
			}
			if len(args) > 0 {
				if p, err = p.WithSelectedServices(args); err != nil {
					return err
				}
			}
			o := compose.ConvertOptions{Scale: map[string]int{}}
			for _, s := range scale {
				svc, n, err := parseScale(s)
				if err != nil {
					return err
				}
				if _, ok := p.Services[svc]; !ok {
					return fmt.Errorf("no such service: %s", svc)
				}
				o.Scale[svc] = n
			}
			objs, err := compose.Convert(p, o)
			if err != nil {
				return err
			}
			c, err := f.client(cmd)
			if err != nil {
				return err
			}
			// Named volumes are claims where the cluster has a default
			// StorageClass, looked at now.
			if o.Claims, err = c.HasDefaultStorageClass(ctx); err != nil {
				return err
			} else if o.Claims {
				if objs, err = compose.Convert(p, o); err != nil {
					return err
				}
			}
			if err := c.Up(ctx, objs, compose.UpOptions{Wait: wait, RemoveOrphans: removeOrphans, Timeout: timeout}); err != nil {
				return err
			}
			if detach {
				return nil
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Attaching to", strings.Join(p.ServiceNames(), ", "))
			lctx, stop := signal.NotifyContext(ctx, os.Interrupt)
			defer stop()
			// Logs of containers that start after the first look are
			// picked up by following again until Ctrl-C.
			for lctx.Err() == nil {
				if err := c.Logs(lctx, p.Name, compose.LogOptions{Follow: true}, cmd.OutOrStdout()); err != nil && lctx.Err() == nil {
					return err
				}
				select {
				case <-lctx.Done():
				case <-time.After(time.Second):
				}
			}
			fmt.Fprintln(cmd.ErrOrStderr(), "Gracefully stopping... (press Ctrl+C again to force)")
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			return c.Stop(sctx, p.Name)
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&detach, "detach", "d", false, "detached mode: return once created, do not follow logs")
	fl.BoolVar(&wait, "wait", false, "wait for services to be running and ready (healthy)")
	fl.BoolVar(&removeOrphans, "remove-orphans", false, "remove workloads of services not in the file")
	fl.StringArrayVar(&scale, "scale", nil, "scale SERVICE to NUM replicas (SERVICE=NUM; repeatable); overrides the file")
	fl.DurationVar(&timeout, "wait-timeout", 5*time.Minute, "how long to wait for a dependency's condition or --wait")
	return cmd
}

func composeDownCmd(f *composeFlags) *cobra.Command {
	var volumes bool
	cmd := &cobra.Command{
		Use:   "down [-v]",
		Short: "Remove everything of the project: workloads, pods, Services, configs, secrets, namespace",
		Long: `Remove everything of the project and wait until it is gone. Named volumes are
pod volumes on stratus today (PersistentVolumeClaims are not served yet), so
they go with the pods whether or not -v is given.`,
		Args: cobra.NoArgs,
		RunE: f.onProject(func(ctx context.Context, c *compose.Client, name string, _ []string, _ io.Writer) error {
			return c.Down(ctx, name, compose.DownOptions{Volumes: volumes})
		}),
	}
	cmd.Flags().BoolVarP(&volumes, "volumes", "v", false, "remove named volumes too")
	return cmd
}

func composePSCmd(f *composeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "ps",
		Short: "List the project's containers: NAME, SERVICE, STATUS, PORTS",
		Args:  cobra.NoArgs,
		RunE: f.onProject(func(ctx context.Context, c *compose.Client, name string, _ []string, out io.Writer) error {
			cs, err := c.PS(ctx, name, time.Now())
			if err != nil {
				return err
			}
			return compose.WritePS(out, cs)
		}),
	}
}

func composeLogsCmd(f *composeFlags) *cobra.Command {
	var follow bool
	cmd := &cobra.Command{
		Use:   "logs [-f] [SERVICE...]",
		Short: "Show the output of the project's containers, prefixed 'svc-1 | '",
		RunE: f.onProject(func(ctx context.Context, c *compose.Client, name string, args []string, out io.Writer) error {
			return c.Logs(ctx, name, compose.LogOptions{Follow: follow, Services: args}, out)
		}),
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow log output")
	return cmd
}

func composeScaleCmd(f *composeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "scale SERVICE=REPLICAS...",
		Short: "Set the number of replicas of services",
		Args:  cobra.MinimumNArgs(1),
		RunE: f.onProject(func(ctx context.Context, c *compose.Client, name string, args []string, _ io.Writer) error {
			for _, a := range args {
				svc, n, err := parseScale(a)
				if err != nil {
					return err
				}
				if err := c.Scale(ctx, name, svc, n); err != nil {
					return err
				}
			}
			return nil
		}),
	}
}

func composeRestartCmd(f *composeFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "restart [SERVICE...]",
		Short: "Restart services (all when none is named)",
		RunE: f.onProject(func(ctx context.Context, c *compose.Client, name string, args []string, _ io.Writer) error {
			return c.Restart(ctx, name, args, time.Now())
		}),
	}
}

func composeConfigCmd(f *composeFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Validate the file and print it in canonical form (the Compose Specification)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := f.load(cmd.Context())
			if err != nil {
				return err
			}
			// What config accepts, up accepts: the mapping is checked too.
			if _, err := compose.Convert(p, compose.ConvertOptions{}); err != nil {
				return err
			}
			var b []byte
			switch format {
			case "yaml":
				b, err = p.MarshalYAML()
			case "json":
				b, err = p.MarshalJSON()
			default:
				return fmt.Errorf("--format %q: want yaml or json", format)
			}
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "yaml", "output format: yaml or json")
	return cmd
}
