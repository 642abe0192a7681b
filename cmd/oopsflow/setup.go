package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/oopsflow/oopsflow/dashboards"
	"github.com/oopsflow/oopsflow/processor/config"
	"github.com/oopsflow/oopsflow/processor/elastic"
)

func setupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("setup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config.Register(fs, config.Setup)
	var kb elastic.KibanaConfig
	var kbCA string
	fs.StringVar(&kb.URL, "kibana-url", os.Getenv("OOPSFLOW_KIBANA_URL"), "Kibana URL; when given, the dashboards are imported (env OOPSFLOW_KIBANA_URL)")
	fs.StringVar(&kb.Space, "kibana-space", "", "Kibana space (default space when empty)")
	fs.StringVar(&kb.APIKey, "kibana-api-key", "", "Kibana API key (better: env OOPSFLOW_KIBANA_API_KEY); default: the Elasticsearch credentials")
	fs.StringVar(&kbCA, "kibana-ca", "", "PEM file of the CA of Kibana's certificate")
	fs.BoolVar(&kb.Insecure, "kibana-insecure", false, "do not verify Kibana's TLS certificate (testing only)")
	checkOnly := fs.Bool("check-privileges", false, "only ask Elasticsearch what these credentials may do, and print what the writer (scan, consume, plugin) and setup roles lack; exit 1 if anything")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: oopsflow setup --es-url URL [--kibana-url URL]\n\nInstalls the lifecycle policy, component templates and index template for\nlogs-kernel.oops-*, and imports the Kibana dashboards. Safe to run again.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	c, err := config.Load(config.Sources{Front: config.Setup, Flags: fs})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	cfg, err := c.ElasticConfig()
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	kb.APIKey = firstNonEmpty(kb.APIKey, os.Getenv("OOPSFLOW_KIBANA_API_KEY"))
	if kb.APIKey == "" {
		kb.APIKey, kb.Username, kb.Password = cfg.APIKey, cfg.Username, cfg.Password
	}
	if kbCA != "" {
		if kb.CACert, err = os.ReadFile(kbCA); err != nil {
			return fmt.Errorf("--kibana-ca: %w", err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.Elasticsearch.Timeout)
	defer cancel()
	if *checkOnly {
		return checkPrivileges(ctx, cfg, stdout)
	}
	res, err := elastic.Setup(ctx, cfg, kb, dashboards.KernelOops)
	if res != nil {
		for _, what := range res.Installed {
			fmt.Fprintf(stdout, "installed %s\n", what)
		}
	}
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	if len(res.ComposedWith) > 0 {
		fmt.Fprintf(stdout, "index template composed with the built-in %s\n", strings.Join(res.ComposedWith, ", "))
	}
	if res.Serverless {
		fmt.Fprintf(stdout, "serverless: retention by the data stream lifecycle (no ILM)\n")
	}
	fmt.Fprintf(stdout, "Elasticsearch %s ready: documents go to %s<namespace>\n", res.Version, elastic.DataStreamPrefix)
	if res.KibanaImported {
		fmt.Fprintf(stdout, "imported %d Kibana saved objects (dashboard \"Kernel oops — fleet overview\")\n", res.SavedObjects)
	}
	return nil
}

// checkPrivileges prints what the credentials lack per role, with the role
// that would grant it.
func checkPrivileges(ctx context.Context, cfg elastic.Config, stdout io.Writer) error {
	rep, err := elastic.CheckPrivileges(ctx, cfg)
	if err != nil {
		return &exitError{code: exitError_, err: err}
	}
	fmt.Fprintf(stdout, "credentials of %s:\n", firstNonEmpty(rep.User, "(unnamed)"))
	missing := false
	for _, r := range elastic.Roles {
		if rep.OK(r.Name) {
			fmt.Fprintf(stdout, "  %-7s ok (%s)\n", r.Name, r.For)
			continue
		}
		missing = true
		fmt.Fprintf(stdout, "  %-7s MISSING %s (%s)\n", r.Name, strings.Join(rep.Missing[r.Name], ", "), r.For)
		fmt.Fprintf(stdout, "          grant: PUT _security/role/oopsflow_%s %s\n", r.Name, elastic.RoleDefinition(r))
	}
	if missing {
		return &exitError{code: exitError_}
	}
	return nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
