package systemtest

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/triage-pipeline/triage/libs/config"
	"github.com/triage-pipeline/triage/libs/dev/shareddata"
	"github.com/triage-pipeline/triage/services/bugfiler"
	"github.com/triage-pipeline/triage/services/enricher"
	"github.com/triage-pipeline/triage/services/intake"
	"github.com/triage-pipeline/triage/services/queue"
	"github.com/triage-pipeline/triage/services/router"
)

// parses reports whether a service's own binary accepts args, with the
// NATS URL the deployment's environment gives it.
func parses(service string, args []string) error {
	args = append([]string{"--nats-url", "nats://nats:4222"}, args...)

	switch service {
	case "intake":
		return config.Load(service, &intake.Config{}, args)
	case "enricher":
		return config.Load(service, &enricher.Config{}, args)
	case "router":
		return config.Load(service, &router.Config{}, args)
	case "queue":
		return config.Load(service, &queue.Config{}, args)
	case "bugfiler":
		return config.Load(service, &bugfiler.Config{}, args)
	}
	return errors.New("not one of the five services")
}

func readDeployment(t *testing.T, parts ...string) []byte {
	t.Helper()
	root, err := shareddata.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(append([]string{root, "deployments"}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Compose and Kubernetes run each service's own image and binary, with
// arguments that binary accepts.
func TestDeploymentsRunThePerServiceBinaries(t *testing.T) {
	var compose struct {
		Services map[string]struct {
			Build *struct {
				Dockerfile string            `yaml:"dockerfile"`
				Args       map[string]string `yaml:"args"`
			} `yaml:"build"`
			Image   string   `yaml:"image"`
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(readDeployment(t, "compose", "compose.yaml"), &compose); err != nil {
		t.Fatal(err)
	}
	type container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
	}
	k8s := map[string]container{}
	dec := yaml.NewDecoder(bytes.NewReader(readDeployment(t, "kubernetes", "triage.yaml")))
	for {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []container `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc.Kind == "Deployment" {
			for _, c := range doc.Spec.Template.Spec.Containers {
				k8s[c.Name] = c
			}
		}
	}
	dockerfile := string(readDeployment(t, "docker", "Dockerfile"))
	if !strings.Contains(dockerfile, "./services/$SERVICE/cmd/$SERVICE") {
		t.Errorf("the Dockerfile does not build ./services/$SERVICE/cmd/$SERVICE")
	}
	for _, s := range []string{"intake", "enricher", "router", "queue", "bugfiler"} {
		t.Run(s, func(t *testing.T) {
			c, ok := compose.Services[s]
			switch {
			case !ok:
				t.Errorf("compose has no %s service", s)
			case c.Build == nil || c.Build.Args["SERVICE"] != s:
				t.Errorf("compose builds %s without SERVICE=%s: %+v", s, s, c.Build)
			default:
				if err := parses(s, c.Command); err != nil {
					t.Errorf("compose's command for %s: %v", s, err)
				}
			}
			k, ok := k8s[s]
			switch {
			case !ok:
				t.Errorf("kubernetes has no %s container", s)
			case !strings.HasPrefix(k.Image, "triage-"+s+":"):
				t.Errorf("kubernetes runs %s from image %s, want triage-%s", s, k.Image, s)
			default:
				if err := parses(s, k.Args); err != nil {
					t.Errorf("kubernetes args for %s: %v", s, err)
				}
			}
		})
	}
}
