package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"gopkg.in/yaml.v3"
)

// The Kubernetes manifests parse, and the consumer's ConfigMap holds a
// configuration "oopsflow consume" accepts (strict: no unknown keys).
func TestDeployConsumer(t *testing.T) {
	data, err := os.ReadFile("../../deploy/kubernetes/consumer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	kinds := map[string]bool{}
	for {
		var obj struct {
			Kind string            `yaml:"kind"`
			Data map[string]string `yaml:"data"`
			Spec struct {
				Template struct {
					Spec struct {
						Containers []struct {
							Image string   `yaml:"image"`
							Args  []string `yaml:"args"`
						} `yaml:"containers"`
					} `yaml:"spec"`
				} `yaml:"template"`
			} `yaml:"spec"`
		}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds[obj.Kind] = true
		switch obj.Kind {
		case "ConfigMap":
			f, err := os.CreateTemp(t.TempDir(), "*.yaml")
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(obj.Data["oopsflow.yaml"])
			f.Close()
			cfg, err := loadConsumeConfig(f.Name())
			if err != nil {
				t.Fatalf("the ConfigMap's oopsflow.yaml is not a valid consume configuration: %v", err)
			}
			if cfg.Kafka.Topic == "" || len(cfg.Kafka.Brokers) == 0 || cfg.MetricsAddr != ":9464" {
				t.Errorf("config: %+v", cfg.Kafka)
			}
		case "Deployment":
			c := obj.Spec.Template.Spec.Containers[0]
			if len(c.Args) == 0 || c.Args[0] != "consume" {
				t.Errorf("args %v", c.Args)
			}
			if c.Image == "" || bytes.HasSuffix([]byte(c.Image), []byte(":latest")) || !bytes.Contains([]byte(c.Image), []byte(":")) {
				t.Errorf("image %q must be pinned", c.Image)
			}
		}
	}
	for _, k := range []string{"ConfigMap", "Deployment", "Service"} {
		if !kinds[k] {
			t.Errorf("no %s", k)
		}
	}
}
